// Runs the real `sstpwatch` to its end, for starts that must be refused: the exit code, the output, and whether it
// had to be killed (a refusal that hangs is a failure of its own).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BIN } from '../../fixtures/service.js';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the process did not end by itself within the time allowed and was killed. */
  hung: boolean;
}

export async function runToEnd(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, SSTPWATCH_CONFIG: '', SSTPWATCH_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr, hung };
}

/** A config with one group of one server that is never reached (the start is what is tested), plus `top`. */
export function oneServerConfig(top: string): string {
  return [
    top,
    'groups:',
    '  - name: vpn-test',
    '    hostname: vpn.example.test',
    '    servers:',
    '      - { name: rras-1, url: "https://127.0.0.1:9" }',
  ].join('\n');
}

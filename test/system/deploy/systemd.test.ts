// deploy/systemd/sstpwatch.service as systemd itself reads it (systemd-analyze, offline). The unit's ExecStart
// line is run against the installed package in test/system/package/install.test.ts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const UNIT = fileURLToPath(new URL('../../../deploy/systemd/sstpwatch.service', import.meta.url));
const text = readFileSync(UNIT, 'utf8');
const settings = (key: string) => text.split('\n').filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));

async function systemdAnalyze(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code: number | string; stdout: string; stderr: string };
    if (e.code === 'ENOENT') throw new Error('systemd-analyze is missing: apt-get install systemd');
    return { code: Number(e.code), stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the systemd unit', () => {
  it('passes systemd-analyze verify without a warning', async () => {
    const { code, stdout, stderr } = await systemdAnalyze('verify', UNIT);
    expect({ code, output: stdout + stderr }).toEqual({ code: 0, output: '' });
  });

  it('runs node on the compiled sstpwatch directly (no npm or shell between systemd and the process it signals)', () => {
    expect(settings('ExecStart')).toEqual([expect.stringMatching(/^\/usr\/bin\/node \/\S+\/bin\/sstpwatch\.js serve --config \/etc\/sstpwatch\/sstpwatch\.yml$/)]);
    expect(settings('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
  });

  it("gives node a young generation of 2 x 8 MiB, as the image, the Windows service and npm start do", () => {
    expect(settings('Environment')).toEqual(['NODE_OPTIONS=--max-semi-space-size=8']);
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe('node --max-semi-space-size=8 bin/sstpwatch.js serve');
  });

  it('keeps state in /var/lib/sstpwatch and reads the token from a root-only environment file', () => {
    expect(settings('StateDirectory')).toEqual(['sstpwatch']);
    expect(settings('WorkingDirectory')).toEqual(['/var/lib/sstpwatch']);
    expect(settings('EnvironmentFile')).toEqual(['-/etc/sstpwatch/sstpwatch.env']);
    const config = readFileSync(new URL('../../../deploy/systemd/sstpwatch.yml', import.meta.url), 'utf8');
    expect(config).toMatch(/^database: \/var\/lib\/sstpwatch\//m);
  });

  it('is hardened, yet leaves V8 its writable-executable memory', async () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['CapabilityBoundingSet', ''],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'], ['SystemCallFilter', '@system-service'],
    ]) expect(settings(key!), key).toContain(value);
    expect(settings('MemoryDenyWriteExecute')).toEqual([]);
    const { stdout } = await systemdAnalyze('security', '--offline=true', '--no-pager', UNIT);
    const exposure = Number(/Overall exposure level for sstpwatch\.service: ([\d.]+)/.exec(stdout)?.[1]);
    expect(exposure, stdout).toBeLessThanOrEqual(1.5); // 1.1 "OK" when written; 10 is an unhardened unit
  });
});

// A log reader that stops reading (a stuck journald, a pipe to a process that hangs): the pipe fills up, and the
// service must go on probing, answering and stopping. A synchronous write to a full pipe blocks the process for
// good, SIGTERM included; the log is written asynchronously into a bounded buffer instead (src/log.ts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, freePort } from '../../fixtures/service.js';
import { sleep, writeFleetConfig } from './helpers.js';

/** Probes of one target so far, over every result label, from Prometheus text. */
function probesOf(metrics: string, target: string): number | undefined {
  const lines = metrics.split('\n').filter((line) => line.startsWith('sstp_probes_total{') && line.includes(`target="${target}"`));
  return lines.length === 0 ? undefined : lines.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** Failing probes logged at debug, about 300 bytes a line: 200 a second fill a 64 KiB pipe in well under a second. */
const TARGETS = 200;

describe('a log nobody reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-stuck-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('neither stalls probing and the API nor holds up shutdown', async () => {
    const port = await freePort();
    const configPath = join(dir, 'sstpwatch.yml');
    // Port 9 on loopback is closed: every probe fails at once with connect_refused and logs a debug line.
    const targets = Array.from({ length: TARGETS }, (_, i) => ({ name: `rras-${i}`, url: 'https://127.0.0.1:9' }));
    writeFleetConfig(configPath, { port, database: join(dir, 'sstpwatch.db'), targets, defaults: ['interval: 1s', 'timeout: 500ms'] });
    const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], {
      env: { ...process.env, SSTPWATCH_LOG_LEVEL: 'debug' },
      // stdout is a pipe this test never reads: once the kernel's buffer is full, every write to it would block.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
        return { status: res.status, body: await res.text() };
      };
      let probesBefore: number | undefined;
      for (const deadline = Date.now() + 60_000; probesBefore === undefined && Date.now() < deadline; ) {
        if (child.exitCode !== null) throw new Error(`sstpwatch exited with ${child.exitCode}: ${stderr}`);
        probesBefore = await get('/metrics').then((r) => probesOf(r.body, 'rras-0'), () => undefined);
        if (probesBefore === undefined) await sleep(250);
      }
      expect(probesBefore, `the service did not start: ${stderr}`).toBeDefined();
      // Several seconds of ~200 lines a second into a pipe that holds 64 KiB: it is full long before the end.
      await sleep(5_000);
      const health = await get('/healthz');
      expect(health.status).toBe(200);
      const probesAfter = probesOf((await get('/metrics')).body, 'rras-0');
      expect(probesAfter! - probesBefore!, 'rounds probed while the pipe was full').toBeGreaterThanOrEqual(3);

      const exited = once(child, 'exit');
      const stopAsked = Date.now();
      child.kill('SIGTERM');
      const [code] = (await Promise.race([exited, sleep(15_000).then(() => ['still running'])])) as [number | string];
      expect({ code, seconds: Math.round((Date.now() - stopAsked) / 1000) }).toEqual({ code: 0, seconds: expect.any(Number) });
      expect(Date.now() - stopAsked).toBeLessThan(10_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});

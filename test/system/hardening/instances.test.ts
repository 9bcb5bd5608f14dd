// Two real sstpwatch processes on one SQLite file: the second refuses to start and names the first; a first one
// killed with SIGKILL leaves nothing behind that blocks the next start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startService, type RunningService } from '../../fixtures/service.js';
import { oneServerConfig, runToEnd } from './run.js';

let dir: string;
const running: RunningService[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-instances-'));
});
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function config(name: string): Promise<{ file: string; port: number }> {
  const port = await freePort();
  const file = join(dir, name);
  writeFileSync(file, oneServerConfig([`listen: "127.0.0.1:${port}"`, `database: ${join(dir, 'shared', 'sstpwatch.db')}`].join('\n')));
  return { file, port };
}

describe('one instance per SQLite file', () => {
  it('a second instance refuses to start, naming the first (pid, host, start time); after a SIGKILL of the first, the next starts', async () => {
    const first = await config('first.yml');
    const service = await startService(first.file, first.port);
    running.push(service);

    const second = await config('second.yml');
    const refused = await runToEnd(['serve', '--config', second.file]);
    expect(refused.hung).toBe(false);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(
      new RegExp(`^sstpwatch: database ".*sstpwatch\\.db" is in use by another sstpwatch \\(pid ${service.child.pid} on .+, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); stop it first`),
    );
    expect((await service.get('/healthz')).status).toBe(200); // the first is untouched

    service.child.kill('SIGKILL');
    await service.stop();
    const next = await startService(second.file, second.port);
    running.push(next);
    expect((await next.get('/healthz')).status).toBe(200);
  }, 90_000);
});

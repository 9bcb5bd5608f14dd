// Two real sstpwatch processes with `shard: 1/2` and `shard: 2/2`, each on its own SQLite file, given the same 20
// targets: each plans, reports and exports only its own half, and together they probe every target exactly once
// per round (counted at the fake servers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inShard } from '../../../src/config/sharding.js';
import { startLeanFleet, type LeanFleet } from '../../fixtures/lean-fleet.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';
import { sleep, writeFleetConfig } from '../reliability/helpers.js';
import { appendTopLevel, countIn, doubles } from './support.js';

const TARGETS = 20;
const INTERVAL_MS = 1_000;
const WINDOW_MS = 6_000;

interface Status {
  targets: { name: string; state: string }[];
}

describe('static shards: shard 1/2 and 2/2 on their own SQLite files', () => {
  let fleet: LeanFleet | null = null;
  const services: RunningService[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-static-shards-'));

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop(5_000).catch(() => undefined)));
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('together probe every one of 20 targets exactly once per round, each only its own', { timeout: 120_000 }, async () => {
    fleet = await startLeanFleet(Array.from({ length: TARGETS }, () => 'answer' as const));
    const targets = fleet.urls.map((url, i) => ({ name: `rras-${i}`, url }));
    for (const index of [1, 2]) {
      const port = await freePort();
      const configPath = join(dir, `shard-${index}.yml`);
      writeFleetConfig(configPath, { port, database: join(dir, `shard-${index}.db`), targets, defaults: ['interval: 1s', 'timeout: 800ms', 'rise: 1', 'fall: 1'] });
      appendTopLevel(configPath, [`shard: "${index}/2"`]);
      services.push(await startService(configPath, port));
    }
    const statuses = async () => Promise.all(services.map(async (service) => (await service.get('/api/v1/status')).json<Status>()));
    await waitFor('every target of each shard up', async () => (await statuses()).every((status) => status.targets.length > 0 && status.targets.every((t) => t.state === 'up')), 30_000);

    const [first, second] = await statuses();
    const mine = (status: Status) => status.targets.map((t) => t.name).sort();
    const expected = (index: number) => targets.map((t) => t.name).filter((name) => inShard(name, { index, count: 2 })).sort();
    expect(mine(first!)).toEqual(expected(1));
    expect(mine(second!)).toEqual(expected(2));
    expect(mine(first!).length + mine(second!).length).toBe(TARGETS);
    expect(Math.min(mine(first!).length, mine(second!).length)).toBeGreaterThan(0);
    const metrics = await services[0]!.get('/metrics');
    for (const name of expected(2)) expect(metrics.body).not.toContain(`target="${name}"`);
    for (const name of expected(1)) expect(metrics.body).toContain(`target="${name}"`);

    const from = Date.now();
    await sleep(WINDOW_MS);
    const to = Date.now();
    for (let i = 0; i < TARGETS; i++) {
      const arrivals = fleet.requests(i);
      const rounds = countIn(arrivals, from, to);
      expect(rounds, `rras-${i} probed ${rounds} times in ${WINDOW_MS} ms`).toBeGreaterThanOrEqual(WINDOW_MS / INTERVAL_MS - 1);
      expect(rounds, `rras-${i} probed ${rounds} times in ${WINDOW_MS} ms`).toBeLessThanOrEqual(WINDOW_MS / INTERVAL_MS + 1);
      expect(doubles(arrivals, from, to, INTERVAL_MS / 2), `rras-${i} probed twice in one round`).toEqual([]);
    }
  });
});

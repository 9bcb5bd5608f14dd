// Two real sstpwatch processes with `site: lan` on one real PostgreSQL share 80 fake targets: each target is probed
// by exactly one of them per round (counted at the fake servers); SIGKILL one, and within the documented bound
// (lock release at once + one rebalance tick + one interval) every target is probed again, and every result
// committed before the kill is still there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLeanFleet, type LeanFleet } from '../../fixtures/lean-fleet.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../../fixtures/postgres.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';
import { sample, sleep, writeFleetConfig } from '../reliability/helpers.js';
import { appendTopLevel, countIn, doubles } from './support.js';

const TARGETS = 80;
const INTERVAL_MS = 2_000;
const REBALANCE_MS = 1_000;
const WINDOW_MS = 8_000;
/** Lock release (at once: the killed process's socket closes) + one rebalance tick + one interval, plus 2 s of slack. */
const TAKEOVER_BOUND_MS = REBALANCE_MS + INTERVAL_MS + 2_000;

interface Readiness {
  ready: boolean;
  checks: { ownership?: { ok: boolean; site: string; shards_owned: number; peers: number; housekeeper: boolean } };
}

describe('two instances of site lan on one PostgreSQL', () => {
  let server: TestPostgres | null = null;
  let fleet: LeanFleet | null = null;
  const services: RunningService[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-shared-site-'));

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop(5_000).catch(() => undefined)));
    await fleet?.close();
    server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('probe each target once per round, and the survivor takes over a killed peer\'s targets within the bound, losing no committed result', { timeout: 240_000 }, async () => {
    server = await startPostgres();
    const database = await server.createDatabase();
    fleet = await startLeanFleet(Array.from({ length: TARGETS }, () => 'answer' as const));
    const targets = fleet.urls.map((url, i) => ({ name: `rras-${i}`, url }));
    for (const name of ['a', 'b']) {
      const port = await freePort();
      const configPath = join(dir, `${name}.yml`);
      writeFleetConfig(configPath, { port, database: server.url(database), targets, defaults: ['interval: 2s', 'timeout: 1s', 'rise: 1', 'fall: 1'] });
      appendTopLevel(configPath, ['site: lan']);
      services.push(await startService(configPath, port, { PGPASSWORD: TEST_PG_PASSWORD, SSTPWATCH_REBALANCE_INTERVAL: `${REBALANCE_MS}ms` }));
    }
    const [a, b] = services as [RunningService, RunningService];
    const bStarted = Date.now();
    const ownership = async (service: RunningService) => (await service.get('/readyz')).json<Readiness>().checks.ownership;
    await waitFor('32 shards each', async () => (await ownership(a))?.shards_owned === 32 && (await ownership(b))?.shards_owned === 32, 30_000);
    console.log(`join: 32 shards each ${Date.now() - bStarted} ms after the second instance listened (ticks of ${REBALANCE_MS} ms)`);
    expect(await ownership(a)).toMatchObject({ ok: true, site: 'lan', peers: 2 });
    expect([(await ownership(a))!.housekeeper, (await ownership(b))!.housekeeper].filter(Boolean)).toHaveLength(1);
    const metrics = (await a.get('/metrics')).body;
    expect(sample(metrics, 'sstpwatch_shards_owned{site="lan"}')).toBe(32);
    expect(sample(metrics, 'sstpwatch_shard_rebalances_total{site="lan"}')).toBeGreaterThanOrEqual(1);

    // settled: every target probed once per round, by one instance
    await sleep(INTERVAL_MS);
    const from = Date.now();
    await sleep(WINDOW_MS);
    const to = Date.now();
    for (let i = 0; i < TARGETS; i++) {
      const arrivals = fleet.requests(i);
      expect(countIn(arrivals, from, to), `rras-${i}`).toBeGreaterThanOrEqual(WINDOW_MS / INTERVAL_MS - 1);
      expect(countIn(arrivals, from, to), `rras-${i}`).toBeLessThanOrEqual(WINDOW_MS / INTERVAL_MS + 1);
      expect(doubles(arrivals, from, to, INTERVAL_MS / 2), `rras-${i} probed twice in one round`).toEqual([]);
    }

    const client = await server.client(database);
    try {
      const committed = async () =>
        (await client.query<{ name: string; at: number }>('SELECT t.name, r.at FROM results r JOIN targets t USING (target_id)')).rows.map((row) => `${row.name}@${row.at}`);
      const before = await committed();
      expect(before.length).toBeGreaterThan(TARGETS);

      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      await waitFor('every target probed again after the kill', async () => fleet!.urls.every((_, i) => fleet!.requests(i).some((at) => at > killedAt)), TAKEOVER_BOUND_MS + 10_000);
      const takeoverMs = Math.max(...fleet.urls.map((_, i) => fleet!.requests(i).find((at) => at > killedAt)! - killedAt));
      console.log(`takeover: every target probed again ${takeoverMs} ms after SIGKILL (bound ${TAKEOVER_BOUND_MS} ms)`);
      expect(takeoverMs).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
      await waitFor('b owns all 64 shards', async () => (await ownership(b))?.shards_owned === 64, 10_000);
      expect(await ownership(b)).toMatchObject({ ok: true, peers: 1, housekeeper: true });

      // after the takeover, one prober again
      const after = Date.now() + INTERVAL_MS;
      await sleep(INTERVAL_MS + WINDOW_MS);
      for (let i = 0; i < TARGETS; i++) {
        expect(doubles(fleet.requests(i), after, Date.now(), INTERVAL_MS / 2), `rras-${i} probed twice in one round`).toEqual([]);
      }
      const now = new Set(await committed());
      expect(before.filter((row) => !now.has(row))).toEqual([]);
    } finally {
      await client.end();
    }
  });
});

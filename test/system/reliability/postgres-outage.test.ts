// PostgreSQL stopped for 30 s and started again under the real service probing 200 targets every second: probing,
// /api/v1/status and /metrics go on from memory, /readyz answers 503 with the reason meanwhile, no target changes
// state because of it, and once the server is back every result is written (counted against the requests the fake
// servers received).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLeanFleet, type LeanFleet } from '../../fixtures/lean-fleet.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../../fixtures/postgres.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';
import { sample, sleep, writeFleetConfig } from './helpers.js';

const TARGETS = 200;
const OUTAGE_MS = 30_000;

interface Readiness {
  ready: boolean;
  checks: { database: { ok: boolean; reason: string | null; pending_results: number } };
}
interface Status {
  targets: { name: string; state: string }[];
}

describe('PostgreSQL down for 30 s under 200 targets probed every second', () => {
  let server: TestPostgres | null = null;
  let fleet: LeanFleet | null = null;
  let service: RunningService | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-pg-outage-'));

  afterAll(async () => {
    await service?.stop(5_000).catch(() => undefined);
    await fleet?.close();
    server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no result, says why it is not ready, and changes no state', { timeout: 180_000 }, async () => {
    server = await startPostgres();
    const database = await server.createDatabase();
    fleet = await startLeanFleet(Array.from({ length: TARGETS }, () => 'answer' as const));
    const port = await freePort();
    const configPath = join(dir, 'sstpwatch.yml');
    writeFleetConfig(configPath, {
      port,
      database: server.url(database),
      targets: fleet.urls.map((url, i) => ({ name: `t${i}`, url })),
      defaults: ['interval: 1s', 'timeout: 900ms', 'rise: 1', 'fall: 5'],
    });
    service = await startService(configPath, port, { PGPASSWORD: TEST_PG_PASSWORD });
    const running = service;
    const status = async () => (await running.get('/api/v1/status')).json<Status>();
    const readiness = async () => {
      const res = await running.get('/readyz');
      return { status: res.status, body: res.json<Readiness>() };
    };
    await waitFor('every target up', async () => (await status()).targets.filter((t) => t.state === 'up').length === TARGETS, 30_000);
    await waitFor('ready', async () => (await readiness()).status === 200, 10_000);

    server.stop();
    const stoppedAt = Date.now();
    const requestsAtStop = totalRequests(fleet);
    // The lost shard-lock session may say so first; the failed write follows at the next flush.
    await waitFor('readyz 503, database not writable', async () => {
      const r = await readiness();
      return r.status === 503 && !r.body.checks.database.ok;
    }, 10_000);
    const down = await readiness();
    expect(down.body.ready).toBe(false);
    expect(down.body.checks.database.ok).toBe(false);
    expect(down.body.checks.database.reason).toMatch(/PostgreSQL: .*(ECONNREFUSED|terminat|shut|connection error)/i);
    // Meanwhile: every target still up, probed every second, /metrics answers, the queue grows.
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const states = (await status()).targets;
      expect(states.filter((t) => t.state !== 'up')).toEqual([]);
      expect((await readiness()).status).toBe(503);
      await sleep(2_000);
    }
    const metrics = (await running.get('/metrics')).body;
    const probedMeanwhile = totalRequests(fleet) - requestsAtStop;
    expect(probedMeanwhile).toBeGreaterThan(TARGETS * 25);
    expect(sample(metrics, 'sstpwatch_store_pending_results')).toBeGreaterThan(TARGETS * 20);
    expect(sample(metrics, 'sstpwatch_store_write_failures_total')).toBeGreaterThan(0);

    server.start();
    await waitFor('ready again, queue written', async () => {
      const r = await readiness();
      // The backlog (over TARGETS * 20) is written; what stays queued is at most the last second or two of results,
      // since 200 results a second keep arriving between the once-a-second flushes.
      return r.status === 200 && r.body.checks.database.pending_results < TARGETS * 2;
    }, 60_000).catch(async (err: Error) => {
      const logLines = running.output().split('\n').filter((l) => /database|PostgreSQL|write/i.test(l)).slice(-15);
      throw new Error(`${err.message}\nreadyz: ${JSON.stringify((await readiness()).body)}\n${logLines.join('\n')}`);
    });
    expect((await status()).targets.filter((t) => t.state !== 'up')).toEqual([]);

    // Stop: what is queued is written; then every request a fake server received is a stored result.
    expect(await running.stop(15_000)).toBe(0);
    service = null;
    const client = await server.client(database);
    try {
      const stored = await client.query<{ name: string; n: string }>(
        'SELECT t.name, count(r.at) AS n FROM targets t LEFT JOIN results r USING (target_id) GROUP BY t.name',
      );
      const byName = new Map(stored.rows.map((r) => [r.name, Number(r.n)]));
      const lost = fleet.urls.map((_, i) => ({ name: `t${i}`, requests: fleet!.requests(i).length, stored: byName.get(`t${i}`) ?? 0 }))
        .filter((t) => t.requests !== t.stored);
      expect(lost).toEqual([]);
      // One transition per target (unknown -> up at the start): the outage changed no state.
      const transitions = await client.query<{ name: string; to_state: string }>(
        'SELECT t.name, s.to_state FROM state_transitions s JOIN targets t USING (target_id) ORDER BY s.at',
      );
      expect(transitions.rows).toHaveLength(TARGETS);
      expect(new Set(transitions.rows.map((r) => r.to_state))).toEqual(new Set(['up']));
    } finally {
      await client.end();
    }
  });
});

function totalRequests(fleet: LeanFleet): number {
  return fleet.urls.reduce((sum, _, i) => sum + fleet.requests(i).length, 0);
}

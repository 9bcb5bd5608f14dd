// Graceful shutdown under load: 200 targets, 50 of them hanging so probes are in flight. SIGTERM lets probes
// finish for the grace period, aborts the rest, writes every result and exits 0 before the deadline; a second
// signal during shutdown exits at once (code 1) after writing what is queued.
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLeanFleet, type LeanFleet, type LeanMode } from '../../fixtures/lean-fleet.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';
import { readDb, sleep, storedResults, writeFleetConfig } from './helpers.js';

const HEALTHY = 150;
const HANGING = 50;
/** Must stay below the service's shutdown deadline (8 s, main.ts) and above its grace (5 s, service.ts). */
const HANG_TIMEOUT_S = 7;

describe('graceful shutdown under load', () => {
  const dirs: string[] = [];
  let fleet: LeanFleet | null = null;
  let service: RunningService | null = null;

  afterEach(async () => {
    await service?.stop();
    service = null;
    await fleet?.close();
    fleet = null;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the fleet and the service, and waits until hanging probes are in flight. */
  async function startLoaded(): Promise<{ dbPath: string; names: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-shutdown-'));
    dirs.push(dir);
    const modes: LeanMode[] = Array.from({ length: HEALTHY + HANGING }, (_, i) => (i < HEALTHY ? 'answer' : 'hang'));
    fleet = await startLeanFleet(modes);
    const names = modes.map((_, i) => (i < HEALTHY ? `ok-${i}` : `hang-${i}`));
    const port = await freePort();
    const dbPath = join(dir, 'sstpwatch.db');
    const configPath = join(dir, 'sstpwatch.yml');
    writeFleetConfig(configPath, {
      port,
      database: dbPath,
      targets: names.map((name, i) => ({ name, url: fleet!.urls[i]! })),
      defaults: ['interval: 1s', 'timeout: 800ms', 'rise: 1', 'fall: 2'],
      // The hanging targets' groups (10 targets each): a timeout longer than the shutdown grace.
      groupSettings: (g) => (g * 10 >= HEALTHY ? [`interval: ${HANG_TIMEOUT_S + 1}s`, `timeout: ${HANG_TIMEOUT_S}s`] : []),
    });
    service = await startService(configPath, port);
    const hangingOpen = () => names.reduce((n, _, i) => n + (i >= HEALTHY ? fleet!.open(i) : 0), 0);
    await waitFor('hanging probes in flight', async () => hangingOpen() >= 10, 20_000);
    await sleep(1_500);
    return { dbPath, names };
  }

  /** Per healthy target: requests its fake answered, and results stored; they must be equal. */
  function compareHealthy(dbPath: string, names: string[]): { requests: number; missing: string[] } {
    const stored = readDb(dbPath, storedResults);
    const missing: string[] = [];
    let requests = 0;
    for (let i = 0; i < HEALTHY; i++) {
      const answered = fleet!.requests(i).length;
      requests += answered;
      const results = stored.get(names[i]!)?.length ?? 0;
      if (results !== answered) missing.push(`${names[i]}: ${answered} requests, ${results} results`);
    }
    return { requests, missing };
  }

  it('SIGTERM aborts hanging probes after the grace, writes every result and exits 0 in time', async () => {
    const { dbPath, names } = await startLoaded();
    const child = service!.child;
    const exited = once(child, 'exit');
    const started = performance.now();
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const elapsedMs = performance.now() - started;
    const output = service!.output();
    service = null;

    expect(code, output.slice(-3000)).toBe(0);
    expect(output).toContain('probes still running at shutdown; aborting them');
    expect(output).toContain('shutdown complete');
    expect(output).not.toContain('unwritten rows');
    // Less than the hanging probes' own timeout: they were cancelled, not waited for.
    expect(elapsedMs).toBeLessThan(HANG_TIMEOUT_S * 1000);

    const { requests, missing } = compareHealthy(dbPath, names);
    expect(missing).toEqual([]);
    expect(requests).toBeGreaterThan(HEALTHY);
    // A cancelled probe says nothing about its target: no result, no state change.
    const hangingRows = readDb(dbPath, (db) =>
      db.prepare("SELECT count(*) AS n FROM results r JOIN targets t USING (target_id) WHERE t.name LIKE 'hang-%' AND r.error_kind <> 4").get(),
    ) as { n: number };
    expect(hangingRows.n).toBe(0);
    expect(readDb(dbPath, (db) => db.prepare("SELECT count(*) AS n FROM results WHERE message LIKE '%aborted%'").get())).toEqual({ n: 0 });
    const shutdownMs = /"ms":(\d+)[^\n]*shutdown complete/.exec(output)?.[1];
    console.log(`graceful shutdown: exit 0 after ${Math.round(elapsedMs)} ms (service's own count ${shutdownMs} ms), healthy requests ${requests}, all stored`);
  }, 90_000);

  it('a second SIGTERM during shutdown exits at once with code 1, after writing what is queued', async () => {
    const { dbPath, names } = await startLoaded();
    const child = service!.child;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await waitFor('shutdown begun', async () => service!.output().includes('"msg":"stopping"'), 5_000);
    await sleep(300);
    const second = performance.now();
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const elapsedMs = performance.now() - second;
    const output = service!.output();
    service = null;

    expect(code).toBe(1);
    expect(output).toContain('second stop signal during shutdown: exiting now');
    expect(output).toMatch(/"queuedWritten":true/);
    // Well before the grace would have ended.
    expect(elapsedMs).toBeLessThan(4_000);
    const { missing } = compareHealthy(dbPath, names);
    expect(missing).toEqual([]);
    expect(readDb(dbPath, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
  }, 90_000);
});

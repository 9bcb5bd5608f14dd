// Crash safety: the real service with 200 targets is SIGKILLed five times, some of them the instant the WAL
// changes (mid-write), and restarted on the same database each time. Nothing committed may be lost, the
// database stays sound, migrations are not re-run, history has gaps only around the kills, incidents stay whole.
import { watch, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLeanFleet, type LeanFleet, type LeanMode } from '../../fixtures/lean-fleet.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';
import { readDb, sleep, storedResults, writeFleetConfig } from './helpers.js';

const TARGETS = 200;
const KILLS = 5;
/** Targets 0-9 answer 503 throughout (down, one incident open across every kill); 10-19 flap at each kill. */
const ALWAYS_DOWN = 10;
const FLAPPING = 20;
const TIMEOUT_MS = 800;
/** Interval 1 s: a longer gap between two results of a target is only allowed around a kill. */
const MAX_NORMAL_GAP_MS = 2_500;

interface Kill {
  at: number;
  /** When every target had a result committed by the restarted service. */
  resumedAt: number;
  /** (target, at) of every result committed just before the kill. */
  committed: Set<string>;
  /** Each target's newest result committed just before the kill: its gap around the kill starts no earlier. */
  newest: Map<string, number>;
  midWrite: boolean;
}

describe('crash safety: SIGKILL mid-write, restart on the same database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-crash-'));
  const dbPath = join(dir, 'sstpwatch.db');
  const configPath = join(dir, 'sstpwatch.yml');
  let fleet: LeanFleet | null = null;
  let service: RunningService | null = null;

  afterAll(async () => {
    await service?.stop();
    await fleet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives five kills with nothing committed lost, a sound database and consistent incidents', async () => {
    const modes: LeanMode[] = Array.from({ length: TARGETS }, (_, i) => (i < ALWAYS_DOWN ? 'fail' : 'answer'));
    fleet = await startLeanFleet(modes);
    const names = modes.map((_, i) => `t${String(i).padStart(3, '0')}`);
    const port = await freePort();
    writeFleetConfig(configPath, {
      port,
      database: dbPath,
      targets: names.map((name, i) => ({ name, url: fleet!.urls[i]! })),
      defaults: ['interval: 1s', `timeout: ${TIMEOUT_MS}ms`, 'rise: 1', 'fall: 2'],
    });

    service = await startService(configPath, port);
    const firstOutput = () => service!.output();
    await waitFor('results of every target written', async () => readDb(dbPath, (db) => storedResults(db).size) === TARGETS, 30_000);
    expect(firstOutput()).toContain('migration applied');
    const migrations = readDb(dbPath, (db) => db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all());
    expect(migrations.length).toBeGreaterThan(0);

    const kills: Kill[] = [];
    for (let k = 0; k < KILLS; k++) {
      await sleep(1_000 + Math.random() * 1_500);
      const { committed, newest } = readDb(dbPath, (db) => {
        const keys = new Set<string>();
        const newestOf = new Map<string, number>();
        for (const [name, ats] of storedResults(db)) {
          for (const at of ats) keys.add(`${name}@${at}`);
          newestOf.set(name, ats[ats.length - 1]!);
        }
        return { committed: keys, newest: newestOf };
      });
      const midWrite = k % 2 === 0;
      if (midWrite) {
        // Kill the instant the next batch starts landing in the WAL.
        const watcher = watch(`${dbPath}-wal`);
        await Promise.race([once(watcher, 'change'), sleep(3_000)]);
        watcher.close();
      } else {
        await sleep(Math.random() * 1_000);
      }
      const child = service.child;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      const at = Date.now();
      await exited;
      service = null;

      expect(readDb(dbPath, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
      for (let i = ALWAYS_DOWN; i < FLAPPING; i++) fleet.setMode(i, k % 2 === 0 ? 'fail' : 'answer');

      service = await startService(configPath, port);
      expect(service.output()).not.toContain('migration applied');
      // Probing resumes with the first round after the restart and lands with the next batch: on a loaded machine
      // that takes seconds, so the gap allowed around this kill ends when every target has a result again.
      await waitFor(
        'a result of every target committed after the restart',
        async () => readDb(dbPath, (db) => [...storedResults(db).values()].filter((ats) => ats[ats.length - 1]! > at).length) === TARGETS,
        30_000,
      );
      kills.push({ at, resumedAt: Date.now(), committed, newest, midWrite });
    }
    for (let i = ALWAYS_DOWN; i < FLAPPING; i++) fleet.setMode(i, 'answer');
    await sleep(3_000);

    // Incidents, through the API of the last run.
    const incidentsOf = async (name: string) =>
      (await service!.get(`/api/v1/targets/${name}/incidents`)).json<{ items: { started_at: string; ended_at: string | null }[] }>().items;
    for (let i = 0; i < FLAPPING + 5; i++) {
      const items = await incidentsOf(names[i]!);
      expect(items.filter((inc) => inc.ended_at === null).length, names[i]).toBeLessThanOrEqual(1);
      for (let j = 0; j < items.length; j++) {
        const inc = items[j]!;
        if (inc.ended_at !== null) expect(Date.parse(inc.ended_at), names[i]).toBeGreaterThanOrEqual(Date.parse(inc.started_at));
        else expect(j, `${names[i]}: only the newest incident may be open`).toBe(0);
        const older = items[j + 1];
        if (older) expect(Date.parse(older.ended_at!), `${names[i]}: incidents overlap`).toBeLessThanOrEqual(Date.parse(inc.started_at));
      }
      // Down from the start and through every kill: one incident, still open.
      if (i < ALWAYS_DOWN) expect(items.map((inc) => inc.ended_at), names[i]).toEqual([null]);
    }

    expect(await service.stop()).toBe(0);
    service = null;

    // After the last, clean stop: the whole database.
    const final = readDb(dbPath, (db) => ({
      integrity: db.pragma('integrity_check', { simple: true }),
      migrations: db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all(),
      results: storedResults(db),
      transitions: db
        .prepare('SELECT t.name AS name, s.at AS at, s.from_state AS "from", s.to_state AS "to" FROM state_transitions s JOIN targets t USING (target_id) ORDER BY s.at')
        .all() as { name: string; at: number; from: string; to: string }[],
    }));
    expect(final.integrity).toBe('ok');
    expect(final.migrations).toEqual(migrations);

    // Nothing committed before a kill is missing.
    const present = new Set<string>();
    for (const [name, ats] of final.results) for (const at of ats) present.add(`${name}@${at}`);
    const lost = kills.flatMap((kill) => [...kill.committed].filter((key) => !present.has(key)));
    expect(lost).toEqual([]);

    // Every stored result answers a request its fake received (one request, at most one result), and only
    // requests cut short by a kill went without a stored result.
    let unmatched = 0;
    let requestsWithoutResult = 0;
    for (let i = 0; i < TARGETS; i++) {
      const results = final.results.get(names[i]!) ?? [];
      const requests = fleet.requests(i);
      let r = -1;
      for (const at of results) {
        let j = r + 1;
        while (j + 1 < requests.length && requests[j + 1]! <= at) j++;
        if (j >= requests.length || requests[j]! > at || at - requests[j]! > TIMEOUT_MS + 1_000) unmatched++;
        else r = j;
      }
      requestsWithoutResult += requests.length - results.length;
    }
    expect(unmatched).toBe(0);
    expect(requestsWithoutResult).toBeGreaterThanOrEqual(0);

    // History is continuous apart from the down time around each kill.
    const badGaps: string[] = [];
    for (const [name, ats] of final.results) {
      for (let j = 1; j < ats.length; j++) {
        const [from, to] = [ats[j - 1]!, ats[j]!];
        if (to - from <= MAX_NORMAL_GAP_MS) continue;
        const around = kills.some((kill) => from >= (kill.newest.get(name) ?? 0) && from <= kill.at && to > kill.at && to <= kill.resumedAt);
        if (!around) badGaps.push(`${name}: ${new Date(from).toISOString()} .. ${new Date(to).toISOString()}`);
      }
    }
    expect(badGaps).toEqual([]);

    // Each target's transitions form one chain: every one starts from the state the previous one ended in.
    const broken: string[] = [];
    const lastState = new Map<string, string>();
    for (const t of final.transitions) {
      const previous = lastState.get(t.name);
      if (previous !== undefined && previous !== t.from) broken.push(`${t.name} at ${t.at}: ${previous} then ${t.from} -> ${t.to}`);
      lastState.set(t.name, t.to);
    }
    expect(broken).toEqual([]);

    const committedChecked = kills.reduce((n, kill) => n + kill.committed.size, 0);
    console.log(
      `crash safety: kills survived ${kills.length} (${kills.filter((k) => k.midWrite).length} on a WAL change), ` +
        `committed results checked ${committedChecked}, lost ${lost.length}, results stored ${present.size}, ` +
        `requests cut short by a kill ${requestsWithoutResult}, kill to every target probed again ${kills.map((k) => k.resumedAt - k.at).join('/')} ms`,
    );
  }, 240_000);
});

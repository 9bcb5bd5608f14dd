// The store contract, part two: rollups (buckets, exact p95, bucket edges, late results), uptime (exclusions, from
// raw and from rollups) and retention in bounded housekeeping steps. Run by describeStoreContract (contract.ts).
import { describe, expect, it } from 'vitest';
import type { RetentionConfig } from '../../src/config/types.js';
import type { ErrorKind, ProbeResult } from '../../src/probe/types.js';
import type { RawSample } from '../../src/store/rollup.js';
import type { HousekeepingStep, RollupPoint, Store, UptimeExclusion } from '../../src/store/store.js';
import { probeResult } from '../fixtures/domain.js';
import { HOUR as HOUR_TABLE, MINUTES, SAMPLES, T0 as TABLE_T0 } from '../fixtures/rollup-table.js';
import { DAY, HOUR, MINUTE, T0, allHistory, target, transition, type ContractContext, type ContractStoreOptions } from './contract-support.js';

const KIND_BY_CODE: Record<number, ErrorKind> = { 0: 'ok', 4: 'timeout', 6: 'connect_refused' };
const EXCLUSION_BY_CODE: Record<number, UptimeExclusion> = { 0: null, 1: 'maintenance', 2: 'unknown' };

function result(at: number, errorKind: ErrorKind = 'ok', durationMs = 12): ProbeResult {
  return probeResult(at, errorKind === 'ok', { kind: errorKind, message: errorKind, durationMs }, durationMs);
}

function recordSample(store: Store, name: string, s: RawSample): void {
  store.record(name, 'head', result(s.at, KIND_BY_CODE[s.errorKind], s.durationUs / 1000), EXCLUSION_BY_CODE[s.excluded]);
}

/** One full housekeeping pass at `now`, step by step. */
async function housekeep(store: Store, now: number): Promise<HousekeepingStep[]> {
  const steps: HousekeepingStep[] = [];
  for (let step = await store.housekeepingStep(now); step; step = await store.housekeepingStep(now)) {
    steps.push(step);
    if (steps.length > 100_000) throw new Error('a housekeeping pass that never ends');
  }
  return steps;
}

async function allRollups(store: Store, name: string, resolution: '1m' | '1h', limit: number): Promise<{ points: RollupPoint[]; pages: number }> {
  const points: RollupPoint[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.rollups(name, resolution, { limit, cursor });
    points.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { points, pages };
}

const asPoint = (b: (typeof MINUTES)[number]): RollupPoint => ({
  at: b.bucket,
  probes: b.probes,
  failures: b.failures,
  avgMs: Math.round(b.sumUs / b.probes) / 1000,
  maxMs: b.maxUs / 1000,
  p95Ms: b.p95Us / 1000,
});

export function describeHistoryContract(context: ContractContext): void {
  async function storeWith(options: ContractStoreOptions = {}): Promise<Store> {
    const store = await context.open({ maxPending: 1_000_000, ...options });
    await store.syncTargets([target('rras-1'), target('rras-2')]);
    return store;
  }

  describe('rollups', () => {
    it('match the hand-computed table: counts, failures, mean, max and the exact nearest-rank p95 of the raw durations', async () => {
      const store = await storeWith();
      for (const s of SAMPLES) recordSample(store, 'rras-1', s);
      await store.flush();
      await housekeep(store, TABLE_T0 + HOUR + 20_000);
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toEqual([...MINUTES].reverse().map(asPoint));
      expect((await store.rollups('rras-1', '1h', { limit: 10 })).items).toEqual([asPoint(HOUR_TABLE)]);
      expect((await store.rollups('rras-2', '1m', { limit: 10 })).items).toEqual([]);
    });

    it('roll up only whole buckets, a little after they end, and never the same rows twice', async () => {
      const store = await storeWith();
      for (const s of SAMPLES) recordSample(store, 'rras-1', s);
      await store.flush();
      await housekeep(store, TABLE_T0 + 2 * MINUTE + 5_000); // 21:01 ended 5 s ago, within the grace
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items.map((p) => p.at)).toEqual([TABLE_T0]);
      await housekeep(store, TABLE_T0 + 4 * MINUTE + 11_000);
      await housekeep(store, TABLE_T0 + 4 * MINUTE + 12_000);
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toEqual([...MINUTES].reverse().map(asPoint));
      expect((await store.rollups('rras-1', '1h', { limit: 10 })).items).toEqual([]);
    });

    it('put a result at the first millisecond of a minute or an hour in that bucket, and one a millisecond earlier in the one before', async () => {
      const store = await storeWith();
      const edges = [T0 + HOUR - MINUTE - 1, T0 + HOUR - MINUTE, T0 + HOUR - 1, T0 + HOUR];
      edges.forEach((at, i) => store.record('rras-1', 'head', result(at, 'ok', 10 * (i + 1))));
      await store.flush();
      await housekeep(store, T0 + 2 * HOUR + MINUTE);
      const minutes = (await store.rollups('rras-1', '1m', { limit: 10 })).items;
      expect(minutes.map((p) => [p.at, p.probes, p.maxMs])).toEqual([
        [T0 + HOUR, 1, 40],
        [T0 + HOUR - MINUTE, 2, 30],
        [T0 + HOUR - 2 * MINUTE, 1, 10],
      ]);
      const hours = (await store.rollups('rras-1', '1h', { limit: 10 })).items;
      expect(hours.map((p) => [p.at, p.probes, p.maxMs, p.p95Ms])).toEqual([
        [T0 + HOUR, 1, 40, 40],
        [T0, 3, 30, 30],
      ]);
      // from/to select by bucket start, both inclusive
      const window = await store.rollups('rras-1', '1m', { from: T0 + HOUR - MINUTE, to: T0 + HOUR, limit: 10 });
      expect(window.items.map((p) => p.at)).toEqual([T0 + HOUR, T0 + HOUR - MINUTE]);
      expect((await store.rollups('rras-1', '1m', { from: T0 + HOUR, to: T0, limit: 10 })).items).toEqual([]);
    });

    it('roll a bucket up again when results older than the rollup mark are written late (after an outage)', async () => {
      const store = await storeWith();
      store.record('rras-1', 'head', result(T0 + 1_000, 'ok', 10));
      await store.flush();
      await housekeep(store, T0 + 2 * MINUTE);
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 1, failures: 0 }]);
      store.record('rras-1', 'head', result(T0 + 31_000, 'timeout', 5000));
      await store.flush();
      await housekeep(store, T0 + 2 * MINUTE + 1_000);
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 2, failures: 1, maxMs: 5000 }]);
      expect(await store.uptime('rras-1', T0, T0 + MINUTE)).toEqual({ probes: 2, failures: 1 });
    });

    it('roll up only the targets with results in a window, in steps that never split a target, and an empty window in one step', async () => {
      const store = await context.open({ maxPending: 1_000_000 });
      const names = Array.from({ length: 300 }, (_, i) => `rras-${i}`);
      await store.syncTargets(names.map(target));
      // 250 targets have a result every 5 minutes for an hour (3,000 rows: more than a step takes); 50 have none
      const busy = names.slice(0, 250);
      busy.forEach((name, i) => {
        for (let k = 0; k < 12; k++) store.record(name, 'head', result(T0 + k * 5 * MINUTE + (i % 5), k === 11 ? 'timeout' : 'ok', 10 + k));
      });
      await store.flush();
      const steps = (await housekeep(store, T0 + HOUR + MINUTE)).filter((s) => s.task === 'rollup_minute');
      expect(steps.length).toBeGreaterThan(1);
      expect(steps.reduce((n, s) => n + s.rows, 0)).toBe(3_000);
      for (const name of busy) {
        const minutes = (await store.rollups(name, '1m', { limit: 100 })).items;
        expect(minutes.map((p) => [p.at, p.probes, p.failures, p.maxMs])).toEqual(Array.from({ length: 12 }, (_, k) => [T0 + (11 - k) * 5 * MINUTE, 1, k === 0 ? 1 : 0, 21 - k]));
        expect((await store.rollups(name, '1h', { limit: 10 })).items).toEqual([{ at: T0, probes: 12, failures: 1, avgMs: 15.5, maxMs: 21, p95Ms: 21 }]);
      }
      for (const name of names.slice(250)) expect((await store.rollups(name, '1m', { limit: 10 })).items).toEqual([]);
      // the next minute nobody has results in: one step, no row
      expect((await housekeep(store, T0 + HOUR + 2 * MINUTE)).filter((s) => s.task === 'rollup_minute')).toMatchObject([{ rows: 0 }]);
      expect(await store.uptime('rras-7', T0, T0 + HOUR + 2 * MINUTE)).toEqual({ probes: 12, failures: 1 });
    });

    it('skip an empty gap of hours across many targets in one step, and roll up the minutes on both sides of it', async () => {
      const store = await context.open({ maxPending: 1_000_000 });
      const names = Array.from({ length: 300 }, (_, i) => `rras-${i}`);
      await store.syncTargets(names.map(target));
      // every target has a result in the first minute and one ten hours later, nothing between
      names.forEach((name, i) => {
        store.record(name, 'head', result(T0 + 1_000 + (i % 5), 'ok', 10));
        store.record(name, 'head', result(T0 + 10 * HOUR + 2_000 + (i % 5), 'timeout', 20));
      });
      await store.flush();
      const steps = (await housekeep(store, T0 + 10 * HOUR + 2 * MINUTE)).filter((s) => s.task === 'rollup_minute');
      expect(steps.reduce((n, s) => n + s.rows, 0)).toBe(600);
      // The nine empty hours (a window each) in one step; a store whose batch ended exactly at the last target of a
      // window may take one more step to find that out.
      expect(steps.filter((s) => s.rows === 0).length).toBeLessThanOrEqual(2);
      for (const name of [names[0]!, names[123]!, names[299]!]) {
        const minutes = (await store.rollups(name, '1m', { limit: 10 })).items;
        expect(minutes.map((p) => [p.at, p.probes, p.failures, p.maxMs])).toEqual([
          [T0 + 10 * HOUR, 1, 1, 20],
          [T0, 1, 0, 10],
        ]);
        expect(await store.uptime(name, T0, T0 + 10 * HOUR + MINUTE)).toEqual({ probes: 2, failures: 1 });
      }
      // caught up, the next minute is empty for every target: one step, no row
      expect((await housekeep(store, T0 + 10 * HOUR + 3 * MINUTE)).filter((s) => s.task === 'rollup_minute')).toMatchObject([{ rows: 0 }]);
      expect((await store.rollups('rras-7', '1m', { limit: 10 })).items.map((p) => p.at)).toEqual([T0 + 10 * HOUR, T0]);
    });

    it('roll up a late result of a target that had none in its minute, leaving the other targets of that minute as they were', async () => {
      const store = await storeWith();
      store.record('rras-1', 'head', result(T0 + 1_000, 'ok', 10));
      await store.flush();
      await housekeep(store, T0 + 2 * MINUTE);
      store.record('rras-2', 'head', result(T0 + 31_000, 'timeout', 5000));
      await store.flush();
      await housekeep(store, T0 + 2 * MINUTE + 1_000);
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toEqual([{ at: T0, probes: 1, failures: 0, avgMs: 10, maxMs: 10, p95Ms: 10 }]);
      expect((await store.rollups('rras-2', '1m', { limit: 10 })).items).toEqual([{ at: T0, probes: 1, failures: 1, avgMs: 5000, maxMs: 5000, p95Ms: 5000 }]);
      expect(await store.uptime('rras-2', T0, T0 + 2 * MINUTE)).toEqual({ probes: 1, failures: 1 });
    });

    it.each([
      ['1m', 7],
      ['1h', 5],
    ] as const)('walk every %s bucket newest first, %i at a time, without gaps or repeats', async (resolution, limit) => {
      const store = await storeWith();
      for (let at = T0; at < T0 + DAY; at += 30_000) store.record('rras-1', 'head', result(at, at % 7 === 0 ? 'timeout' : 'ok'));
      await store.flush();
      await housekeep(store, T0 + DAY + MINUTE);
      const bucketMs = resolution === '1m' ? MINUTE : HOUR;
      const expected = Array.from({ length: DAY / bucketMs }, (_, i) => T0 + DAY - (i + 1) * bucketMs);
      const { points, pages } = await allRollups(store, 'rras-1', resolution, limit);
      expect(points.map((p) => p.at)).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
      expect(points.reduce((n, p) => n + p.probes, 0)).toBe(2880);
    });
  });

  describe('uptime', () => {
    it('leaves out results in maintenance or without a verdict, and answers the same from raw, from rollups, and once raw is gone', async () => {
      const retention: RetentionConfig = { rawMs: 2 * HOUR, minuteMs: 40 * DAY, hourMs: 100 * DAY };
      const store = await storeWith({ retention });
      const now = T0 + 3 * DAY + 17 * MINUTE + 3_000;
      const from = now - 2 * DAY - 7 * MINUTE - 11_111; // mid-minute, mid-hour
      let expected = { probes: 0, failures: 0 };
      for (let at = T0; at < now; at += MINUTE) {
        const hour = Math.floor((at - T0) / HOUR);
        const exclusion: UptimeExclusion = hour % 24 === 5 ? 'maintenance' : hour === 0 ? 'unknown' : null;
        const kind: ErrorKind = (at / MINUTE) % 10 === 0 ? 'timeout' : 'ok';
        store.record('rras-1', 'head', result(at, kind), exclusion);
        if (at >= from && exclusion === null) expected = { probes: expected.probes + 1, failures: expected.failures + (kind === 'ok' ? 0 : 1) };
      }
      await store.flush();
      expect(await store.uptime('rras-1', from, now + 1)).toEqual(expected); // all raw: nothing rolled up yet
      const steps = await housekeep(store, now);
      expect(steps.some((s) => s.task === 'prune_raw' && s.rows > 0)).toBe(true);
      expect((await store.history('rras-1', { to: now - 3 * HOUR, limit: 1 })).items).toEqual([]); // raw is gone...
      expect(await store.uptime('rras-1', from, now + 1)).toEqual(expected); // ...and the answer is the same
      expect(await store.uptime('rras-2', from, now + 1)).toEqual({ probes: 0, failures: 0 });
    });

    it('counts [from, to): a result at to is not in it, and an empty or reversed range counts nothing', async () => {
      const store = await storeWith();
      store.record('rras-1', 'head', result(T0, 'timeout'));
      store.record('rras-1', 'head', result(T0 + MINUTE));
      await store.flush();
      expect(await store.uptime('rras-1', T0, T0 + MINUTE)).toEqual({ probes: 1, failures: 1 });
      expect(await store.uptime('rras-1', T0, T0 + MINUTE + 1)).toEqual({ probes: 2, failures: 1 });
      expect(await store.uptime('rras-1', T0 + MINUTE, T0 + MINUTE)).toEqual({ probes: 0, failures: 0 });
      expect(await store.uptime('rras-1', T0 + HOUR, T0)).toEqual({ probes: 0, failures: 0 });
    });
  });

  describe('retention', () => {
    const retention: RetentionConfig = { rawMs: 2 * HOUR, minuteMs: DAY, hourMs: 3 * DAY };

    it('deletes raw results, minute and hour rollups and transitions older than their periods in bounded steps, and keeps answering uptime from rollups', async () => {
      const store = await storeWith({ retention });
      const now = T0 + 4 * DAY + 30 * MINUTE + 5_000;
      for (const name of ['rras-1', 'rras-2']) {
        for (let at = T0; at < now; at += 30_000) store.record(name, 'head', result(at, at % HOUR === 0 ? 'timeout' : 'ok'));
        for (let day = 0; day < 4; day++) {
          store.recordTransition(transition(T0 + day * DAY + 1, { target: name }));
          store.recordTransition(transition(T0 + day * DAY + 2, { target: name, from: 'down', to: 'up', cause: 'ok', message: '' }));
        }
      }
      await store.flush();
      const uptimeBefore = await store.uptime('rras-1', T0 + 2 * DAY, now);
      const steps = await housekeep(store, now);

      const raw = (await allHistory(store, 'rras-1', { limit: 10_000 })).flat();
      expect(raw).toHaveLength(Math.ceil(retention.rawMs / 30_000)); // the last 2 h, every 30 s
      expect(raw.at(-1)!.at).toBe(T0 + 3 * DAY + 22 * HOUR + 30 * MINUTE + 30_000); // the first at or after now - 2 h
      // minute rollups go a whole hour at a time: kept from the hour of now - 1 d (3 d 00:00) up to the last minute
      // rolled up (4 d 00:28, the last that ended more than the 10 s grace ago)
      const minutes = (await allRollups(store, 'rras-1', '1m', 10_000)).points;
      expect(minutes).toHaveLength(24 * 60 + 29);
      expect(minutes.at(-1)!.at).toBe(T0 + 3 * DAY);
      // hours from 1 d 01:00 (the first at or after now - 3 d) to 3 d 23:00 (the last whole hour)
      const hours = (await allRollups(store, 'rras-1', '1h', 10_000)).points;
      expect(hours.map((p) => p.at)).toEqual(Array.from({ length: 3 * 24 - 1 }, (_, i) => T0 + 4 * DAY - (i + 1) * HOUR));
      // transitions: those of days 2 and 3 (day 1's came just before now - 3 d)
      expect(await store.transitionsBetween('rras-1', T0, now)).toHaveLength(4);
      expect((await store.transitionsBetween('rras-1', T0, now))[0]!.at).toBe(T0 + 2 * DAY + 1);
      // uptime of the last two days reads the rollups now, with the same answer
      expect(await store.uptime('rras-1', T0 + 2 * DAY, now)).toEqual(uptimeBefore);
      // every step is bounded, and a second pass has nothing left to delete
      for (const step of steps.filter((s) => s.task.startsWith('prune'))) expect(step.rows).toBeLessThanOrEqual(2_000);
      expect(steps.filter((s) => s.task === 'prune_raw').length).toBeGreaterThan(2);
      expect((await housekeep(store, now)).filter((s) => s.task.startsWith('prune')).every((s) => s.rows === 0)).toBe(true);
    });

    it('keeps the newest transition of a quiet target whatever its age (the state to restore)', async () => {
      const store = await storeWith({ retention });
      store.recordTransition(transition(T0, { from: 'unknown', to: 'up', cause: 'ok', message: null }));
      store.recordTransition(transition(T0 + 1));
      await store.flush();
      await housekeep(store, T0 + 30 * DAY);
      expect(await store.lastTransition('rras-1')).toEqual(transition(T0 + 1));
      expect(await store.transitionsBetween('rras-1', T0, T0 + 30 * DAY)).toEqual([transition(T0 + 1)]);
    });
  });

  describe('a pass with nothing old enough to go', () => {
    const retention: RetentionConfig = { rawMs: 2 * HOUR, minuteMs: 40 * DAY, hourMs: 3 * DAY };
    const prunes = (steps: HousekeepingStep[]) => steps.filter((s) => s.task.startsWith('prune'));

    it('skips every prune task without asking a target, until a late result older than the cutoff is written: that one is rolled up and pruned on the next pass', async () => {
      const store = await storeWith({ retention });
      for (const name of ['rras-1', 'rras-2']) for (let at = T0; at < T0 + HOUR; at += 30_000) store.record(name, 'head', result(at));
      await store.flush();
      const now = T0 + HOUR + MINUTE;
      await housekeep(store, now); // the first pass walks every target and learns that nothing is older than T0
      expect(prunes(await housekeep(store, now + 15_000))).toEqual([]);
      expect(prunes(await housekeep(store, now + 30_000))).toEqual([]);

      // after an outage: a result from before the raw retention, yet after what raw pruning has deleted so far
      const late = now - retention.rawMs + 5_000;
      store.record('rras-2', 'head', result(late, 'timeout'));
      await store.flush();
      const steps = await housekeep(store, now + 45_000); // its cutoff is 40 s past the late result
      expect(prunes(steps).filter((s) => s.task === 'prune_raw').reduce((sum, s) => sum + s.rows, 0)).toBe(1);
      expect((await allHistory(store, 'rras-2', { limit: 1_000 })).flat().map((r) => r.at)).not.toContain(late);
      expect((await allHistory(store, 'rras-1', { limit: 1_000 })).flat()).toHaveLength(120);
      const minute = (await allRollups(store, 'rras-2', '1m', 1_000)).points.find((p) => p.at === late - 5_000);
      expect(minute).toMatchObject({ probes: 1, failures: 1 });
      // a walk that deleted rows may take one more to learn how old what it left is; then passes skip again
      expect(prunes(await housekeep(store, now + 60_000)).every((s) => s.rows === 0)).toBe(true);
      expect(prunes(await housekeep(store, now + 75_000))).toEqual([]);
    });

    it('lets an old transition go on the pass after a newer one is written, having skipped it while it was the newest', async () => {
      const store = await storeWith({ retention });
      store.recordTransition(transition(T0));
      await store.flush();
      await housekeep(store, T0 + 30 * DAY);
      expect(prunes(await housekeep(store, T0 + 30 * DAY + 15_000))).toEqual([]);
      store.recordTransition(transition(T0 + 30 * DAY + 20_000, { from: 'down', to: 'up', cause: 'ok', message: null }));
      await store.flush();
      const steps = await housekeep(store, T0 + 30 * DAY + 30_000);
      expect(steps.filter((s) => s.task === 'prune_transitions').reduce((sum, s) => sum + s.rows, 0)).toBe(1);
      expect(await store.transitionsBetween('rras-1', T0, T0 + 31 * DAY)).toHaveLength(1);
    });

    it('walks every target again once an hour whatever it knows, for rows it did not see written (another instance\'s)', async () => {
      const store = await storeWith({ retention });
      store.record('rras-1', 'head', result(T0));
      await store.flush();
      await housekeep(store, T0 + MINUTE);
      expect(prunes(await housekeep(store, T0 + 30 * MINUTE))).toEqual([]);
      expect(prunes(await housekeep(store, T0 + MINUTE + HOUR)).map((s) => s.task)).toEqual(
        expect.arrayContaining(['prune_raw', 'prune_minute', 'prune_hour', 'prune_transitions', 'prune_sstp_checks']),
      );
    });
  });

  describe('housekeeping', () => {
    it('ends a pass with null after a bounded number of steps, and the next call starts a new pass', async () => {
      let now = T0;
      const store = await storeWith({ now: () => now });
      expect((await housekeep(store, now)).length).toBeLessThan(10); // an empty store: nothing to do
      for (let at = T0; at < T0 + 3 * HOUR; at += 10_000) store.record('rras-1', 'head', result(at));
      await store.flush();
      now = T0 + 3 * HOUR + MINUTE;
      const first = await housekeep(store, now);
      expect(first.filter((s) => s.task === 'rollup_minute').length).toBeGreaterThanOrEqual(3); // an hour of minutes a step
      expect(first.filter((s) => s.task === 'rollup_hour').length).toBeGreaterThanOrEqual(1);
      for (const step of first) expect(step.ms).toBeGreaterThanOrEqual(0);
      const second = await housekeep(store, now);
      expect(second.filter((s) => s.task.startsWith('rollup')).length).toBe(0); // nothing new to roll up
    });

    it('continues the rollups of a minute whose results were written on both sides of a restart', async () => {
      if (!context.reopen) return; // a store that keeps nothing has no restart to survive
      let store = await storeWith();
      for (const s of SAMPLES.filter((s) => s.at < TABLE_T0 + 30_000)) recordSample(store, 'rras-1', s);
      await store.flush();
      await housekeep(store, TABLE_T0 + 30_000); // the minute 21:00 is not over: nothing of it is rolled up yet
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toEqual([]);
      await store.close();
      store = await context.reopen(store, { maxPending: 1_000_000 });
      for (const s of SAMPLES.filter((s) => s.at >= TABLE_T0 + 30_000)) recordSample(store, 'rras-1', s);
      await store.flush();
      await housekeep(store, TABLE_T0 + HOUR + 20_000);
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items).toEqual([...MINUTES].reverse().map(asPoint));
      expect((await store.rollups('rras-1', '1h', { limit: 10 })).items).toEqual([asPoint(HOUR_TABLE)]);
    });
  });
}

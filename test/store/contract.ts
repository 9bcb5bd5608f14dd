// The store contract: what every Store (SQLite, in memory, PostgreSQL) answers, read only through the Store
// interface. Each store's test file runs it with a way to open an empty store (and, for a store that keeps its
// data, to open the same data again after close). Rollups, uptime and retention are in contract-history.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { hashWarning } from '../../src/probe/sstp-frames.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { encodeCursor } from '../../src/store/cursor.js';
import { InvalidCursorError, TargetNotFoundError, type Store } from '../../src/store/store.js';
import { describeHistoryContract } from './contract-history.js';
import { describeRecordedStatesContract } from './contract-recorded-states.js';
import { describeSitesContract } from './contract-sites.js';
import {
  DAY,
  HOUR,
  MINUTE,
  SHA,
  T0,
  allHistory,
  failedResult,
  okResult,
  quiet,
  stored,
  target,
  transition,
  type ContractContext,
  type ContractStoreOptions,
  type StoreUnderTest,
} from './contract-support.js';

export type { StoreUnderTest } from './contract-support.js';

/** Runs the whole store contract against one kind of store. */
export function describeStoreContract(name: string, subject: StoreUnderTest): void {
  const opened: Store[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0).reverse()) await store.close();
  });
  const context: ContractContext = {
    async open(options = {}) {
      const store = await subject.open({ log: quiet, ...options });
      opened.push(store);
      return store;
    },
    reopen: subject.reopen
      ? async (closed, options = {}) => {
          const store = await subject.reopen!(closed, { log: quiet, ...options });
          opened.push(store);
          return store;
        }
      : null,
    openBeside: subject.openBeside
      ? async (open, options = {}) => {
          const store = await subject.openBeside!(open, { log: quiet, ...options });
          opened.push(store);
          return store;
        }
      : null,
  };

  describe(`the ${name} store contract`, () => {
    describeTargetsAndWrites(context);
    describeHistoryPaging(context);
    describeCheckKinds(context);
    describeTransitionsAndMaintenance(context);
    describeRecordedStatesContract(context);
    describeHistoryContract(context);
    describeSitesContract(context);
  });
}

async function storeWith(context: ContractContext, names: string[] = ['rras-1'], options: ContractStoreOptions = {}): Promise<Store> {
  const store = await context.open(options);
  await store.syncTargets(names.map(target));
  return store;
}

function describeTargetsAndWrites(context: ContractContext): void {
  describe('targets', () => {
    it('rejects reads of a target it does not know with TargetNotFoundError, and answers null where there is nothing', async () => {
      const store = await storeWith(context);
      await expect(store.history('ghost', { limit: 10 })).rejects.toThrow(TargetNotFoundError);
      await expect(store.rollups('ghost', '1m', { limit: 10 })).rejects.toThrow(TargetNotFoundError);
      await expect(store.uptime('ghost', T0, T0 + HOUR)).rejects.toThrow(TargetNotFoundError);
      await expect(store.transitionsBetween('ghost', T0, T0 + HOUR)).rejects.toThrow(TargetNotFoundError);
      await expect(store.setMaintenance('ghost', { until: T0 + HOUR, reason: 'x' })).rejects.toThrow(TargetNotFoundError);
      expect(await store.lastResult('ghost', 'head')).toBeNull();
      expect(await store.lastResult('ghost', 'sstp')).toBeNull();
      expect(await store.lastTransition('ghost')).toBeNull();
      expect(await store.maintenance('ghost')).toBeNull();
    });

    it('drops results and transitions for a target it does not know, and does not keep them for when it learns it', async () => {
      const store = await storeWith(context);
      expect(() => store.record('ghost', 'head', okResult(T0))).not.toThrow();
      expect(() => store.recordTransition(transition(T0, { target: 'ghost' }))).not.toThrow();
      await store.flush();
      await store.syncTargets([target('rras-1'), target('ghost')]);
      await store.flush();
      expect((await store.history('ghost', { limit: 10 })).items).toEqual([]);
      expect(await store.lastTransition('ghost')).toBeNull();
      expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0, dropped: 0 });
    });

    it('keeps the history of a target no longer configured', async () => {
      const store = await storeWith(context, ['rras-1', 'rras-2']);
      store.record('rras-2', 'head', okResult(T0));
      await store.flush();
      await store.syncTargets([target('rras-1')]);
      expect((await store.history('rras-2', { limit: 10 })).items).toEqual([stored(okResult(T0))]);
    });
  });

  describe('writes', () => {
    it('shows queued results only after flush(), with writeHealth() counting them meanwhile', async () => {
      const store = await storeWith(context);
      store.record('rras-1', 'head', okResult(T0));
      store.record('rras-1', 'head', failedResult(T0 + 30_000));
      expect((await store.history('rras-1', { limit: 10 })).items).toEqual([]);
      expect(store.writeHealth()).toEqual({ ok: true, reason: null, pending: 2, dropped: 0, failedWrites: 0 });
      await store.flush();
      expect(store.writeHealth()).toEqual({ ok: true, reason: null, pending: 0, dropped: 0, failedWrites: 0 });
      expect((await store.history('rras-1', { limit: 10 })).items).toHaveLength(2);
      await expect(store.flush()).resolves.toBeUndefined(); // nothing queued
    });

    it('gives back every field of ok and failed results, durations to the microsecond', async () => {
      const store = await storeWith(context);
      const results = [
        okResult(T0),
        okResult(T0 + 1_000, { httpVersion: '2', tlsVersion: 'TLSv1.2', message: 'HTTP/1.1 401 Something else', durationMs: 0.001 }),
        okResult(T0 + 2_000, { httpVersion: 'HTTP/3', tlsVersion: 'TLSv9', message: '', statusCode: 418, phasesMs: {}, certificateSha256: 'CD'.repeat(32) }),
        failedResult(T0 + 3_000),
        failedResult(T0 + 4_000, { errorKind: 'timeout', message: '', phasesMs: {} }),
        failedResult(T0 + 5_000, { errorKind: 'cert_expired', message: 'certificate has expired', tlsVersion: 'TLSv1.3', certificateSha256: SHA }),
      ];
      for (const r of results) store.record('rras-1', 'head', r);
      await store.flush();
      expect((await store.history('rras-1', { limit: 10 })).items).toEqual(results.map(stored).reverse());
      expect(await store.lastResult('rras-1', 'head')).toEqual(stored(results.at(-1)!));
    });

    it('keeps two results of one target in the same millisecond, the later one a millisecond later', async () => {
      const store = await storeWith(context, ['rras-1', 'rras-2']);
      store.record('rras-1', 'head', okResult(T0));
      await store.flush();
      store.record('rras-1', 'head', failedResult(T0));
      store.record('rras-1', 'head', failedResult(T0, { message: 'second' }));
      store.record('rras-2', 'head', okResult(T0)); // another target's millisecond is its own
      await store.flush();
      expect((await store.history('rras-1', { limit: 10 })).items.map((r) => [r.at, r.message])).toEqual([
        [T0 + 2, 'second'],
        [T0 + 1, 'connect ECONNREFUSED 127.0.0.1:443'],
        [T0, 'HTTP/1.1 401 Unauthorized'],
      ]);
      expect((await store.history('rras-2', { limit: 10 })).items.map((r) => r.at)).toEqual([T0]);
      expect(store.writeHealth().ok).toBe(true);
    });

    it('drops the oldest queued results beyond maxPending and counts them', async () => {
      const store = await storeWith(context, ['rras-1'], { maxPending: 3 });
      for (let i = 0; i < 5; i++) store.record('rras-1', 'head', okResult(T0 + i * 1_000));
      expect(store.writeHealth()).toMatchObject({ pending: 3, dropped: 2 });
      await store.flush();
      expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0, dropped: 2 });
      expect((await store.history('rras-1', { limit: 10 })).items.map((r) => r.at)).toEqual([T0 + 4_000, T0 + 3_000, T0 + 2_000]);
    });

    it('never throws from record() and recordTransition() for malformed input, and keeps the good rows beside it', async () => {
      const store = await storeWith(context, ['rras-1'], { now: () => T0 + 2_000 });
      expect(() => store.record('rras-1', 'head', okResult(T0, { errorKind: 'bogus' as never }))).not.toThrow();
      // a time or a duration that is not a number: stored at the time it was recorded, taking no time
      expect(() => store.record('rras-1', 'head', okResult(Number.NaN, { durationMs: Number.POSITIVE_INFINITY }))).not.toThrow();
      expect(() => store.record('rras-1', 'sstp', okResult(T0, { errorKind: 'bogus' as never }))).not.toThrow();
      expect(() => store.recordTransition(transition(T0, { to: 'sideways' as never }))).not.toThrow();
      store.record('rras-1', 'head', okResult(T0 + 1_000));
      store.recordTransition(transition(T0 + 1_000));
      await store.flush();
      expect((await store.history('rras-1', { limit: 10 })).items.map((r) => [r.at, r.durationMs])).toEqual([
        [T0 + 2_000, 0],
        [T0 + 1_000, 12.345],
      ]);
      expect(await store.transitionsBetween('rras-1', T0, T0 + HOUR)).toEqual([transition(T0 + 1_000)]);
      expect(await store.lastResult('rras-1', 'sstp')).toBeNull();
      expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });
    });

    it('writes what is queued on close(), closes once however often it is called, and never throws afterwards', async () => {
      const store = await storeWith(context);
      store.record('rras-1', 'head', okResult(T0));
      store.recordTransition(transition(T0));
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
      expect(() => store.record('rras-1', 'head', okResult(T0 + 1))).not.toThrow();
      expect(() => store.recordTransition(transition(T0 + 1))).not.toThrow();
      await expect(store.flush()).resolves.toBeUndefined();
      expect(await store.housekeepingStep(T0 + DAY)).toBeNull();
      expect(store.writeHealth().pending).toBe(0);
      if (!context.reopen) return;
      const reopened = await context.reopen(store);
      expect(await reopened.lastResult('rras-1', 'head')).toEqual(stored(okResult(T0)));
      expect(await reopened.lastTransition('rras-1')).toEqual(transition(T0));
    });
  });
}

function describeHistoryPaging(context: ContractContext): void {
  describe('history paging', () => {
    /** 100 results of rras-1 a second apart from T0 (every 10th failed), and 100 of rras-2 between them. */
    async function storeWith100Results(): Promise<Store> {
      const store = await storeWith(context, ['rras-1', 'rras-2']);
      for (let i = 0; i < 100; i++) {
        store.record('rras-1', 'head', i % 10 === 0 ? failedResult(T0 + i * 1_000) : okResult(T0 + i * 1_000));
        store.record('rras-2', 'head', okResult(T0 + i * 1_000 + 500));
      }
      await store.flush();
      return store;
    }
    const secondsDown = (from: number, count: number) => Array.from({ length: count }, (_, i) => from - i * 1_000);

    it('walks every result newest first with the cursor, without gaps or repeats, and gives no cursor after the last page', async () => {
      const store = await storeWith100Results();
      const pages = await allHistory(store, 'rras-1', { limit: 7 });
      expect(pages).toHaveLength(Math.ceil(100 / 7));
      expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
      expect(pages.flat().map((r) => r.at)).toEqual(secondsDown(T0 + 99_000, 100));
      expect((await store.history('rras-1', { limit: 100 })).nextCursor).toBeNull(); // exactly full: no cursor
      expect((await store.history('rras-1', { limit: 10_000 })).items).toHaveLength(100);
    });

    it('keeps to from and to (both inclusive) across pages, and answers an empty page when from is after to', async () => {
      const store = await storeWith100Results();
      const from = T0 + 10_000;
      const to = T0 + 29_000;
      expect((await allHistory(store, 'rras-1', { from, to, limit: 3 })).flat().map((r) => r.at)).toEqual(secondsDown(to, 20));
      expect(await store.history('rras-1', { from: to, to: from, limit: 7 })).toEqual({ items: [], nextCursor: null });
      expect(await store.history('rras-1', { from: T0 + HOUR, limit: 7 })).toEqual({ items: [], nextCursor: null });
    });

    it('neither skips nor repeats a row when results are written between two pages', async () => {
      const store = await storeWith100Results();
      const first = await store.history('rras-1', { limit: 7 });
      store.record('rras-1', 'head', okResult(T0 + HOUR));
      store.record('rras-1', 'head', okResult(first.items.at(-1)!.at - 500)); // late, between the pages
      await store.flush();
      const second = await store.history('rras-1', { limit: 7, cursor: first.nextCursor! });
      expect(second.items.map((r) => r.at)).toEqual([T0 + 92_500, ...secondsDown(T0 + 92_000, 6)]);
    });

    it('refuses a cursor it did not make, or one of another resolution, with InvalidCursorError', async () => {
      const store = await storeWith100Results();
      const raw = (await store.history('rras-1', { limit: 7 })).nextCursor!;
      const bad: unknown[] = [
        'garbage!',
        '',
        'abc',
        Buffer.from('raw:12x').toString('base64url'),
        Buffer.from('raw:0012').toString('base64url'),
        Buffer.from('raw:99999999999999999').toString('base64url'),
        Buffer.from(' raw:12').toString('base64url'),
        `${raw}=`,
        raw.replace(/.$/, (c) => String.fromCharCode(c.charCodeAt(0) + 1)),
        'x'.repeat(1000),
        42,
        null,
        { at: T0 },
        encodeCursor(T0, '1m'),
      ];
      for (const cursor of bad) {
        await expect(store.history('rras-1', { limit: 7, cursor: cursor as string }), String(cursor)).rejects.toThrow(InvalidCursorError);
      }
      await expect(store.rollups('rras-1', '1m', { limit: 7, cursor: raw })).rejects.toThrow(InvalidCursorError);
      await expect(store.rollups('rras-1', '1h', { limit: 7, cursor: encodeCursor(T0, '1m') })).rejects.toThrow(InvalidCursorError);
    });

    it('refuses a limit outside 1..10000 or not a whole number', async () => {
      const store = await storeWith100Results();
      for (const limit of [0, -1, 10_001, 2.5, Number.NaN]) {
        await expect(store.history('rras-1', { limit }), String(limit)).rejects.toThrow(RangeError);
        await expect(store.rollups('rras-1', '1h', { limit }), String(limit)).rejects.toThrow(RangeError);
      }
    });
  });
}

/** A deep SSTP check that went all the way: accepted, crypto binding offered, disconnected cleanly. */
function deepCheck(at: number): ProbeResult {
  return {
    ...okResult(at, { statusCode: 200, message: 'call accepted', certificateSha256: null }),
    phasesMs: { dns: 0.1, connect: 0.4, tls: 6.2, processing: 3.1 },
    durationMs: 20.5,
    sstp: {
      stageReached: 'disconnect_ack',
      reply: 'ack',
      stagesMs: { http: 3.1, call: 4.2, disconnect: 1.3 },
      hashBitmask: 1,
      status: null,
      disconnectSent: true,
      disconnectAcked: true,
      abortSent: false,
      warning: hashWarning(1),
      correlationId: '{6D1A3C2B-0000-4000-8000-000000000001}',
    },
  };
}

function describeCheckKinds(context: ContractContext): void {
  describe('results per check kind', () => {
    it('keeps deep SSTP checks apart: only lastResult(target, "sstp") reads them, never history, rollups or uptime', async () => {
      let now = T0 + 5 * MINUTE;
      const store = await storeWith(context, ['rras-1'], { now: () => now });
      store.record('rras-1', 'head', okResult(T0));
      store.record('rras-1', 'sstp', deepCheck(T0 + 1_000));
      store.record('rras-1', 'sstp', deepCheck(T0 + 2_000));
      await store.flush();
      expect((await store.history('rras-1', { limit: 10 })).items).toEqual([stored(okResult(T0))]);
      expect(await store.lastResult('rras-1', 'head')).toEqual(stored(okResult(T0)));
      expect(await store.lastResult('rras-1', 'sstp')).toEqual(stored(deepCheck(T0 + 2_000)));
      now = T0 + 2 * HOUR;
      while ((await store.housekeepingStep(now)) !== null) {
        // to the end of the pass
      }
      expect(await store.uptime('rras-1', T0, now)).toEqual({ probes: 1, failures: 0 });
      expect((await store.rollups('rras-1', '1m', { limit: 10 })).items.map((p) => p.probes)).toEqual([1]);
      expect((await store.rollups('rras-1', '1h', { limit: 10 })).items.map((p) => p.probes)).toEqual([1]);
    });

    it('keeps deep checks for the raw retention: a housekeeping pass deletes older ones', async () => {
      const store = await storeWith(context, ['rras-1'], { now: () => T0 + HOUR, retention: { rawMs: 2 * HOUR, minuteMs: DAY, hourMs: 2 * DAY } });
      store.record('rras-1', 'sstp', deepCheck(T0));
      await store.flush();
      while ((await store.housekeepingStep(T0 + 2 * HOUR - 1)) !== null) {
        // the whole pass: the check is 2 h - 1 ms old, within the retention
      }
      expect((await store.lastResult('rras-1', 'sstp'))?.at).toBe(T0);
      while ((await store.housekeepingStep(T0 + 2 * HOUR + 1)) !== null) {
        // the whole pass: now it is older
      }
      expect(await store.lastResult('rras-1', 'sstp')).toBeNull();
    });

    it('answers the newest result of each kind, whatever order they were written in', async () => {
      const store = await storeWith(context);
      store.record('rras-1', 'sstp', deepCheck(T0 + 5_000));
      store.record('rras-1', 'sstp', deepCheck(T0 + 1_000)); // late
      store.record('rras-1', 'head', okResult(T0 + 9_000));
      store.record('rras-1', 'head', failedResult(T0 + 3_000)); // late
      await store.flush();
      expect((await store.lastResult('rras-1', 'sstp'))?.at).toBe(T0 + 5_000);
      expect((await store.lastResult('rras-1', 'head'))?.at).toBe(T0 + 9_000);
    });
  });
}

function describeTransitionsAndMaintenance(context: ContractContext): void {
  describe('transitions', () => {
    /** up -> down -> up -> maintenance -> up, an hour apart from T0 + 1 h. */
    const hourly = [
      transition(T0 + HOUR, { from: 'unknown', to: 'up', cause: 'ok', message: null }),
      transition(T0 + 2 * HOUR),
      transition(T0 + 3 * HOUR, { from: 'down', to: 'up', cause: 'ok', message: '' }),
      transition(T0 + 4 * HOUR, { from: 'up', to: 'maintenance', cause: null, message: 'patching' }),
      transition(T0 + 5 * HOUR, { from: 'maintenance', to: 'up', cause: null, message: null }),
    ];
    async function storeWithTransitions(): Promise<Store> {
      const store = await storeWith(context, ['rras-1', 'rras-2']);
      for (const t of [...hourly].reverse()) store.recordTransition(t); // written newest first: read back oldest first
      store.recordTransition(transition(T0 + 3 * HOUR, { target: 'rras-2' }));
      await store.flush();
      return store;
    }

    it('gives those in [from, to] oldest first, plus the one before from and the one after to', async () => {
      const store = await storeWithTransitions();
      expect(await store.transitionsBetween('rras-1', T0 + 2 * HOUR + 1, T0 + 4 * HOUR)).toEqual(hourly.slice(1, 5));
      expect(await store.transitionsBetween('rras-1', T0 + 2 * HOUR, T0 + 2 * HOUR)).toEqual(hourly.slice(0, 3));
      expect(await store.transitionsBetween('rras-1', T0, T0 + 30 * MINUTE)).toEqual(hourly.slice(0, 1));
      expect(await store.transitionsBetween('rras-1', T0 + 6 * HOUR, T0 + 7 * HOUR)).toEqual(hourly.slice(4));
      expect(await store.transitionsBetween('rras-1', T0, T0 + DAY)).toEqual(hourly);
      expect(await store.transitionsBetween('rras-2', T0, T0 + DAY)).toEqual([transition(T0 + 3 * HOUR, { target: 'rras-2' })]);
      expect(await store.lastTransition('rras-1')).toEqual(hourly.at(-1));
    });

    it('answers nothing for a range whose from is after its to', async () => {
      const store = await storeWithTransitions();
      expect(await store.transitionsBetween('rras-1', T0 + 4 * HOUR - 1, T0 + 2 * HOUR + 1)).toEqual([]);
    });

    it('keeps transitions of one millisecond in the order they were recorded, each later one a millisecond later', async () => {
      const store = await storeWith(context);
      const down = transition(T0);
      const up = transition(T0, { from: 'down', to: 'up', cause: 'ok', message: null });
      const maintenance = transition(T0, { from: 'up', to: 'maintenance', cause: null, message: 'patching' });
      store.recordTransition(down);
      await store.flush();
      store.recordTransition(up); // meets the stored one: both move forward, still in this order
      store.recordTransition(maintenance);
      await store.flush();
      const expected = [down, { ...up, at: T0 + 1 }, { ...maintenance, at: T0 + 2 }];
      expect(await store.transitionsBetween('rras-1', T0, T0 + 2)).toEqual(expected);
      expect(await store.lastTransition('rras-1')).toEqual(expected[2]);
    });

    it('keeps an open incident across a restart: the down transition is the last one after reopening', async () => {
      if (!context.reopen) return; // a store that keeps nothing has nothing to restore
      const store = await storeWith(context);
      store.recordTransition(transition(T0, { from: 'unknown', to: 'up', cause: 'ok', message: null }));
      store.recordTransition(transition(T0 + HOUR));
      store.record('rras-1', 'head', failedResult(T0 + HOUR));
      await store.setMaintenance('rras-1', { until: T0 + DAY, reason: 'patching' });
      await store.close();
      const reopened = await context.reopen(store);
      expect(await reopened.lastTransition('rras-1')).toEqual(transition(T0 + HOUR));
      expect(await reopened.transitionsBetween('rras-1', T0 + HOUR, T0 + 2 * HOUR)).toHaveLength(2);
      expect(await reopened.lastResult('rras-1', 'head')).toEqual(stored(failedResult(T0 + HOUR)));
      expect(await reopened.maintenance('rras-1')).toEqual({ until: T0 + DAY, reason: 'patching' });
      // and it goes on writing where it left off
      reopened.record('rras-1', 'head', okResult(T0 + HOUR));
      await reopened.flush();
      expect((await reopened.history('rras-1', { limit: 10 })).items.map((r) => r.at)).toEqual([T0 + HOUR + 1, T0 + HOUR]);
    });
  });

  describe('maintenance', () => {
    it('is recorded at once (not queued), replaced, and removed with null', async () => {
      const store = await storeWith(context, ['rras-1', 'rras-2']);
      expect(await store.maintenance('rras-1')).toBeNull();
      await store.setMaintenance('rras-1', { until: T0 + HOUR, reason: 'patching' });
      expect(await store.maintenance('rras-1')).toEqual({ until: T0 + HOUR, reason: 'patching' });
      await store.setMaintenance('rras-1', { until: T0 + 2 * HOUR, reason: 'longer' });
      expect(await store.maintenance('rras-1')).toEqual({ until: T0 + 2 * HOUR, reason: 'longer' });
      expect(await store.maintenance('rras-2')).toBeNull();
      await store.setMaintenance('rras-1', null);
      expect(await store.maintenance('rras-1')).toBeNull();
      await expect(store.setMaintenance('rras-2', null)).resolves.toBeUndefined();
    });
  });
}

import { describe, expect, it } from 'vitest';
import {
  HOUSEKEEPING_TASKS,
  afterRewind,
  afterRollupStep,
  planRawPrune,
  firstRollupMark,
  markAfterEmptyWindow,
  pruneCutoff,
  rawPruneCutoff,
  rewoundMarks,
  rollupWindow,
  taskStart,
  type MarkName,
} from '../../src/store/housekeeping-plan.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const RETENTION = { rawMs: 14 * DAY, minuteMs: 90 * DAY, hourMs: 400 * DAY };
const marks = (entries: Partial<Record<MarkName, number>>) => new Map(Object.entries(entries)) as Map<MarkName, number>;

describe('a housekeeping task', () => {
  it('starts with nothing noted, whichever task it is', () => {
    expect(taskStart()).toEqual({ task: 0, targetIndex: 0, windowRows: 0, targets: null, rawCutoff: null, freePages: null, oldestLeft: Number.POSITIVE_INFINITY });
    expect(taskStart(3)).toEqual({ task: 3, targetIndex: 0, windowRows: 0, targets: null, rawCutoff: null, freePages: null, oldestLeft: Number.POSITIVE_INFINITY });
  });

  it.each([
    ['rollup_minute', 'restarts the pass'],
    ['rollup_hour', 'restarts the pass'],
    ['prune_raw', 'goes on'],
    ['vacuum', 'goes on'],
  ] as const)('in progress at %s when late results move a mark back %s', (task, outcome) => {
    const progress = { ...taskStart(HOUSEKEEPING_TASKS.indexOf(task)), targetIndex: 7, windowRows: 12 };
    expect(afterRewind(progress, HOUSEKEEPING_TASKS)).toEqual(outcome === 'restarts the pass' ? taskStart() : progress);
  });

  it('prunes raw results, then deep checks, before giving pages back', () => {
    expect(HOUSEKEEPING_TASKS.indexOf('prune_sstp_checks')).toBeGreaterThan(HOUSEKEEPING_TASKS.indexOf('prune_raw'));
    expect(HOUSEKEEPING_TASKS.indexOf('prune_sstp_checks')).toBeLessThan(HOUSEKEEPING_TASKS.indexOf('vacuum'));
  });
});

describe('late results', () => {
  it.each([
    ['older than both marks move both back to their buckets', T0 + 90 * MINUTE + 5_000, {}, { minute_rolled_until: T0 + 90 * MINUTE, hour_rolled_until: T0 + HOUR }],
    ['at or after a mark leave it', T0 + 2 * HOUR + 30_000, {}, { minute_rolled_until: T0 + 2 * HOUR }],
    ['never go below what raw pruning deleted', T0 + 10 * MINUTE, { raw_pruned_before: T0 + 30 * MINUTE + 1 }, { minute_rolled_until: T0 + 31 * MINUTE, hour_rolled_until: T0 + HOUR }],
    ['with nothing written (no oldest) move nothing', Number.POSITIVE_INFINITY, {}, {}],
  ] as const)('%s', (_, oldestAt, extra, expected) => {
    const now = marks({ minute_rolled_until: T0 + 3 * HOUR, hour_rolled_until: T0 + 2 * HOUR, ...extra });
    expect(Object.fromEntries(rewoundMarks(now, oldestAt))).toEqual(expected);
  });

  it('move nothing on a database without rollup marks yet', () => {
    expect(rewoundMarks(marks({}), T0).size).toBe(0);
  });
});

describe('a rollup window', () => {
  const now = T0 + 10 * HOUR + 5 * MINUTE;

  it.each([
    ['1m', T0, { start: T0, end: T0 + HOUR, dueUntil: T0 + 10 * HOUR + 4 * MINUTE }],
    ['1m', T0 + 10 * HOUR, { start: T0 + 10 * HOUR, end: T0 + 10 * HOUR + 4 * MINUTE, dueUntil: T0 + 10 * HOUR + 4 * MINUTE }],
    ['1h', T0, { start: T0, end: T0 + 6 * HOUR, dueUntil: T0 + 10 * HOUR }],
    ['1h', T0 + 10 * HOUR, null],
  ] as const)('at %s from the mark %s is %j', (resolution, from, expected) => {
    expect(rollupWindow(resolution, from, now)).toEqual(expected);
  });

  it('waits for the grace period after a bucket ends', () => {
    expect(rollupWindow('1m', T0, T0 + MINUTE + 9_999)).toBeNull();
    expect(rollupWindow('1m', T0, T0 + MINUTE + 10_000)).toEqual({ start: T0, end: T0 + MINUTE, dueUntil: T0 + MINUTE });
  });

  it.each([
    ['starts at the bucket of the first result', T0 + 90 * MINUTE + 7, T0 + HOUR],
    ['is caught up on a database without results', null, T0 + 10 * HOUR],
    ['never starts after what is due', T0 + 11 * HOUR, T0 + 10 * HOUR],
  ] as const)('on a database without a mark %s', (_, first, expected) => {
    expect(firstRollupMark('1h', now, first)).toBe(expected);
  });

  it.each([
    ['skips the gap up to the bucket of the next result', T0 + 5 * HOUR + 3 * MINUTE, T0 + 5 * HOUR],
    ['is caught up when no result follows', null, T0 + 10 * HOUR],
    ['never goes back before its end', T0 + 30 * MINUTE, T0 + HOUR],
    ['never goes past what is due', T0 + 12 * HOUR, T0 + 10 * HOUR],
  ] as const)('after a window without results %s', (_, next, expected) => {
    const window = { start: T0, end: T0 + HOUR, dueUntil: T0 + 10 * HOUR };
    expect(markAfterEmptyWindow('1h', window, next)).toBe(expected);
  });
});

describe('prune cutoffs', () => {
  const now = T0 + 500 * DAY + 25 * MINUTE;

  it.each([
    ['the retention when both rollups are further on', { minute_rolled_until: now, hour_rolled_until: now }, now - 14 * DAY],
    ['the minute mark when the minute rollup lags', { minute_rolled_until: T0, hour_rolled_until: now }, T0],
    ['the hour mark when the hour rollup lags', { minute_rolled_until: now, hour_rolled_until: T0 + HOUR }, T0 + HOUR],
    ['none before both rollups have a mark', { minute_rolled_until: now }, null],
  ] as const)('of raw results is %s', (_, entries, expected) => {
    expect(rawPruneCutoff(marks(entries), RETENTION, now)).toBe(expected);
  });

  it.each([
    ['prune_minute', T0 + 410 * DAY],
    ['prune_hour', now - 400 * DAY],
    ['prune_transitions', now - 400 * DAY],
    ['prune_sstp_checks', now - 14 * DAY],
  ] as const)('of %s is %s', (task, expected) => {
    expect(pruneCutoff(task, RETENTION, now)).toBe(expected);
  });
});

describe('a prune_raw step', () => {
  const now = T0 + 30 * DAY;
  const rolled = marks({ minute_rolled_until: now, hour_rolled_until: now });

  it.each([
    ['records raw_pruned_before first when the cutoff moves on', taskStart(2), rolled, true],
    ['records it once a pass', { ...taskStart(2), rawCutoff: now - 14 * DAY }, rolled, false],
    ['leaves it when the cutoff has not moved', taskStart(2), marks({ ...Object.fromEntries(rolled), raw_pruned_before: now - 14 * DAY }), false],
  ] as const)('%s', (_, progress, current, recordMark) => {
    const at = { ...progress };
    expect(planRawPrune(at, current, RETENTION, now)).toEqual({ cutoff: now - 14 * DAY, recordMark });
    expect(at.rawCutoff).toBe(now - 14 * DAY);
  });

  it('waits for both rollups to have a mark', () => {
    const progress = taskStart(2);
    expect(planRawPrune(progress, marks({ hour_rolled_until: now }), RETENTION, now)).toBeNull();
    expect(progress.rawCutoff).toBeNull();
  });
});

describe('after a rollup step', () => {
  it('goes on in the same window while targets are left, counting its rows', () => {
    const progress = { ...taskStart(), targetIndex: 100, windowRows: 40 };
    const current = marks({ minute_rolled_until: T0 });
    afterRollupStep(progress, current, '1m', { targetIndex: 200, rows: 60, nextMark: null });
    expect(progress).toMatchObject({ targetIndex: 200, windowRows: 100 });
    expect(current.get('minute_rolled_until')).toBe(T0);
  });

  it('moves the mark and starts the next window at the first target once every target is done', () => {
    const progress = { ...taskStart(1), targetIndex: 100, windowRows: 40 };
    const current = marks({ hour_rolled_until: T0 });
    afterRollupStep(progress, current, '1h', { targetIndex: 150, rows: 60, nextMark: T0 + 6 * HOUR });
    expect(progress).toMatchObject({ task: 1, targetIndex: 0, windowRows: 0 });
    expect(current.get('hour_rolled_until')).toBe(T0 + 6 * HOUR);
  });
});

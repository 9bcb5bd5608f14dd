// What both stores' housekeeping decides without the database: its bounds, the tasks of a pass and where a pass
// is, the marks (how far rollups and raw pruning have got), the rollup windows and the prune cutoffs.
import type { RetentionConfig } from '../config/types.js';
import { BUCKET_MS, bucketCeil, bucketStart } from './rollup.js';
import type { HousekeepingStep, RollupResolution } from './store.js';

export const DEFAULT_RETENTION: RetentionConfig = { rawMs: 14 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 };

/**
 * Housekeeping bounds. Every step is one short write transaction, so a probe's result never waits long for the
 * database (and the event loop is free between steps).
 */
export const HOUSEKEEPING = {
  /** A bucket is rolled up this long after it ends: results are queued and written about once a second. */
  graceMs: 10_000,
  /** Raw rows read per rollup step (one target's window may exceed it: at most spanBuckets of rows). */
  rollupRows: 2_000,
  /** Buckets per rollup window. */
  spanBuckets: { '1m': 60, '1h': 6 } as Record<RollupResolution, number>,
  /** Rows deleted per prune step. */
  pruneRows: 2_000,
  /** Free pages kept for reuse; beyond it the file is shrunk, at most vacuumPages per step. */
  keepFreePages: 2_048,
  vacuumPages: 1_024,
  /**
   * A prune task walks every target at least this often even when its floor says nothing is old enough to go
   * (PruneFloors): rows it did not see written are deleted at most this late.
   */
  rewalkMs: 3_600_000,
} as const;

export type HousekeepingTask = HousekeepingStep['task'];
export type PruneTask = Extract<HousekeepingTask, `prune_${string}`>;

/** Rollups first (raw rows are pruned only once rolled up), then retention, then giving space back. */
export const HOUSEKEEPING_TASKS: readonly HousekeepingTask[] = [
  'rollup_minute', 'rollup_hour', 'prune_raw', 'prune_minute', 'prune_hour', 'prune_transitions', 'prune_sstp_checks', 'vacuum', 'checkpoint',
];

/** The marks kept in housekeeping_marks. */
export type MarkName = 'minute_rolled_until' | 'hour_rolled_until' | 'raw_pruned_before';
export const ROLLED_MARK: Readonly<Record<RollupResolution, MarkName>> = { '1m': 'minute_rolled_until', '1h': 'hour_rolled_until' };

/** Where a housekeeping pass is. */
export interface HousekeepingProgress {
  /** Index of the task in the store's task list. */
  task: number;
  /**
   * The next target (index into `targets`) the task works on; for a rollup, the lowest target id whose window is
   * not rolled up yet; a one-shot task sets it to 1 once done.
   */
  targetIndex: number;
  /** Raw rows the rollup window in progress has read so far (none at all: the gap after it is skipped). */
  windowRows: number;
  /** The target ids of this task, sorted; read once per task. */
  targets: number[] | null;
  /** prune_raw's cutoff once its mark is written in this pass (null: not yet). */
  rawCutoff: number | null;
  /** Free pages the last vacuum step of this pass left: a step that frees none ends the task. */
  freePages: number | null;
  /** The oldest row a prune task has left so far in this pass that it could delete later (its targets walked). */
  oldestLeft: number;
}

/** The start of task `task` (0: a new pass). */
export function taskStart(task = 0): HousekeepingProgress {
  return { task, targetIndex: 0, windowRows: 0, targets: null, rawCutoff: null, freePages: null, oldestLeft: Number.POSITIVE_INFINITY };
}

/** Late results moved a rollup mark back: a rollup in progress restarts the pass from the new mark. */
export function afterRewind(progress: HousekeepingProgress, tasks: readonly HousekeepingTask[]): HousekeepingProgress {
  return tasks[progress.task]?.startsWith('rollup_') ? taskStart() : progress;
}

/**
 * Results older than a rollup mark (written late, after an outage) move the mark back, so their buckets are
 * rolled up again from raw, but never below what raw pruning may have deleted. Returns the marks to write.
 */
export function rewoundMarks(marks: ReadonlyMap<MarkName, number>, oldestAt: number): Map<MarkName, number> {
  const rewound = new Map<MarkName, number>();
  if (!Number.isFinite(oldestAt)) return rewound;
  const pruned = marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY;
  for (const resolution of ['1m', '1h'] as const) {
    const name = ROLLED_MARK[resolution];
    const mark = marks.get(name);
    if (mark === undefined || oldestAt >= mark) continue;
    const at = Math.max(bucketStart(oldestAt, BUCKET_MS[resolution]), bucketCeil(pruned, BUCKET_MS[resolution]));
    if (at < mark) rewound.set(name, at);
  }
  return rewound;
}

/** Buckets ending before this are due for a rollup at `now`. */
function rollupEnd(resolution: RollupResolution, now: number): number {
  return bucketStart(now - HOUSEKEEPING.graceMs, BUCKET_MS[resolution]);
}

/** Where a rollup starts on a database that has no mark yet: at its first result's bucket (or caught up). */
export function firstRollupMark(resolution: RollupResolution, now: number, firstResultAt: number | null): number {
  const end = rollupEnd(resolution, now);
  return firstResultAt === null ? end : Math.min(bucketStart(firstResultAt, BUCKET_MS[resolution]), end);
}

export interface RollupWindow {
  start: number;
  /** Exclusive. */
  end: number;
  /** Where the rollup is caught up at `now`. */
  dueUntil: number;
}

/** The next window of buckets to roll up from the mark `from`, or null when nothing is due. */
export function rollupWindow(resolution: RollupResolution, from: number, now: number): RollupWindow | null {
  const dueUntil = rollupEnd(resolution, now);
  if (from >= dueUntil) return null;
  return { start: from, end: Math.min(dueUntil, from + HOUSEKEEPING.spanBuckets[resolution] * BUCKET_MS[resolution]), dueUntil };
}

/**
 * The mark after a window in which no target had a result: up to the bucket of the next result (null: none), so a
 * long gap is skipped in one step. (After a window with results, the mark is the window's end.)
 */
export function markAfterEmptyWindow(resolution: RollupResolution, window: RollupWindow, nextResultAt: number | null): number {
  if (nextResultAt === null) return window.dueUntil;
  return Math.max(window.end, Math.min(window.dueUntil, bucketStart(nextResultAt, BUCKET_MS[resolution])));
}

/** Raw results go after the retention, but never one that is not rolled up yet at either resolution. */
export function rawPruneCutoff(marks: ReadonlyMap<MarkName, number>, retention: RetentionConfig, now: number): number | null {
  const minute = marks.get('minute_rolled_until');
  const hour = marks.get('hour_rolled_until');
  if (minute === undefined || hour === undefined) return null;
  return Math.min(now - retention.rawMs, minute, hour);
}

/** The cutoff of each age-based prune task at `now` (prune_raw has its own, rawPruneCutoff). */
export function pruneCutoff(task: Exclude<PruneTask, 'prune_raw'>, retention: RetentionConfig, now: number): number {
  switch (task) {
    case 'prune_minute':
      // Packed by the hour: an hour goes once all of it is older than the retention.
      return bucketStart(now - retention.minuteMs, BUCKET_MS['1h']);
    case 'prune_hour':
    case 'prune_transitions':
      return now - retention.hourMs;
    case 'prune_sstp_checks':
      return now - retention.rawMs;
  }
}

/**
 * prune_raw's cutoff at `now` (null: nothing may go yet), noted in `progress`; `recordMark` once a pass when
 * raw_pruned_before must move first: recorded before deleting, so late results are never rolled up into buckets
 * whose raw rows may be gone. `walk` says whether a walk at that cutoff may delete anything (false: the task is
 * skipped in this pass, its mark not moved).
 */
export function planRawPrune(
  progress: HousekeepingProgress,
  marks: ReadonlyMap<MarkName, number>,
  retention: RetentionConfig,
  now: number,
  walk: (cutoff: number) => boolean = () => true,
): { cutoff: number; recordMark: boolean } | null {
  const cutoff = rawPruneCutoff(marks, retention, now);
  if (cutoff === null || !walk(cutoff)) return null;
  const recordMark = progress.rawCutoff === null && cutoff > (marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY);
  progress.rawCutoff = cutoff;
  return { cutoff, recordMark };
}

/**
 * Where a rollup step leaves the task: at `targetIndex` of the same window, or, once every target's window is
 * rolled up (`nextMark` written), at the first target of the next window.
 */
export function afterRollupStep(
  progress: HousekeepingProgress,
  marks: Map<MarkName, number>,
  resolution: RollupResolution,
  done: { targetIndex: number; rows: number; nextMark: number | null },
): void {
  if (done.nextMark === null) {
    progress.targetIndex = done.targetIndex;
    progress.windowRows += done.rows;
    return;
  }
  marks.set(ROLLED_MARK[resolution], done.nextMark);
  progress.targetIndex = 0;
  progress.windowRows = 0;
}

// Rollups and retention of the in-memory store, in the same bounded steps, marks, windows and cutoffs as the SQL
// stores' housekeeping (housekeeping-plan.ts), so that a history answers the same in memory as on disk (the same
// buckets, the same p95, the same raw rows kept). No vacuum or checkpoint task: there is no file.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/types.js';
import {
  HOUSEKEEPING,
  HOUSEKEEPING_TASKS,
  ROLLED_MARK,
  afterRollupStep,
  firstRollupMark,
  markAfterEmptyWindow,
  planRawPrune,
  pruneCutoff,
  rollupWindow,
  type HousekeepingProgress,
  type HousekeepingTask,
  type MarkName,
  type PruneTask,
} from './housekeeping-plan.js';
import { HousekeepingSteps } from './housekeeping-steps.js';
import { lowerBound, rowsBetween, type TargetTables } from './memory-tables.js';
import { BUCKET_MS, MinutePacker, aggregate, minutesByHour, type Bucket } from './rollup.js';
import type { HousekeepingStep, RollupResolution } from './store.js';

const TASKS = HOUSEKEEPING_TASKS.filter((task) => task !== 'vacuum' && task !== 'checkpoint');

/** Deletes at most `max` of a target's rows older than `cutoff`; returns how many it deleted. */
type Prune = (tables: TargetTables, cutoff: number, max: number) => number;

export class MemoryHousekeeping {
  readonly steps: HousekeepingSteps;
  private readonly packer = new MinutePacker();

  constructor(
    /** Shared with the store: uptime reads them, and a write of late results moves the rollup marks back. */
    private readonly marks: Map<MarkName, number>,
    private readonly retention: RetentionConfig,
    /** Every target, in a stable order. */
    private readonly targets: () => TargetTables[],
    log: Logger,
  ) {
    this.steps = new HousekeepingSteps(TASKS, async (task, now, progress) => this.step(task, now, progress), log);
  }

  private step(task: HousekeepingTask, now: number, progress: HousekeepingProgress): HousekeepingStep | null {
    switch (task) {
      case 'rollup_minute':
        return this.rollupStep('1m', now, progress);
      case 'rollup_hour':
        return this.rollupStep('1h', now, progress);
      case 'prune_raw': {
        const plan = planRawPrune(progress, this.marks, this.retention, now, (cutoff) => this.steps.floors.shouldWalk(task, progress, cutoff, now));
        if (plan === null) return null;
        if (plan.recordMark) this.marks.set('raw_pruned_before', plan.cutoff);
        return this.pruneStep(task, progress, plan.cutoff, now, (t, before, max) => pruneSorted(t.results, before, max), (t) => t.results[0]?.at);
      }
      case 'prune_minute':
        return this.pruneStep(task, progress, pruneCutoff(task, this.retention, now), now, (t, before, max) => pruneKeys(t.minutes, before, max), (t) => oldestKey(t.minutes));
      case 'prune_hour':
        return this.pruneStep(task, progress, pruneCutoff(task, this.retention, now), now, (t, before, max) => pruneKeys(t.hours, before, max), (t) => oldestKey(t.hours));
      case 'prune_transitions':
        // Each target keeps its newest transition whatever its age (the state to restore).
        return this.pruneStep(
          task,
          progress,
          pruneCutoff(task, this.retention, now),
          now,
          (t, before) => {
            const newest = t.transitions.at(-1);
            return newest ? pruneSorted(t.transitions, Math.min(before, newest.at), Number.POSITIVE_INFINITY) : 0;
          },
          (t) => (t.transitions.length > 1 ? t.transitions[0]!.at : undefined),
        );
      case 'prune_sstp_checks':
        return this.pruneStep(task, progress, pruneCutoff(task, this.retention, now), now, (t, before, max) => pruneSorted(t.sstpChecks, before, max), (t) => t.sstpChecks[0]?.at);
      case 'vacuum':
      case 'checkpoint':
        return null;
    }
  }

  private progressTargets(progress: HousekeepingProgress): TargetTables[] {
    progress.targets ??= this.targets().map((t) => t.id);
    const byId = new Map(this.targets().map((t) => [t.id, t]));
    return progress.targets.map((id) => byId.get(id)!);
  }

  /** The oldest result at or after `from`, over every target (null when there is none). */
  private firstResultAt(from: number): number | null {
    let first: number | null = null;
    for (const t of this.targets()) {
      const at = t.results[lowerBound(t.results, from)]?.at;
      if (at !== undefined && (first === null || at < first)) first = at;
    }
    return first;
  }

  /** Rolls up one window of buckets for as many targets as fit in the row budget. */
  private rollupStep(resolution: RollupResolution, now: number, progress: HousekeepingProgress): HousekeepingStep | null {
    const markName = ROLLED_MARK[resolution];
    let from = this.marks.get(markName);
    if (from === undefined) {
      from = firstRollupMark(resolution, now, this.firstResultAt(Number.MIN_SAFE_INTEGER));
      this.marks.set(markName, from);
    }
    const window = rollupWindow(resolution, from, now);
    if (window === null) return null;
    const targets = this.progressTargets(progress);
    const started = performance.now();
    let rows = 0;
    let targetIndex = progress.targetIndex;
    while (targetIndex < targets.length && rows < HOUSEKEEPING.rollupRows) {
      const tables = targets[targetIndex]!;
      const samples = rowsBetween(tables.results, window.start, window.end).map((r) => ({
        at: r.at,
        errorKind: r.errorKind,
        excluded: r.uptimeExclusion,
        durationUs: r.durationUs,
      }));
      writeRollups(this.packer, tables, resolution, window.start, window.end, aggregate(samples, BUCKET_MS[resolution]));
      rows += samples.length;
      targetIndex++;
    }
    this.steps.floors.rolledUp(resolution, window.start);
    const nextMark =
      targetIndex < targets.length ? null : progress.windowRows + rows > 0 ? window.end : markAfterEmptyWindow(resolution, window, this.firstResultAt(window.end));
    afterRollupStep(progress, this.marks, resolution, { targetIndex, rows, nextMark });
    return { task: resolution === '1m' ? 'rollup_minute' : 'rollup_hour', rows, ms: performance.now() - started };
  }

  /**
   * Deletes rows below `cutoff`, target by target, at most HOUSEKEEPING.pruneRows per step; `oldest` is a
   * target's oldest row the task could delete (after its prune), for the task's floor.
   */
  private pruneStep(
    task: PruneTask,
    progress: HousekeepingProgress,
    cutoff: number,
    now: number,
    prune: Prune,
    oldest: (tables: TargetTables) => number | undefined,
  ): HousekeepingStep | null {
    if (!this.steps.floors.shouldWalk(task, progress, cutoff, now)) return null;
    const targets = this.progressTargets(progress);
    if (progress.targetIndex >= targets.length) return null;
    const started = performance.now();
    let rows = 0;
    let targetIndex = progress.targetIndex;
    while (targetIndex < targets.length && rows < HOUSEKEEPING.pruneRows) {
      const budget = HOUSEKEEPING.pruneRows - rows;
      const tables = targets[targetIndex]!;
      const deleted = prune(tables, cutoff, budget);
      rows += deleted;
      if (deleted >= budget) break; // the target may have more: the next step goes on with it
      progress.oldestLeft = Math.min(progress.oldestLeft, oldest(tables) ?? Number.POSITIVE_INFINITY);
      targetIndex++;
    }
    progress.targetIndex = targetIndex;
    this.steps.floors.afterStep(task, progress, now);
    return { task, rows, ms: performance.now() - started };
  }
}

/** Stores the buckets of [windowStart, windowEnd); packed minutes of an hour are merged with those outside it. */
function writeRollups(packer: MinutePacker, tables: TargetTables, resolution: RollupResolution, windowStart: number, windowEnd: number, buckets: Bucket[]): void {
  if (resolution === '1h') {
    for (const b of buckets) tables.hours.set(b.bucket, b);
    return;
  }
  for (const [hour, fresh] of minutesByHour(buckets)) {
    tables.minutes.set(hour, packer.merge(hour, tables.minutes.get(hour), fresh, windowStart, windowEnd));
  }
}

function pruneSorted(rows: { at: number }[], cutoff: number, max: number): number {
  const count = Math.min(lowerBound(rows, cutoff), max);
  rows.splice(0, count);
  return count;
}

function oldestKey(rows: Map<number, unknown>): number | undefined {
  let oldest: number | undefined;
  for (const key of rows.keys()) if (oldest === undefined || key < oldest) oldest = key;
  return oldest;
}

function pruneKeys(rows: Map<number, unknown>, cutoff: number, max: number): number {
  const old = [...rows.keys()].filter((key) => key < cutoff).sort((a, b) => a - b).slice(0, max);
  for (const key of old) rows.delete(key);
  return old.length;
}

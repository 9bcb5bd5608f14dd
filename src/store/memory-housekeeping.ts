// Rollups and retention of the in-memory store, in the same bounded steps, marks and windows as the SQL stores'
// housekeeping, so that a history answers the same in memory as on disk (the same buckets, the same p95, the same
// raw rows kept). No vacuum or checkpoint task: there is no file.
import { performance } from 'node:perf_hooks';
import type { RetentionConfig } from '../config/types.js';
import { lowerBound, rowsBetween, type TargetTables } from './memory-tables.js';
import { BUCKET_MS, HOUR_MS, aggregate, bucketCeil, bucketStart, packMinutes, unpackMinutes, type Bucket } from './rollup.js';
import { HOUSEKEEPING } from './housekeeping-plan.js';
import type { HousekeepingStep, RollupResolution } from './store.js';

export type MarkName = 'minute_rolled_until' | 'hour_rolled_until' | 'raw_pruned_before';
const ROLLED_MARK: Record<RollupResolution, MarkName> = { '1m': 'minute_rolled_until', '1h': 'hour_rolled_until' };

type Task = 'rollup_minute' | 'rollup_hour' | 'prune_raw' | 'prune_minute' | 'prune_hour' | 'prune_transitions';
const TASKS: readonly Task[] = ['rollup_minute', 'rollup_hour', 'prune_raw', 'prune_minute', 'prune_hour', 'prune_transitions'];

interface Progress {
  task: number;
  targetIndex: number;
  windowRows: number;
  targets: TargetTables[] | null;
  last: number | null;
}
const START: Progress = { task: 0, targetIndex: 0, windowRows: 0, targets: null, last: null };

/** Deletes at most `max` of a target's rows older than `cutoff`; returns how many it deleted. */
type Prune = (tables: TargetTables, cutoff: number, max: number) => number;

export class MemoryHousekeeping {
  private hk: Progress = { ...START };

  constructor(
    /** Shared with the store, which reads them for uptime. */
    readonly marks: Map<MarkName, number>,
    private readonly retention: RetentionConfig,
    /** Every target, in a stable order. */
    private readonly targets: () => TargetTables[],
  ) {}

  /** One bounded step due at `now`; null when a full pass is done. */
  step(now: number): HousekeepingStep | null {
    while (this.hk.task < TASKS.length) {
      const step = this.runTask(TASKS[this.hk.task]!, now);
      if (step) return step;
      this.hk = { ...START, task: this.hk.task + 1 };
    }
    this.hk = { ...START };
    return null;
  }

  /**
   * Results older than a rollup mark (written late) move the mark back so their buckets are rolled up again from
   * raw, never below what raw pruning may have deleted; the rollup in progress restarts from it.
   */
  rewindRollups(oldestAt: number): void {
    if (!Number.isFinite(oldestAt)) return;
    const pruned = this.marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY;
    let rewound = false;
    for (const resolution of ['1m', '1h'] as const) {
      const name = ROLLED_MARK[resolution];
      const mark = this.marks.get(name);
      if (mark === undefined || oldestAt >= mark) continue;
      const at = Math.max(bucketStart(oldestAt, BUCKET_MS[resolution]), bucketCeil(pruned, BUCKET_MS[resolution]));
      if (at >= mark) continue;
      this.marks.set(name, at);
      rewound = true;
    }
    if (rewound && this.hk.task <= 1) this.hk = { ...START };
  }

  private runTask(task: Task, now: number): HousekeepingStep | null {
    const { rawMs, minuteMs, hourMs } = this.retention;
    switch (task) {
      case 'rollup_minute':
        return this.rollupStep('1m', now);
      case 'rollup_hour':
        return this.rollupStep('1h', now);
      case 'prune_raw': {
        // Never delete a raw result that is not rolled up yet, at either resolution.
        const minute = this.marks.get('minute_rolled_until');
        const hour = this.marks.get('hour_rolled_until');
        if (minute === undefined || hour === undefined) return null;
        const cutoff = Math.min(now - rawMs, minute, hour);
        if (this.hk.targetIndex === 0 && this.hk.last === null && cutoff > (this.marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY)) {
          this.marks.set('raw_pruned_before', cutoff);
        }
        this.hk.last = cutoff;
        return this.pruneStep(task, cutoff, (t, before, max) => pruneSorted(t.results, before, max));
      }
      case 'prune_minute':
        // Packed by the hour: an hour goes once all of it is older than the retention.
        return this.pruneStep(task, bucketStart(now - minuteMs, HOUR_MS), (t, before, max) => pruneKeys(t.minutes, before, max));
      case 'prune_hour':
        return this.pruneStep(task, now - hourMs, (t, before, max) => pruneKeys(t.hours, before, max));
      case 'prune_transitions':
        // Transitions are few; each target keeps its newest one whatever its age (the state to restore).
        return this.pruneStep(task, now - hourMs, (t, before) => {
          const newest = t.transitions.at(-1);
          return newest ? pruneSorted(t.transitions, Math.min(before, newest.at), Number.POSITIVE_INFINITY) : 0;
        });
    }
  }

  private progressTargets(): TargetTables[] {
    this.hk.targets ??= this.targets();
    return this.hk.targets;
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
  private rollupStep(resolution: RollupResolution, now: number): HousekeepingStep | null {
    const bucketMs = BUCKET_MS[resolution];
    const markName = ROLLED_MARK[resolution];
    const end = bucketStart(now - HOUSEKEEPING.graceMs, bucketMs);
    let from = this.marks.get(markName);
    if (from === undefined) {
      const first = this.firstResultAt(Number.MIN_SAFE_INTEGER);
      from = first === null ? end : Math.min(bucketStart(first, bucketMs), end);
      this.marks.set(markName, from);
    }
    if (from >= end) return null;
    const windowStart = from;
    const windowEnd = Math.min(end, from + HOUSEKEEPING.spanBuckets[resolution] * bucketMs);
    const targets = this.progressTargets();
    const started = performance.now();
    let rows = 0;
    let targetIndex = this.hk.targetIndex;
    while (targetIndex < targets.length && rows < HOUSEKEEPING.rollupRows) {
      const tables = targets[targetIndex]!;
      const samples = rowsBetween(tables.results, windowStart, windowEnd).map((r) => ({
        at: r.at,
        errorKind: r.errorKind,
        excluded: r.uptimeExclusion,
        durationUs: r.durationUs,
      }));
      writeRollups(tables, resolution, windowStart, windowEnd, aggregate(samples, bucketMs));
      rows += samples.length;
      targetIndex++;
    }
    if (targetIndex >= targets.length) {
      let mark = windowEnd;
      if (this.hk.windowRows + rows === 0) {
        // Nothing in this window: skip the gap up to the next result.
        const next = this.firstResultAt(windowEnd);
        mark = next === null ? end : Math.max(windowEnd, Math.min(end, bucketStart(next, bucketMs)));
      }
      this.marks.set(markName, mark);
      this.hk.targetIndex = 0;
      this.hk.windowRows = 0;
    } else {
      this.hk.targetIndex = targetIndex;
      this.hk.windowRows += rows;
    }
    return { task: resolution === '1m' ? 'rollup_minute' : 'rollup_hour', rows, ms: performance.now() - started };
  }

  /** Deletes rows below `cutoff`, target by target, at most HOUSEKEEPING.pruneRows per step. */
  private pruneStep(task: Task, cutoff: number, prune: Prune): HousekeepingStep | null {
    const targets = this.progressTargets();
    if (this.hk.targetIndex >= targets.length) return null;
    const started = performance.now();
    let rows = 0;
    let targetIndex = this.hk.targetIndex;
    while (targetIndex < targets.length && rows < HOUSEKEEPING.pruneRows) {
      const budget = HOUSEKEEPING.pruneRows - rows;
      const deleted = prune(targets[targetIndex]!, cutoff, budget);
      rows += deleted;
      if (deleted >= budget) break; // the target may have more: the next step goes on with it
      targetIndex++;
    }
    this.hk.targetIndex = targetIndex;
    return { task, rows, ms: performance.now() - started };
  }
}

/** Stores the buckets of [windowStart, windowEnd); packed minutes of an hour are merged with those outside it. */
function writeRollups(tables: TargetTables, resolution: RollupResolution, windowStart: number, windowEnd: number, buckets: Bucket[]): void {
  if (resolution === '1h') {
    for (const b of buckets) tables.hours.set(b.bucket, b);
    return;
  }
  const byHour = new Map<number, Bucket[]>();
  for (const b of buckets) {
    const hour = bucketStart(b.bucket, HOUR_MS);
    byHour.set(hour, [...(byHour.get(hour) ?? []), b]);
  }
  for (const [hour, fresh] of byHour) {
    const stored = tables.minutes.get(hour);
    const kept = stored ? unpackMinutes(hour, stored).filter((b) => b.bucket < windowStart || b.bucket >= windowEnd) : [];
    tables.minutes.set(hour, packMinutes(hour, [...kept, ...fresh]));
  }
}

function pruneSorted(rows: { at: number }[], cutoff: number, max: number): number {
  const count = Math.min(lowerBound(rows, cutoff), max);
  rows.splice(0, count);
  return count;
}

function pruneKeys(rows: Map<number, unknown>, cutoff: number, max: number): number {
  const old = [...rows.keys()].filter((key) => key < cutoff).sort((a, b) => a - b).slice(0, max);
  for (const key of old) rows.delete(key);
  return old.length;
}

// The SQLite store's housekeeping tasks, each in steps of one short transaction: rollups, retention, giving free
// pages back to the file system and a WAL checkpoint. What is due is decided in housekeeping-plan.ts.
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../../config/types.js';
import {
  HOUSEKEEPING,
  HOUSEKEEPING_TASKS,
  afterRollupStep,
  ROLLED_MARK,
  firstRollupMark,
  markAfterEmptyWindow,
  pruneCutoff,
  planRawPrune,
  rollupWindow,
  type HousekeepingProgress,
  type HousekeepingTask,
  type MarkName,
  type PruneTask,
} from '../housekeeping-plan.js';
import { HousekeepingSteps } from '../housekeeping-steps.js';
import { BUCKET_MS, MinutePacker, aggregate, minutesByHour, type Bucket, type RawSample } from '../rollup.js';
import type { HousekeepingStep, RollupResolution } from '../store.js';
import type { Statements } from './statements.js';

/** How a prune task reads and deletes a target's rows of its table. */
interface PrunedTable {
  /** The target's oldest row the task could delete (null: none). */
  oldest(targetId: number): number | null;
  boundary(targetId: number, offset: number): number | undefined;
  prune(targetId: number, before: number): number;
}

export class SqliteHousekeeping {
  readonly steps: HousekeepingSteps;
  private readonly inTransaction: Database.Transaction<(work: () => void) => void>;
  private readonly packer = new MinutePacker();

  constructor(
    private readonly db: Database.Database,
    private readonly statements: Statements,
    /** Shared with the store: uptime reads them, and a write of late results moves the rollup marks back. */
    private readonly marks: Map<MarkName, number>,
    private readonly retention: RetentionConfig,
    /** The target ids, ascending. */
    private readonly targetIds: () => number[],
    log: Logger,
  ) {
    this.inTransaction = db.transaction((work: () => void) => work());
    this.steps = new HousekeepingSteps(HOUSEKEEPING_TASKS, async (task, now, progress) => this.step(task, now, progress), log);
  }

  /** One step of `task`; null when it has nothing left in this pass. */
  private step(task: HousekeepingTask, now: number, progress: HousekeepingProgress): HousekeepingStep | null {
    const { statements: s } = this;
    switch (task) {
      case 'rollup_minute':
        return this.rollupStep('1m', now, progress);
      case 'rollup_hour':
        return this.rollupStep('1h', now, progress);
      case 'prune_raw': {
        const plan = planRawPrune(progress, this.marks, this.retention, now, (cutoff) => this.steps.floors.shouldWalk(task, progress, cutoff, now));
        if (plan === null) return null;
        const { cutoff, recordMark } = plan;
        if (recordMark) {
          this.inTransaction.immediate(() => s.upsertMark.run('raw_pruned_before', cutoff));
          this.marks.set('raw_pruned_before', cutoff);
        }
        return this.pruneStep(task, progress, cutoff, now, {
          oldest: (id) => s.oldestResult.get(id)?.at ?? null,
          boundary: (id, offset) => s.rawPruneBoundary.get(id, cutoff, offset)?.at,
          prune: (id, before) => s.pruneRaw.run(id, before).changes,
        });
      }
      case 'prune_minute': {
        const cutoff = pruneCutoff(task, this.retention, now);
        return this.pruneStep(task, progress, cutoff, now, {
          oldest: (id) => s.minutes.oldest.get(id)?.at ?? null,
          boundary: (id, offset) => s.minutes.pruneBoundary.get(id, cutoff, offset)?.hour,
          prune: (id, before) => s.minutes.prune.run(id, before).changes,
        });
      }
      case 'prune_hour': {
        const cutoff = pruneCutoff(task, this.retention, now);
        return this.pruneStep(task, progress, cutoff, now, {
          oldest: (id) => s.hours.oldest.get(id)?.at ?? null,
          boundary: (id, offset) => s.hours.pruneBoundary.get(id, cutoff, offset)?.bucket,
          prune: (id, before) => s.hours.prune.run(id, before).changes,
        });
      }
      case 'prune_transitions':
        // Transitions are few; each target keeps its newest one whatever its age (the state to restore).
        return this.pruneStep(task, progress, pruneCutoff(task, this.retention, now), now, {
          oldest: (id) => s.oldestPrunableTransition.get(id, id)?.at ?? null,
          boundary: () => undefined,
          prune: (id, before) => s.pruneTransitions.run(id, before, id).changes,
        });
      case 'prune_sstp_checks': {
        const cutoff = pruneCutoff(task, this.retention, now);
        return this.pruneStep(task, progress, cutoff, now, {
          oldest: (id) => s.oldestSstpCheck.get(id)?.at ?? null,
          boundary: (id, offset) => s.sstpCheckPruneBoundary.get(id, cutoff, offset)?.at,
          prune: (id, before) => s.pruneSstpChecks.run(id, before).changes,
        });
      }
      case 'vacuum':
        return this.vacuumStep(progress);
      case 'checkpoint': {
        if (progress.targetIndex > 0) return null;
        progress.targetIndex = 1;
        const started = performance.now();
        this.db.pragma('wal_checkpoint(PASSIVE)');
        return { task, rows: 0, ms: performance.now() - started };
      }
    }
  }

  private targets(progress: HousekeepingProgress): number[] {
    progress.targets ??= this.targetIds();
    return progress.targets;
  }

  /**
   * Rolls up one window of buckets for as many targets as fit in the row budget. One statement reads the window's
   * rows target by target from `progress.targetIndex` (a target id here): only targets with rows in the window
   * are written, and a window nobody has rows in costs that statement alone.
   */
  private rollupStep(resolution: RollupResolution, now: number, progress: HousekeepingProgress): HousekeepingStep | null {
    const markName = ROLLED_MARK[resolution];
    let from = this.marks.get(markName);
    if (from === undefined) {
      const start = firstRollupMark(resolution, now, this.firstResultAt(Number.MIN_SAFE_INTEGER));
      this.inTransaction.immediate(() => this.statements.upsertMark.run(markName, start));
      this.marks.set(markName, start);
      from = start;
    }
    const window = rollupWindow(resolution, from, now);
    if (window === null) return null;
    const started = performance.now();
    let rows = 0;
    let nextMark: number | null = null;
    let targetIndex = progress.targetIndex;
    this.inTransaction.immediate(() => {
      const read = readWindow(this.statements.windowSamples.iterate(window.start, window.end, progress.targetIndex), HOUSEKEEPING.rollupRows);
      for (const [targetId, samples] of read.byTarget) {
        this.writeRollups(targetId, resolution, window.start, window.end, aggregate(samples, BUCKET_MS[resolution]));
        rows += samples.length;
      }
      if (read.next === null) {
        nextMark = progress.windowRows + rows > 0 ? window.end : markAfterEmptyWindow(resolution, window, this.firstResultAt(window.end));
        this.statements.upsertMark.run(markName, nextMark);
      } else {
        targetIndex = read.next;
      }
    });
    this.steps.floors.rolledUp(resolution, window.start);
    afterRollupStep(progress, this.marks, resolution, { targetIndex, rows, nextMark });
    return { task: resolution === '1m' ? 'rollup_minute' : 'rollup_hour', rows, ms: performance.now() - started };
  }

  /** Stores the buckets of [windowStart, windowEnd); packed minutes of an hour are merged with those outside it. */
  private writeRollups(targetId: number, resolution: RollupResolution, windowStart: number, windowEnd: number, buckets: Bucket[]): void {
    if (resolution === '1h') {
      for (const b of buckets) {
        this.statements.hours.upsert.run(targetId, b.bucket, b.probes, b.failures, b.counted, b.countedFailures, b.sumUs, b.maxUs, b.p95Us);
      }
      return;
    }
    for (const [hour, fresh] of minutesByHour(buckets)) {
      const stored = this.statements.minutes.get.get(targetId, hour)?.minutes;
      this.statements.minutes.upsert.run(targetId, hour, this.packer.merge(hour, stored, fresh, windowStart, windowEnd));
    }
  }

  /**
   * Deletes rows below `cutoff`, target by target, at most HOUSEKEEPING.pruneRows per step. A target whose oldest
   * prunable row is not below the cutoff costs one indexed read; `boundary(id, n)` is the key of the (n+1)th oldest
   * row below the cutoff (undefined when there are at most n).
   */
  private pruneStep(task: PruneTask, progress: HousekeepingProgress, cutoff: number, now: number, table: PrunedTable): HousekeepingStep | null {
    if (!this.steps.floors.shouldWalk(task, progress, cutoff, now)) return null;
    const targets = this.targets(progress);
    if (progress.targetIndex >= targets.length) return null;
    const started = performance.now();
    let rows = 0;
    let targetIndex = progress.targetIndex;
    this.inTransaction.immediate(() => {
      while (targetIndex < targets.length && rows < HOUSEKEEPING.pruneRows) {
        const targetId = targets[targetIndex]!;
        const oldest = table.oldest(targetId);
        if (oldest === null || oldest >= cutoff) {
          progress.oldestLeft = Math.min(progress.oldestLeft, oldest ?? Number.POSITIVE_INFINITY);
          targetIndex++;
          continue;
        }
        const stop = table.boundary(targetId, HOUSEKEEPING.pruneRows - rows);
        if (stop !== undefined) {
          rows += table.prune(targetId, stop);
          break;
        }
        rows += table.prune(targetId, cutoff);
        progress.oldestLeft = Math.min(progress.oldestLeft, cutoff); // what is left is at or after the cutoff
        targetIndex++;
      }
    });
    progress.targetIndex = targetIndex;
    this.steps.floors.afterStep(task, progress, now);
    return { task, rows, ms: performance.now() - started };
  }

  /** Gives free pages beyond a reserve back to the file system (the reserve is reused by new rows). */
  private vacuumStep(progress: HousekeepingProgress): HousekeepingStep | null {
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) return null;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free <= HOUSEKEEPING.keepFreePages || (progress.freePages !== null && free >= progress.freePages)) return null;
    progress.freePages = free;
    const pages = Math.min(free - HOUSEKEEPING.keepFreePages, HOUSEKEEPING.vacuumPages);
    const started = performance.now();
    this.db.pragma(`incremental_vacuum(${pages})`);
    return { task: 'vacuum', rows: pages, ms: performance.now() - started };
  }

  /** The oldest result at or after `from`, over every target (null when there is none). */
  private firstResultAt(from: number): number | null {
    return this.statements.firstResultAt.get(from)?.at ?? null;
  }
}

/**
 * The rows of a window's iterator, grouped by target, until `budget` rows are read and the next target starts
 * (a target's rows are never split between steps). `next` is the first target id left for the next step; null when
 * the window is read to its end. The iterator is closed either way, so the connection is free for the writes.
 */
function readWindow(
  iterator: IterableIterator<[targetId: number, at: number, errorKind: number, excluded: number, durationUs: number]>,
  budget: number,
): { byTarget: Map<number, RawSample[]>; next: number | null } {
  const byTarget = new Map<number, RawSample[]>();
  let read = 0;
  let current = -1;
  let list: RawSample[] = [];
  try {
    for (const [targetId, at, errorKind, excluded, durationUs] of iterator) {
      if (targetId !== current) {
        if (read >= budget) return { byTarget, next: targetId };
        current = targetId;
        byTarget.set(current, (list = []));
      }
      list.push({ at, errorKind, excluded, durationUs });
      read++;
    }
    return { byTarget, next: null };
  } finally {
    iterator.return?.();
  }
}

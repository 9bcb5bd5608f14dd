// Rollups and retention on PostgreSQL, in steps: the same plan (housekeeping-plan.ts) as the SQLite store's
// housekeeping, a batch of targets per statement (a round trip per target would cost more than the work). No
// vacuum or checkpoint task: PostgreSQL's autovacuum and checkpointer do that.
import { performance } from 'node:perf_hooks';
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
import { BUCKET_MS, HOUR_MS, MinutePacker, aggregate, bucketStart, minutesByHour, type Bucket, type RawSample } from '../rollup.js';
import type { HousekeepingStep, RollupResolution } from '../store.js';
import type { PostgresConnection, Queryable, Statement } from './connection.js';
import { SQL } from './statements.js';

const TASKS = HOUSEKEEPING_TASKS.filter((task) => task !== 'vacuum' && task !== 'checkpoint');
/**
 * Targets per rollup step: a window of 60 minutes at 2 probes a minute is ~12,000 raw rows for 100 targets; a
 * shorter window (a service caught up rolls one minute at a time) takes proportionally more targets, up to 2,000.
 */
const ROLLUP_TARGETS = 100;
const MAX_ROLLUP_TARGETS = 2_000;

function rollupBatch(resolution: RollupResolution, windowMs: number): number {
  const full = HOUSEKEEPING.spanBuckets[resolution] * BUCKET_MS[resolution];
  return Math.min(MAX_ROLLUP_TARGETS, Math.max(ROLLUP_TARGETS, Math.floor((ROLLUP_TARGETS * full) / windowMs)));
}
const PRUNE_TARGETS = 500;

export class PostgresHousekeeping {
  readonly steps: HousekeepingSteps;
  /** Per resolution, the mark the window being walked (a batch of targets a step) started from. */
  private readonly walking = new Map<RollupResolution, number>();
  private readonly packer = new MinutePacker();

  constructor(
    private readonly db: PostgresConnection,
    /** Shared with the store: uptime reads them, and a write of late results moves the rollup marks back. */
    private readonly marks: Map<MarkName, number>,
    private readonly retention: RetentionConfig,
    /** The target ids of every site, ascending (read at the start of each task's pass). */
    private readonly targetIds: () => Promise<number[]>,
    log: Logger,
  ) {
    this.steps = new HousekeepingSteps(TASKS, (task, now, progress) => this.step(task, now, progress), log);
  }

  /** One step of `task`; null when it has nothing left in this pass. */
  private async step(task: HousekeepingTask, now: number, progress: HousekeepingProgress): Promise<HousekeepingStep | null> {
    switch (task) {
      case 'rollup_minute':
        return this.rollupStep('1m', now, progress);
      case 'rollup_hour':
        return this.rollupStep('1h', now, progress);
      case 'prune_raw': {
        const plan = planRawPrune(progress, this.marks, this.retention, now, (cutoff) => this.steps.floors.shouldWalk(task, progress, cutoff, now));
        if (plan === null) return null;
        if (plan.recordMark) {
          await writeMark(this.db.pool, 'raw_pruned_before', plan.cutoff);
          this.marks.set('raw_pruned_before', plan.cutoff);
        }
        return this.pruneStep(task, progress, now, plan.cutoff, SQL.pruneRaw, SQL.oldestResult);
      }
      case 'prune_minute':
        return this.pruneStep(task, progress, now, pruneCutoff(task, this.retention, now), SQL.pruneMinutes, SQL.oldestMinute);
      case 'prune_hour':
        return this.pruneStep(task, progress, now, pruneCutoff(task, this.retention, now), SQL.pruneHours, SQL.oldestHour);
      case 'prune_transitions':
        return this.pruneStep(task, progress, now, pruneCutoff(task, this.retention, now), SQL.pruneTransitions, SQL.oldestPrunableTransition);
      case 'prune_sstp_checks':
        return this.pruneStep(task, progress, now, pruneCutoff(task, this.retention, now), SQL.pruneSstpChecks, SQL.oldestSstpCheck);
      case 'vacuum':
      case 'checkpoint':
        // PostgreSQL's autovacuum and checkpointer do these.
        return null;
    }
  }

  private async targets(progress: HousekeepingProgress): Promise<number[]> {
    progress.targets ??= await this.targetIds();
    return progress.targets;
  }

  /**
   * Rolls up one window of buckets for the next batch of targets that have rows in it (every site's: rows other
   * instances wrote are found as this one's are). `progress.targetIndex` is the lowest target id left.
   */
  private async rollupStep(resolution: RollupResolution, now: number, progress: HousekeepingProgress): Promise<HousekeepingStep | null> {
    const bucketMs = BUCKET_MS[resolution];
    const markName = ROLLED_MARK[resolution];
    let from = this.marks.get(markName);
    const known = from !== undefined;
    if (from === undefined) {
      from = firstRollupMark(resolution, now, await firstResultAt(this.db.pool, Number.MIN_SAFE_INTEGER));
      await writeMark(this.db.pool, markName, from);
      this.marks.set(markName, from);
    }
    const window = rollupWindow(resolution, from, now);
    if (window === null) {
      // Nothing due by the mark this instance knows, but another instance may have moved it back (its late rows)
      // since this one last read it. A window that is due reads the mark in its transaction instead.
      if (!known || progress.targetIndex !== 0) return null;
      const stored = await storedMark(this.db.pool, markName);
      return stored === from ? null : this.markMoved(resolution, stored, performance.now());
    }
    const batchSize = rollupBatch(resolution, window.end - window.start);
    const started = performance.now();
    if (progress.targetIndex === 0) this.walking.set(resolution, from);
    const walkFrom = this.walking.get(resolution) ?? from;
    const done = await this.db.transaction(async (client) => {
      // Locked until this step commits, so no write decides meanwhile that its rows are not late. Another instance
      // may have moved it back since this one last read it (its late rows): the window starts there instead.
      const current = await storedMark(client, markName, true);
      if (current !== from || current !== walkFrom) return { moved: current };
      const samples = await client.query<{ target_id: number; at: number; error_kind: number; uptime_exclusion: number; duration_us: number }>({
        ...SQL.windowSamples,
        values: [progress.targetIndex, window.start, window.end, batchSize],
      });
      const byTarget = new Map<number, RawSample[]>();
      let last = progress.targetIndex;
      for (const r of samples.rows) {
        let list = byTarget.get(r.target_id);
        if (!list) byTarget.set(r.target_id, (list = []));
        list.push({ at: r.at, errorKind: r.error_kind, excluded: r.uptime_exclusion, durationUs: r.duration_us });
        last = Math.max(last, r.target_id);
      }
      const buckets = new Map([...byTarget].map(([id, list]) => [id, aggregate(list, bucketMs)]));
      if (resolution === '1h') await writeHours(client, buckets);
      else await writeMinutes(this.packer, client, buckets, window.start, window.end);
      // A full batch may have left targets after its last one; a short one is the end of the window.
      if (byTarget.size >= batchSize) return { rows: samples.rows.length, nextMark: null, next: last + 1 };
      // The next result is asked for (a seek per target in the server) only when an empty window may be followed by
      // a gap to skip: one that ends where the rollup is caught up (a quiet minute) ends at its own end.
      const empty = progress.windowRows + samples.rows.length === 0;
      const mark = empty && window.end < window.dueUntil ? markAfterEmptyWindow(resolution, window, await firstResultAt(client, window.end)) : window.end;
      await writeMark(client, markName, mark);
      return { rows: samples.rows.length, nextMark: mark, next: last + 1 };
    });
    if ('moved' in done) return this.markMoved(resolution, done.moved, started);
    const { rows, nextMark, next } = done;
    this.steps.floors.rolledUp(resolution, window.start);
    afterRollupStep(progress, this.marks, resolution, { targetIndex: next, rows, nextMark });
    return { task: resolution === '1m' ? 'rollup_minute' : 'rollup_hour', rows, ms: performance.now() - started };
  }

  /**
   * Takes a rollup mark as the database holds it, moved by another instance (back: its late rows) or read again by
   * this one (uptime's refresh) while a window was being walked: the pass starts again, from that mark.
   */
  private markMoved(resolution: RollupResolution, mark: number | undefined, started: number): HousekeepingStep {
    const markName = ROLLED_MARK[resolution];
    if (mark === undefined) this.marks.delete(markName);
    else this.marks.set(markName, mark);
    this.steps.rewound();
    return { task: resolution === '1m' ? 'rollup_minute' : 'rollup_hour', rows: 0, ms: performance.now() - started };
  }

  /**
   * Deletes rows below `cutoff` for a batch of targets, at most HOUSEKEEPING.pruneRows per step. A batch with
   * nothing to delete is asked for its oldest prunable row (`oldest`), for the task's floor.
   */
  private async pruneStep(
    task: PruneTask,
    progress: HousekeepingProgress,
    now: number,
    cutoff: number,
    statement: Statement,
    oldest: Statement,
  ): Promise<HousekeepingStep | null> {
    if (!this.steps.floors.shouldWalk(task, progress, cutoff, now)) return null;
    const targets = await this.targets(progress);
    if (progress.targetIndex >= targets.length) return null;
    const batch = targets.slice(progress.targetIndex, progress.targetIndex + PRUNE_TARGETS);
    const started = performance.now();
    const deleted = await this.db.query(statement, [batch, cutoff, HOUSEKEEPING.pruneRows]);
    const rows = deleted.rowCount ?? 0;
    // A full step may have left rows of this batch: the next step takes the same batch again.
    if (rows < HOUSEKEEPING.pruneRows) {
      // What a delete left is at or after the cutoff; a batch without anything to delete says how far it is.
      const left = rows > 0 ? cutoff : ((await this.db.query<{ at: number | null }>(oldest, [batch])).rows[0]?.at ?? Number.POSITIVE_INFINITY);
      progress.oldestLeft = Math.min(progress.oldestLeft, left);
      progress.targetIndex += batch.length;
    }
    this.steps.floors.afterStep(task, progress, now);
    return { task, rows, ms: performance.now() - started };
  }
}

async function writeMark(client: Queryable, name: MarkName, at: number): Promise<void> {
  await client.query({ ...SQL.upsertMark, values: [name, at] });
}

/** A mark as the database holds it (undefined: none yet); `lock`ed until the transaction ends. */
async function storedMark(client: Queryable, name: MarkName, lock = false): Promise<number | undefined> {
  const { rows } = await client.query<{ at: number }>({ ...(lock ? SQL.lockMark : SQL.selectMark), values: [name] });
  return rows[0]?.at;
}

async function firstResultAt(client: Queryable, from: number): Promise<number | null> {
  const { rows } = await client.query<{ at: number | null }>({ ...SQL.firstResultAt, values: [from] });
  return rows[0]?.at ?? null;
}

async function writeHours(client: Queryable, byTarget: Map<number, Bucket[]>): Promise<void> {
  const rows = [...byTarget].flatMap(([id, buckets]) => buckets.map((b) => ({ id, b })));
  if (rows.length === 0) return;
  await client.query({
    ...SQL.upsertHours,
    values: [
      rows.map((r) => r.id),
      rows.map((r) => r.b.bucket),
      rows.map((r) => r.b.probes),
      rows.map((r) => r.b.failures),
      rows.map((r) => r.b.counted),
      rows.map((r) => r.b.countedFailures),
      rows.map((r) => r.b.sumUs),
      rows.map((r) => r.b.maxUs),
      rows.map((r) => r.b.p95Us),
    ],
  });
}

/** Packed minutes of an hour are merged with the stored minutes outside [windowStart, windowEnd). */
async function writeMinutes(packer: MinutePacker, client: Queryable, byTarget: Map<number, Bucket[]>, windowStart: number, windowEnd: number): Promise<void> {
  if (byTarget.size === 0) return;
  const stored = await client.query<{ target_id: number; hour: number; minutes: Buffer }>({
    ...SQL.minutesOfHours,
    values: [[...byTarget.keys()], bucketStart(windowStart, HOUR_MS), windowEnd],
  });
  const storedBy = new Map(stored.rows.map((r) => [`${r.target_id}:${r.hour}`, r.minutes]));
  const ids: number[] = [];
  const hours: number[] = [];
  const blobs: Buffer[] = [];
  for (const [id, buckets] of byTarget) {
    for (const [hour, fresh] of minutesByHour(buckets)) {
      ids.push(id);
      hours.push(hour);
      blobs.push(packer.merge(hour, storedBy.get(`${id}:${hour}`), fresh, windowStart, windowEnd));
    }
  }
  await client.query({ ...SQL.upsertMinutes, values: [ids, hours, blobs] });
}

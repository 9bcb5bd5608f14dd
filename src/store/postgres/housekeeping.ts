// Rollups and retention on PostgreSQL, in steps: the same marks, windows and results as the SQLite store's
// housekeeping, a batch of targets per statement (a round trip per target would cost more than the work). No
// vacuum or checkpoint task: PostgreSQL's autovacuum and checkpointer do that.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../../config/types.js';
import { BUCKET_MS, HOUR_MS, aggregate, bucketCeil, bucketStart, packMinutes, unpackMinutes, type Bucket, type RawSample } from '../rollup.js';
import { HOUSEKEEPING } from '../sqlite.js';
import type { HousekeepingStep, RollupResolution } from '../store.js';
import type { PostgresConnection, Queryable, Statement } from './connection.js';
import { SQL } from './statements.js';

export type MarkName = 'minute_rolled_until' | 'hour_rolled_until' | 'raw_pruned_before';
const ROLLED_MARK: Record<RollupResolution, MarkName> = { '1m': 'minute_rolled_until', '1h': 'hour_rolled_until' };

type Task = 'rollup_minute' | 'rollup_hour' | 'prune_raw' | 'prune_minute' | 'prune_hour' | 'prune_transitions';
const TASKS: readonly Task[] = ['rollup_minute', 'rollup_hour', 'prune_raw', 'prune_minute', 'prune_hour', 'prune_transitions'];
/** Targets per rollup step: a window of 60 buckets at 2 probes a minute is ~12,000 raw rows for 100 targets. */
const ROLLUP_TARGETS = 100;
const PRUNE_TARGETS = 500;

interface Progress {
  task: number;
  targetIndex: number;
  windowRows: number;
  targets: number[] | null;
  last: number | null;
}
const START: Progress = { task: 0, targetIndex: 0, windowRows: 0, targets: null, last: null };

export class PostgresHousekeeping {
  private hk: Progress = { ...START };

  constructor(
    private readonly db: PostgresConnection,
    /** Shared with the store, which reads them for uptime. */
    private readonly marks: Map<MarkName, number>,
    private readonly retention: RetentionConfig,
    private readonly log: Logger,
    private readonly targetIds: () => number[],
  ) {}

  /** One bounded step due at `now`; null when a full pass is done. Never throws. */
  async step(now: number): Promise<HousekeepingStep | null> {
    while (this.hk.task < TASKS.length) {
      const task = TASKS[this.hk.task]!;
      let step: HousekeepingStep | null;
      try {
        step = await this.runTask(task, now);
      } catch (err) {
        this.log.error({ err, task }, 'housekeeping step failed; it is retried on the next pass');
        this.hk = { ...START };
        return null;
      }
      if (step) return step;
      this.hk = { ...START, task: this.hk.task + 1 };
    }
    this.hk = { ...START };
    return null;
  }

  /** Late results moved a rollup mark back: the rollup in progress restarts from it. */
  restartRollups(): void {
    if (this.hk.task <= 1) this.hk = { ...START };
  }

  /**
   * Runs inside a write: results older than a rollup mark (written late, after an outage) move the mark back so
   * their buckets are rolled up again from raw, never below what raw pruning may have deleted.
   */
  async rewindRollups(client: Queryable, oldestAt: number): Promise<Map<MarkName, number>> {
    const rewound = new Map<MarkName, number>();
    if (!Number.isFinite(oldestAt)) return rewound;
    const pruned = this.marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY;
    for (const resolution of ['1m', '1h'] as const) {
      const name = ROLLED_MARK[resolution];
      const mark = this.marks.get(name);
      if (mark === undefined || oldestAt >= mark) continue;
      const at = Math.max(bucketStart(oldestAt, BUCKET_MS[resolution]), bucketCeil(pruned, BUCKET_MS[resolution]));
      if (at >= mark) continue;
      await writeMark(client, name, at);
      rewound.set(name, at);
    }
    return rewound;
  }

  private async runTask(task: Task, now: number): Promise<HousekeepingStep | null> {
    const { rawMs, minuteMs, hourMs } = this.retention;
    switch (task) {
      case 'rollup_minute':
        return this.rollupStep('1m', now);
      case 'rollup_hour':
        return this.rollupStep('1h', now);
      case 'prune_raw': {
        const minute = this.marks.get('minute_rolled_until');
        const hour = this.marks.get('hour_rolled_until');
        if (minute === undefined || hour === undefined) return null;
        const cutoff = Math.min(now - rawMs, minute, hour);
        if (this.hk.targetIndex === 0 && this.hk.last === null && cutoff > (this.marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY)) {
          // Recorded before deleting: late results are never rolled up into buckets whose raw rows may be gone.
          await writeMark(this.db.pool, 'raw_pruned_before', cutoff);
          this.marks.set('raw_pruned_before', cutoff);
        }
        this.hk.last = cutoff;
        return this.pruneStep(task, SQL.pruneRaw, cutoff);
      }
      case 'prune_minute':
        // Packed by the hour: an hour goes once all of it is older than the retention.
        return this.pruneStep(task, SQL.pruneMinutes, bucketStart(now - minuteMs, HOUR_MS));
      case 'prune_hour':
        return this.pruneStep(task, SQL.pruneHours, now - hourMs);
      case 'prune_transitions':
        return this.pruneStep(task, SQL.pruneTransitions, now - hourMs);
    }
  }

  private targets(): number[] {
    this.hk.targets ??= this.targetIds();
    return this.hk.targets;
  }

  /** Rolls up one window of buckets for a batch of targets. */
  private async rollupStep(resolution: RollupResolution, now: number): Promise<HousekeepingStep | null> {
    const bucketMs = BUCKET_MS[resolution];
    const markName = ROLLED_MARK[resolution];
    const end = bucketStart(now - HOUSEKEEPING.graceMs, bucketMs);
    let from = this.marks.get(markName);
    if (from === undefined) {
      const first = await firstResultAt(this.db.pool, Number.MIN_SAFE_INTEGER);
      from = first === null ? end : Math.min(bucketStart(first, bucketMs), end);
      await writeMark(this.db.pool, markName, from);
      this.marks.set(markName, from);
    }
    if (from >= end) return null;
    const windowStart = from;
    const windowEnd = Math.min(end, from + HOUSEKEEPING.spanBuckets[resolution] * bucketMs);
    const targets = this.targets();
    const batch = targets.slice(this.hk.targetIndex, this.hk.targetIndex + ROLLUP_TARGETS);
    const started = performance.now();
    const { rows, nextMark } = await this.db.transaction(async (client) => {
      const samples = await client.query<{ target_id: number; at: number; error_kind: number; uptime_exclusion: number; duration_us: number }>({
        ...SQL.rawSamples,
        values: [batch, windowStart, windowEnd],
      });
      const byTarget = new Map<number, RawSample[]>();
      for (const r of samples.rows) {
        let list = byTarget.get(r.target_id);
        if (!list) byTarget.set(r.target_id, (list = []));
        list.push({ at: r.at, errorKind: r.error_kind, excluded: r.uptime_exclusion, durationUs: r.duration_us });
      }
      const buckets = new Map([...byTarget].map(([id, list]) => [id, aggregate(list, bucketMs)]));
      if (resolution === '1h') await writeHours(client, buckets);
      else await writeMinutes(client, buckets, windowStart, windowEnd);
      let mark: number | null = null;
      if (this.hk.targetIndex + batch.length >= targets.length) {
        mark = windowEnd;
        if (this.hk.windowRows + samples.rows.length === 0) {
          // Nothing in this window: skip the gap up to the next result.
          const next = await firstResultAt(client, windowEnd);
          mark = next === null ? end : Math.max(windowEnd, Math.min(end, bucketStart(next, bucketMs)));
        }
        await writeMark(client, markName, mark);
      }
      return { rows: samples.rows.length, nextMark: mark };
    });
    if (nextMark === null) {
      this.hk.targetIndex += batch.length;
      this.hk.windowRows += rows;
    } else {
      this.marks.set(markName, nextMark);
      this.hk.targetIndex = 0;
      this.hk.windowRows = 0;
    }
    return { task: resolution === '1m' ? 'rollup_minute' : 'rollup_hour', rows, ms: performance.now() - started };
  }

  /** Deletes rows below `cutoff` for a batch of targets, at most HOUSEKEEPING.pruneRows per step. */
  private async pruneStep(task: Task, statement: Statement, cutoff: number): Promise<HousekeepingStep | null> {
    const targets = this.targets();
    if (this.hk.targetIndex >= targets.length) return null;
    const batch = targets.slice(this.hk.targetIndex, this.hk.targetIndex + PRUNE_TARGETS);
    const started = performance.now();
    const deleted = await this.db.query(statement, [batch, cutoff, HOUSEKEEPING.pruneRows]);
    const rows = deleted.rowCount ?? 0;
    // A full step may have left rows of this batch: the next step takes the same batch again.
    if (rows < HOUSEKEEPING.pruneRows) this.hk.targetIndex += batch.length;
    return { task, rows, ms: performance.now() - started };
  }
}

async function writeMark(client: Queryable, name: MarkName, at: number): Promise<void> {
  await client.query({ ...SQL.upsertMark, values: [name, at] });
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
async function writeMinutes(client: Queryable, byTarget: Map<number, Bucket[]>, windowStart: number, windowEnd: number): Promise<void> {
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
    const byHour = new Map<number, Bucket[]>();
    for (const b of buckets) {
      const hour = bucketStart(b.bucket, HOUR_MS);
      byHour.set(hour, [...(byHour.get(hour) ?? []), b]);
    }
    for (const [hour, fresh] of byHour) {
      const blob = storedBy.get(`${id}:${hour}`);
      const kept = blob ? unpackMinutes(hour, blob).filter((b) => b.bucket < windowStart || b.bucket >= windowEnd) : [];
      ids.push(id);
      hours.push(hour);
      blobs.push(packMinutes(hour, [...kept, ...fresh]));
    }
  }
  await client.query({ ...SQL.upsertMinutes, values: [ids, hours, blobs] });
}

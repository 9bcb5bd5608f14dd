import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/types.js';
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { ERROR_KIND_BY_CODE, ERROR_KIND_CODES } from './codes.js';
import { decodeResult, decodeTransition, encodeResult, encodeTransition, rollupPoint, type ResultRow, type SelectedResult, type SelectedTransition, type TransitionRow } from './codec.js';
import { encodeCursor, historyWindow } from './cursor.js';
import { openDatabase } from './database.js';
import { BoundedQueue } from './queue.js';
import { encodeSstpCheck, SstpCheckLog } from './sstp-checks.js';
import {
  BUCKET_MS,
  HOUR_MS,
  aggregate,
  bucketCeil,
  bucketStart,
  packMinutes,
  unpackMinutes,
  uptimeSegments,
  type Bucket,
  type RawSample,
} from './rollup.js';
import {
  TargetNotFoundError,
  type HistoryPage,
  type HistoryQuery,
  type HousekeepingStep,
  type RollupPoint,
  type RollupResolution,
  type Store,
  type StoredResult,
  type TargetRecord,
  type UptimeCount,
  type UptimeExclusion,
  type WriteHealth,
} from './store.js';

const SELECT_RESULTS = `SELECT r.at, r.error_kind, r.status_code, r.duration_us, r.dns_us, r.connect_us, r.tls_us,
  r.processing_us, r.http_version, r.tls_version, c.sha256, r.message
  FROM results r LEFT JOIN certificates c ON c.certificate_id = r.certificate_id`;

function prepareStatements(db: Database.Database) {
  return {
    upsertTarget: db.prepare<[string, string, string, string, number]>(
      `INSERT INTO targets (name, group_name, role, url, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET group_name = excluded.group_name, role = excluded.role, url = excluded.url
       WHERE group_name <> excluded.group_name OR role <> excluded.role OR url <> excluded.url`,
    ),
    selectTargets: db.prepare<[], { target_id: number; name: string }>('SELECT target_id, name FROM targets'),
    selectCertificate: db.prepare<[string], { certificate_id: number }>(
      'SELECT certificate_id FROM certificates WHERE sha256 = ?',
    ),
    insertCertificate: db.prepare<[string]>('INSERT INTO certificates (sha256) VALUES (?)'),
    insertResult: db.prepare<
      [number, number, number, number | null, number, number | null, number | null, number | null, number | null,
        bigint | string | null, bigint | string | null, number | null, string | null, number]
    >(
      `INSERT INTO results (target_id, at, error_kind, status_code, duration_us, dns_us, connect_us, tls_us,
         processing_us, http_version, tls_version, certificate_id, message, uptime_exclusion)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    insertTransition: db.prepare<[number, number, string, string, string | null, string | null]>(
      `INSERT INTO state_transitions (target_id, at, from_state, to_state, cause, message)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    history: db.prepare<[number, number, number, number], SelectedResult>(
      `${SELECT_RESULTS} WHERE r.target_id = ? AND r.at BETWEEN ? AND ? ORDER BY r.at DESC LIMIT ?`,
    ),
    lastResult: db.prepare<[number], SelectedResult>(
      `${SELECT_RESULTS} WHERE r.target_id = ? ORDER BY r.at DESC LIMIT 1`,
    ),
    lastTransition: db.prepare<[number], SelectedTransition>(
      `SELECT at, from_state, to_state, cause, message FROM state_transitions
       WHERE target_id = ? ORDER BY at DESC LIMIT 1`,
    ),
    transitionBefore: db.prepare<[number, number], SelectedTransition>(
      `SELECT at, from_state, to_state, cause, message FROM state_transitions
       WHERE target_id = ? AND at < ? ORDER BY at DESC LIMIT 1`,
    ),
    transitionsBetween: db.prepare<[number, number, number], SelectedTransition>(
      `SELECT at, from_state, to_state, cause, message FROM state_transitions
       WHERE target_id = ? AND at BETWEEN ? AND ? ORDER BY at LIMIT 100000`,
    ),
    transitionAfter: db.prepare<[number, number], SelectedTransition>(
      `SELECT at, from_state, to_state, cause, message FROM state_transitions
       WHERE target_id = ? AND at > ? ORDER BY at LIMIT 1`,
    ),
    rawSamples: db.prepare<[number, number, number], { at: number; error_kind: number; uptime_exclusion: number; duration_us: number }>(
      `SELECT at, error_kind, uptime_exclusion, duration_us FROM results WHERE target_id = ? AND at >= ? AND at < ?`,
    ),
    rawUptime: db.prepare<[number, number, number], { probes: number; failures: number }>(
      `SELECT count(*) AS probes, coalesce(sum(error_kind <> 0), 0) AS failures FROM results
       WHERE target_id = ? AND at >= ? AND at < ? AND uptime_exclusion = 0`,
    ),
    firstResultAt: db.prepare<[number, number], { at: number | null }>(
      'SELECT min(at) AS at FROM results WHERE target_id = ? AND at >= ?',
    ),
    rawPruneBoundary: db.prepare<[number, number, number], { at: number }>(
      'SELECT at FROM results WHERE target_id = ? AND at < ? ORDER BY at LIMIT 1 OFFSET ?',
    ),
    pruneRaw: db.prepare<[number, number]>('DELETE FROM results WHERE target_id = ? AND at < ?'),
    pruneTransitions: db.prepare<[number, number, number]>(
      `DELETE FROM state_transitions WHERE target_id = ? AND at < ?
         AND at < (SELECT max(at) FROM state_transitions WHERE target_id = ?)`,
    ),
    selectMaintenance: db.prepare<[number], { until: number; reason: string }>(
      'SELECT until, reason FROM maintenance WHERE target_id = ?',
    ),
    upsertMaintenance: db.prepare<[number, number, string, number]>(
      `INSERT INTO maintenance (target_id, until, reason, set_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (target_id) DO UPDATE SET until = excluded.until, reason = excluded.reason, set_at = excluded.set_at`,
    ),
    deleteMaintenance: db.prepare<[number]>('DELETE FROM maintenance WHERE target_id = ?'),
    selectMarks: db.prepare<[], { name: string; at: number }>('SELECT name, at FROM housekeeping_marks'),
    upsertMark: db.prepare<[string, number]>(
      'INSERT INTO housekeeping_marks (name, at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET at = excluded.at',
    ),
    hours: prepareRollupStatements(db, 'rollups_hour'),
    minutes: {
      get: db.prepare<[number, number], { minutes: Buffer }>('SELECT minutes FROM rollups_minute WHERE target_id = ? AND hour = ?'),
      upsert: db.prepare<[number, number, Buffer]>(
        `INSERT INTO rollups_minute (target_id, hour, minutes) VALUES (?, ?, ?)
         ON CONFLICT (target_id, hour) DO UPDATE SET minutes = excluded.minutes`,
      ),
      /** Newest first; iterated until a page is full. */
      range: db.prepare<[number, number, number], { hour: number; minutes: Buffer }>(
        'SELECT hour, minutes FROM rollups_minute WHERE target_id = ? AND hour BETWEEN ? AND ? ORDER BY hour DESC',
      ),
      pruneBoundary: db.prepare<[number, number, number], { hour: number }>(
        'SELECT hour FROM rollups_minute WHERE target_id = ? AND hour < ? ORDER BY hour LIMIT 1 OFFSET ?',
      ),
      prune: db.prepare<[number, number]>('DELETE FROM rollups_minute WHERE target_id = ? AND hour < ?'),
    },
  };
}

interface SelectedRollup {
  bucket: number;
  probes: number;
  failures: number;
  sum_us: number;
  max_us: number;
  p95_us: number;
}

function prepareRollupStatements(db: Database.Database, table: 'rollups_hour') {
  return {
    upsert: db.prepare<[number, number, number, number, number, number, number, number, number]>(
      `INSERT INTO ${table} (target_id, bucket, probes, failures, counted, counted_failures, sum_us, max_us, p95_us)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (target_id, bucket) DO UPDATE SET probes = excluded.probes, failures = excluded.failures,
         counted = excluded.counted, counted_failures = excluded.counted_failures, sum_us = excluded.sum_us,
         max_us = excluded.max_us, p95_us = excluded.p95_us`,
    ),
    page: db.prepare<[number, number, number, number], SelectedRollup>(
      `SELECT bucket, probes, failures, sum_us, max_us, p95_us FROM ${table}
       WHERE target_id = ? AND bucket BETWEEN ? AND ? ORDER BY bucket DESC LIMIT ?`,
    ),
    uptime: db.prepare<[number, number, number], { probes: number; failures: number }>(
      `SELECT coalesce(sum(counted), 0) AS probes, coalesce(sum(counted_failures), 0) AS failures FROM ${table}
       WHERE target_id = ? AND bucket >= ? AND bucket < ?`,
    ),
    pruneBoundary: db.prepare<[number, number, number], { bucket: number }>(
      `SELECT bucket FROM ${table} WHERE target_id = ? AND bucket < ? ORDER BY bucket LIMIT 1 OFFSET ?`,
    ),
    prune: db.prepare<[number, number]>(`DELETE FROM ${table} WHERE target_id = ? AND bucket < ?`),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** How far (ms) a row is moved forward when its target already has one at the same millisecond. */
const MAX_TIME_SHIFT_MS = 1000;
/** Certificate ids kept in memory; the set is cleared when it grows past this (a target rotating certificates). */
const MAX_CACHED_CERTIFICATES = 10_000;

export interface SqliteStoreOptions {
  /** The database file; its directory is created if needed. */
  path: string;
  migrationsDir?: string;
  log: Logger;
  /** Results kept in memory while the database cannot be written; beyond it the oldest are dropped. */
  maxPending?: number;
  now?: () => number;
  /** How long raw results and rollups are kept; default 14 d / 90 d / 400 d. */
  retention?: RetentionConfig;
}

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
} as const;

type HousekeepingTask = HousekeepingStep['task'];
const HOUSEKEEPING_TASKS: readonly HousekeepingTask[] = [
  'rollup_minute', 'rollup_hour', 'prune_raw', 'prune_minute', 'prune_hour', 'prune_transitions', 'vacuum', 'checkpoint',
];
type MarkName = 'minute_rolled_until' | 'hour_rolled_until' | 'raw_pruned_before';
const ROLLED_MARK: Record<RollupResolution, MarkName> = { '1m': 'minute_rolled_until', '1h': 'hour_rolled_until' };

/** Opens, migrates and wraps the database at `options.path`. Throws if it cannot (startup error). */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openDatabase(options.path, { migrationsDir: options.migrationsDir, log: options.log });
  try {
    return new SqliteStore(db, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The Store on SQLite (better-sqlite3): writes are queued and written in one transaction per flush(). */
export class SqliteStore implements Store {
  private readonly statements: Statements;
  private readonly writeBatch: Database.Transaction<
    (results: ResultRow[], transitions: TransitionRow[]) => { certificates: Map<string, number>; rewound: Map<MarkName, number> }
  >;
  private readonly syncBatch: Database.Transaction<(targets: TargetRecord[], createdAt: number) => void>;
  private readonly inTransaction: Database.Transaction<(work: () => void) => void>;
  private readonly retention: RetentionConfig;
  /** Housekeeping progress, as persisted in housekeeping_marks. */
  private readonly marks = new Map<MarkName, number>();
  /** Where the housekeeping pass is: task index, target index within the task, and what the task noted. */
  private hk: { task: number; targetIndex: number; windowRows: number; targets: number[] | null; last: number | null } = {
    task: 0, targetIndex: 0, windowRows: 0, targets: null, last: null,
  };
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly results: BoundedQueue<ResultRow>;
  private readonly transitions: BoundedQueue<TransitionRow>;
  /** The deep SSTP check's results (sstp_checks), written by flush() in a transaction of their own. */
  private readonly sstpChecks: SstpCheckLog;
  private targetIds = new Map<string, number>();
  private readonly warnedTargets = new Set<string>();
  private readonly certificateIds = new Map<string, number>();
  private readonly health: WriteHealth = { ok: true, reason: null, pending: 0, dropped: 0, failedWrites: 0 };
  private closed = false;
  /** Set while results are being dropped for want of room, to log that once per episode. */
  private dropping = false;

  constructor(
    private readonly db: Database.Database,
    options: Pick<SqliteStoreOptions, 'log' | 'maxPending' | 'now' | 'retention'>,
  ) {
    const maxPending = options.maxPending ?? 100_000;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer (got ${maxPending})`);
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.results = new BoundedQueue(maxPending);
    this.transitions = new BoundedQueue(maxPending);
    this.statements = prepareStatements(db);
    this.writeBatch = db.transaction((results: ResultRow[], transitions: TransitionRow[]) =>
      this.writeRows(results, transitions),
    );
    this.syncBatch = db.transaction((targets: TargetRecord[], createdAt: number) => {
      for (const t of targets) this.statements.upsertTarget.run(t.name, t.group, t.role, t.url, createdAt);
    });
    this.inTransaction = db.transaction((work: () => void) => work());
    this.sstpChecks = new SstpCheckLog(db, Math.min(maxPending, 10_000));
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.targetIds = this.loadTargetIds();
    for (const row of this.statements.selectMarks.all()) this.marks.set(row.name as MarkName, row.at);
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    this.syncBatch.immediate(targets, this.now());
    this.targetIds = this.loadTargetIds();
    for (const t of targets) this.warnedTargets.delete(t.name);
  }

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    if (check === 'sstp') {
      this.recordSstp(target, result);
      return;
    }
    try {
      const targetId = this.acceptedTargetId(target, 'result');
      if (targetId === undefined) return;
      const dropped = this.results.push(encodeResult(targetId, result, this.now(), exclusion));
      if (dropped > 0) this.noteDropped(dropped);
    } catch (err) {
      this.log.error({ err, target }, 'result could not be queued; dropped');
    }
  }

  recordTransition(transition: StateTransition): void {
    try {
      const targetId = this.acceptedTargetId(transition.target, 'transition');
      if (targetId === undefined) return;
      if (this.transitions.push(encodeTransition(targetId, transition, this.now())) > 0) {
        this.log.warn({ target: transition.target }, 'transition queue full; oldest transition dropped');
      }
    } catch (err) {
      this.log.error({ err, target: transition.target }, 'transition could not be queued; dropped');
    }
  }

  /** Queues a deep SSTP check's result for sstp_checks (never `results`). Never throws. */
  private recordSstp(target: string, result: ProbeResult): void {
    try {
      const targetId = this.acceptedTargetId(target, 'result');
      if (targetId === undefined) return;
      const code = ERROR_KIND_CODES[result.errorKind] as number | undefined;
      if (code === undefined) throw new TypeError(`unknown error kind ${JSON.stringify(result.errorKind)}`);
      if (this.sstpChecks.push(encodeSstpCheck(targetId, result, code, this.now())) > 0) {
        this.log.warn({ target }, 'deep check queue full; oldest deep check result dropped');
      }
    } catch (err) {
      this.log.error({ err, target }, 'deep check result could not be queued; dropped');
    }
  }

  /** The newest stored deep SSTP check of a target, or null. */
  private lastSstpResult(target: string): StoredResult | null {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    return this.sstpChecks.last(targetId, (code) => {
      const kind = ERROR_KIND_BY_CODE.get(code);
      if (kind === undefined) throw new Error(`sstp_checks row has an unknown error_kind code ${code}`);
      return kind;
    });
  }

  private flushSstpChecks(): void {
    if (this.closed || this.sstpChecks.pending === 0) return;
    try {
      this.inTransaction.immediate(() => this.sstpChecks.write(this.now() - this.retention.rawMs));
      this.sstpChecks.committed();
    } catch (err) {
      this.markFailed(err);
    }
  }

  async flush(): Promise<void> {
    this.flushNow();
  }

  private flushNow(): void {
    this.flushSstpChecks();
    if (this.closed || (this.results.size === 0 && this.transitions.size === 0)) return;
    try {
      const { certificates, rewound } = this.writeBatch.immediate(this.results.toArray(), this.transitions.toArray());
      this.results.clear();
      this.transitions.clear();
      this.rememberCertificates(certificates);
      if (rewound.size > 0) {
        for (const [name, at] of rewound) this.marks.set(name, at);
        // The rollup window in progress restarts from the new mark.
        if (this.hk.task <= 1) this.hk = { task: 0, targetIndex: 0, windowRows: 0, targets: null, last: null };
        this.log.info({ marks: Object.fromEntries(rewound) }, 'late results; their buckets will be rolled up again');
      }
      this.markWritten();
    } catch (err) {
      this.markFailed(err);
    }
  }

  async history(target: string, query: HistoryQuery): Promise<HistoryPage<StoredResult>> {
    const targetId = this.requireTargetId(target);
    const window = historyWindow(query);
    const rows = this.statements.history.all(targetId, window.from, window.to, window.limit + 1);
    const items = rows.slice(0, window.limit).map(decodeResult);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > window.limit && last ? encodeCursor(last.at) : null };
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery): Promise<HistoryPage<RollupPoint>> {
    const targetId = this.requireTargetId(target);
    const window = historyWindow(query, resolution);
    let points: RollupPoint[];
    if (resolution === '1h') {
      points = this.statements.hours.page
        .all(targetId, window.from, window.to, window.limit + 1)
        .map((row) => rollupPoint({ bucket: row.bucket, probes: row.probes, failures: row.failures, sumUs: row.sum_us, maxUs: row.max_us, p95Us: row.p95_us }));
    } else {
      points = [];
      const firstHour = Math.max(Number.MIN_SAFE_INTEGER, bucketStart(window.from, HOUR_MS));
      for (const row of this.statements.minutes.range.iterate(targetId, firstHour, window.to)) {
        const minutes = unpackMinutes(row.hour, row.minutes).filter((b) => b.bucket >= window.from && b.bucket <= window.to);
        for (const b of minutes.reverse()) points.push(rollupPoint(b));
        if (points.length > window.limit) break;
      }
    }
    const items = points.slice(0, window.limit);
    const last = items.at(-1);
    return { items, nextCursor: points.length > window.limit && last ? encodeCursor(last.at, resolution) : null };
  }

  async uptime(target: string, from: number, to: number): Promise<UptimeCount> {
    const targetId = this.requireTargetId(target);
    const count: UptimeCount = { probes: 0, failures: 0 };
    const rolled = (name: MarkName) => this.marks.get(name) ?? Number.NEGATIVE_INFINITY;
    for (const segment of uptimeSegments(from, to, rolled('minute_rolled_until'), rolled('hour_rolled_until'))) {
      if (segment.source === 'minute') {
        for (const row of this.statements.minutes.range.iterate(targetId, bucketStart(segment.from, HOUR_MS), segment.to - 1)) {
          for (const b of unpackMinutes(row.hour, row.minutes)) {
            if (b.bucket < segment.from || b.bucket >= segment.to) continue;
            count.probes += b.counted;
            count.failures += b.countedFailures;
          }
        }
        continue;
      }
      const statement = segment.source === 'raw' ? this.statements.rawUptime : this.statements.hours.uptime;
      const row = statement.get(targetId, segment.from, segment.to);
      count.probes += row?.probes ?? 0;
      count.failures += row?.failures ?? 0;
    }
    return count;
  }

  async transitionsBetween(target: string, from: number, to: number): Promise<StateTransition[]> {
    const targetId = this.requireTargetId(target);
    if (from > to) return [];
    const before = this.statements.transitionBefore.get(targetId, from);
    const within = this.statements.transitionsBetween.all(targetId, from, to);
    const after = this.statements.transitionAfter.get(targetId, to);
    return [...(before ? [before] : []), ...within, ...(after ? [after] : [])].map((row) => decodeTransition(target, row));
  }

  async maintenance(target: string): Promise<Maintenance | null> {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const row = this.statements.selectMaintenance.get(targetId);
    return row ? { until: row.until, reason: row.reason } : null;
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    const targetId = this.requireTargetId(target);
    if (maintenance) this.statements.upsertMaintenance.run(targetId, maintenance.until, maintenance.reason, this.now());
    else this.statements.deleteMaintenance.run(targetId);
  }

  async housekeepingStep(now: number): Promise<HousekeepingStep | null> {
    if (this.closed) return null;
    while (this.hk.task < HOUSEKEEPING_TASKS.length) {
      const task = HOUSEKEEPING_TASKS[this.hk.task]!;
      let step: HousekeepingStep | null;
      try {
        step = this.housekeepingTask(task, now);
      } catch (err) {
        this.log.error({ err, task }, 'housekeeping step failed; it is retried on the next pass');
        this.hk = { task: 0, targetIndex: 0, windowRows: 0, targets: null, last: null };
        return null;
      }
      if (step) return step;
      this.hk = { task: this.hk.task + 1, targetIndex: 0, windowRows: 0, targets: null, last: null };
    }
    this.hk = { task: 0, targetIndex: 0, windowRows: 0, targets: null, last: null };
    return null;
  }

  async lastResult(target: string, check: CheckKind): Promise<StoredResult | null> {
    if (check === 'sstp') return this.lastSstpResult(target);
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const row = this.statements.lastResult.get(targetId);
    return row ? decodeResult(row) : null;
  }

  async lastTransition(target: string): Promise<StateTransition | null> {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const row = this.statements.lastTransition.get(targetId);
    return row ? decodeTransition(target, row) : null;
  }

  writeHealth(): WriteHealth {
    return { ...this.health, pending: this.results.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushNow();
    this.closed = true;
    if (this.results.size > 0 || this.transitions.size > 0) {
      this.log.error(
        { results: this.results.size, transitions: this.transitions.size, reason: this.health.reason },
        'closing the database with unwritten rows; they are lost',
      );
    }
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.log.warn({ err }, 'WAL checkpoint on close failed');
    }
    this.db.close();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Housekeeping: each task is done in steps of one short transaction; null when the task has nothing left.

  private housekeepingTask(task: HousekeepingTask, now: number): HousekeepingStep | null {
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
          // Recorded before deleting: late results are never rolled up into buckets whose raw rows may be gone.
          this.inTransaction.immediate(() => this.writeMark('raw_pruned_before', cutoff));
          this.marks.set('raw_pruned_before', cutoff);
        }
        this.hk.last = cutoff;
        const { rawPruneBoundary, pruneRaw } = this.statements;
        return this.pruneStep(task, cutoff, (id, offset) => rawPruneBoundary.get(id, cutoff, offset)?.at, (id, before) => pruneRaw.run(id, before).changes);
      }
      case 'prune_minute': {
        // Packed by the hour: an hour goes once all of it is older than the retention.
        const cutoff = bucketStart(now - minuteMs, HOUR_MS);
        const { minutes } = this.statements;
        return this.pruneStep(task, cutoff, (id, offset) => minutes.pruneBoundary.get(id, cutoff, offset)?.hour, (id, before) => minutes.prune.run(id, before).changes);
      }
      case 'prune_hour': {
        const cutoff = now - hourMs;
        const { hours } = this.statements;
        return this.pruneStep(task, cutoff, (id, offset) => hours.pruneBoundary.get(id, cutoff, offset)?.bucket, (id, before) => hours.prune.run(id, before).changes);
      }
      case 'prune_transitions': {
        // Transitions are few; each target keeps its newest one whatever its age (the state to restore).
        const cutoff = now - hourMs;
        return this.pruneStep(task, cutoff, () => undefined, (id, before) => this.statements.pruneTransitions.run(id, before, id).changes);
      }
      case 'vacuum':
        return this.vacuumStep();
      case 'checkpoint': {
        if (this.hk.targetIndex > 0) return null;
        this.hk.targetIndex = 1;
        const started = performance.now();
        this.db.pragma('wal_checkpoint(PASSIVE)');
        return { task, rows: 0, ms: performance.now() - started };
      }
    }
  }

  private housekeepingTargets(): number[] {
    this.hk.targets ??= [...new Set(this.targetIds.values())].sort((a, b) => a - b);
    return this.hk.targets;
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
      const start = from;
      this.inTransaction.immediate(() => this.writeMark(markName, start));
      this.marks.set(markName, from);
    }
    if (from >= end) return null;
    const windowStart = from;
    const windowEnd = Math.min(end, from + HOUSEKEEPING.spanBuckets[resolution] * bucketMs);
    const targets = this.housekeepingTargets();
    const started = performance.now();
    let rows = 0;
    let nextMark: number | null = null;
    let targetIndex = this.hk.targetIndex;
    this.inTransaction.immediate(() => {
      while (targetIndex < targets.length && rows < HOUSEKEEPING.rollupRows) {
        const targetId = targets[targetIndex]!;
        const samples: RawSample[] = this.statements.rawSamples.all(targetId, windowStart, windowEnd).map((r) => ({
          at: r.at,
          errorKind: r.error_kind,
          excluded: r.uptime_exclusion,
          durationUs: r.duration_us,
        }));
        this.writeRollups(targetId, resolution, windowStart, windowEnd, aggregate(samples, bucketMs));
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
        this.writeMark(markName, mark);
        nextMark = mark;
      }
    });
    if (nextMark === null) {
      this.hk.targetIndex = targetIndex;
      this.hk.windowRows += rows;
    } else {
      this.marks.set(markName, nextMark);
      this.hk.targetIndex = 0;
      this.hk.windowRows = 0;
    }
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
    const byHour = new Map<number, Bucket[]>();
    for (const b of buckets) {
      const hour = bucketStart(b.bucket, HOUR_MS);
      byHour.set(hour, [...(byHour.get(hour) ?? []), b]);
    }
    for (const [hour, fresh] of byHour) {
      const stored = this.statements.minutes.get.get(targetId, hour);
      const kept = stored ? unpackMinutes(hour, stored.minutes).filter((b) => b.bucket < windowStart || b.bucket >= windowEnd) : [];
      this.statements.minutes.upsert.run(targetId, hour, packMinutes(hour, [...kept, ...fresh]));
    }
  }

  /**
   * Deletes rows below `cutoff`, target by target, at most HOUSEKEEPING.pruneRows per step. `boundary(id, n)`
   * is the key of the (n+1)th oldest row below the cutoff (undefined when there are at most n).
   */
  private pruneStep(
    task: HousekeepingTask,
    cutoff: number,
    boundary: (targetId: number, offset: number) => number | undefined,
    prune: (targetId: number, before: number) => number,
  ): HousekeepingStep | null {
    const targets = this.housekeepingTargets();
    if (this.hk.targetIndex >= targets.length) return null;
    const started = performance.now();
    let rows = 0;
    let targetIndex = this.hk.targetIndex;
    this.inTransaction.immediate(() => {
      while (targetIndex < targets.length && rows < HOUSEKEEPING.pruneRows) {
        const targetId = targets[targetIndex]!;
        const stop = boundary(targetId, HOUSEKEEPING.pruneRows - rows);
        if (stop !== undefined) {
          rows += prune(targetId, stop);
          break;
        }
        rows += prune(targetId, cutoff);
        targetIndex++;
      }
    });
    this.hk.targetIndex = targetIndex;
    return { task, rows, ms: performance.now() - started };
  }

  /** Gives free pages beyond a reserve back to the file system (the reserve is reused by new rows). */
  private vacuumStep(): HousekeepingStep | null {
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) return null;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free <= HOUSEKEEPING.keepFreePages || (this.hk.last !== null && free >= this.hk.last)) return null;
    this.hk.last = free;
    const pages = Math.min(free - HOUSEKEEPING.keepFreePages, HOUSEKEEPING.vacuumPages);
    const started = performance.now();
    this.db.pragma(`incremental_vacuum(${pages})`);
    return { task: 'vacuum', rows: pages, ms: performance.now() - started };
  }

  /** The oldest result at or after `from`, over every target (null when there is none). */
  private firstResultAt(from: number): number | null {
    let first: number | null = null;
    for (const targetId of new Set(this.targetIds.values())) {
      const at = this.statements.firstResultAt.get(targetId, from)?.at ?? null;
      if (at !== null && (first === null || at < first)) first = at;
    }
    return first;
  }

  private writeMark(name: MarkName, at: number): void {
    this.statements.upsertMark.run(name, at);
  }

  /**
   * Runs inside a write: results older than a rollup mark (written late, after an outage) move the mark back,
   * so their buckets are rolled up again from raw, but never below what raw pruning may have deleted.
   */
  private rewindRollups(oldestAt: number): Map<MarkName, number> {
    const rewound = new Map<MarkName, number>();
    const pruned = this.marks.get('raw_pruned_before') ?? Number.NEGATIVE_INFINITY;
    for (const resolution of ['1m', '1h'] as const) {
      const name = ROLLED_MARK[resolution];
      const mark = this.marks.get(name);
      if (mark === undefined || oldestAt >= mark) continue;
      const at = Math.max(bucketStart(oldestAt, BUCKET_MS[resolution]), bucketCeil(pruned, BUCKET_MS[resolution]));
      if (at >= mark) continue;
      this.writeMark(name, at);
      rewound.set(name, at);
    }
    return rewound;
  }

  private loadTargetIds(): Map<string, number> {
    return new Map(this.statements.selectTargets.all().map((row) => [row.name, row.target_id]));
  }

  private requireTargetId(target: string): number {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) throw new TargetNotFoundError(target);
    return targetId;
  }

  /** The target's id if a row may be queued for it; otherwise logs why not (once per unknown target). */
  private acceptedTargetId(target: string, what: 'result' | 'transition'): number | undefined {
    if (this.closed) {
      this.log.warn({ target }, `store is closed; ${what} dropped`);
      return undefined;
    }
    const targetId = this.targetIds.get(target);
    if (targetId === undefined && !this.warnedTargets.has(target)) {
      this.warnedTargets.add(target);
      this.log.warn({ target }, `${what} for a target the store does not know (syncTargets first); dropped`);
    }
    return targetId;
  }

  /** Runs inside the write transaction; returns the certificate ids it looked up or created. */
  private writeRows(results: ResultRow[], transitions: TransitionRow[]): { certificates: Map<string, number>; rewound: Map<MarkName, number> } {
    const certificates = new Map<string, number>();
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const row of results) {
      const certificateId = row.certificateSha256 === null ? null : this.certificateId(row.certificateSha256, certificates);
      this.insertResult(row, certificateId);
      if (row.at < oldestAt) oldestAt = row.at;
    }
    for (const row of transitions) this.insertTransition(row);
    return { certificates, rewound: this.rewindRollups(oldestAt) };
  }

  private certificateId(sha256: string, found: Map<string, number>): number {
    const known = this.certificateIds.get(sha256) ?? found.get(sha256);
    if (known !== undefined) return known;
    const row = this.statements.selectCertificate.get(sha256);
    const id = row ? row.certificate_id : Number(this.statements.insertCertificate.run(sha256).lastInsertRowid);
    found.set(sha256, id);
    return id;
  }

  /** Ids found inside a transaction are only kept once it has committed. */
  private rememberCertificates(found: Map<string, number>): void {
    if (this.certificateIds.size + found.size > MAX_CACHED_CERTIFICATES) this.certificateIds.clear();
    for (const [sha256, id] of found) this.certificateIds.set(sha256, id);
  }

  /**
   * Two results of one target in the same millisecond are both kept: the later one moves forward to the next
   * free millisecond (within MAX_TIME_SHIFT_MS) rather than failing the whole batch or being lost.
   */
  private insertResult(row: ResultRow, certificateId: number | null): void {
    const insert = (at: number) =>
      this.statements.insertResult.run(
        row.targetId, at, row.errorKind, row.statusCode, row.durationUs, row.dnsUs, row.connectUs, row.tlsUs,
        row.processingUs, row.httpVersion, row.tlsVersion, certificateId, row.message, row.uptimeExclusion,
      ).changes > 0;
    const at = this.firstFreeMillisecond(row.at, insert);
    if (at === null) this.log.error({ targetId: row.targetId, at: row.at }, 'no free millisecond for a result; dropped');
    else if (at !== row.at) this.log.warn({ targetId: row.targetId, at: row.at, storedAt: at }, 'result time taken; stored later');
  }

  private insertTransition(row: TransitionRow): void {
    const insert = (at: number) =>
      this.statements.insertTransition.run(row.targetId, at, row.from, row.to, row.cause, row.message).changes > 0;
    const at = this.firstFreeMillisecond(row.at, insert);
    if (at === null) this.log.error({ targetId: row.targetId, at: row.at }, 'no free millisecond for a transition; dropped');
    else if (at !== row.at) this.log.warn({ targetId: row.targetId, at: row.at, storedAt: at }, 'transition time taken; stored later');
  }

  private firstFreeMillisecond(at: number, insert: (at: number) => boolean): number | null {
    for (let shift = 0; shift < MAX_TIME_SHIFT_MS; shift++) {
      if (insert(at + shift)) return at + shift;
    }
    return null;
  }

  private noteDropped(count: number): void {
    if (!this.dropping) {
      this.dropping = true;
      this.log.warn({ maxPending: this.results.size }, 'result queue full; dropping the oldest results');
    }
    this.health.dropped += count;
  }

  private markWritten(): void {
    if (!this.health.ok) this.log.info({ failedWrites: this.health.failedWrites }, 'database writes recovered');
    this.health.ok = true;
    this.health.reason = null;
    this.dropping = false;
  }

  private markFailed(err: unknown): void {
    const reason = describeError(err);
    if (this.health.ok || this.health.reason !== reason) {
      this.log.error({ err, pending: this.results.size }, 'database write failed; rows stay queued');
    }
    this.health.ok = false;
    this.health.reason = reason;
    this.health.failedWrites++;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

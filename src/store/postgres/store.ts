// The store on PostgreSQL (node-postgres, one pool): the same tables and answers as the SQLite store. Writes are
// queued in memory and written in batches (one multi-row INSERT ... unnest per table, a prepared statement); while
// PostgreSQL is down or restarting they wait in the bounded queue and go in when it is back.
import type { Logger } from 'pino';
import type { RetentionConfig } from '../../config/types.js';
import type { Maintenance, StateTransition } from '../../health/types.js';
import type { CheckKind, ErrorKind, ProbeResult } from '../../probe/types.js';
import { HOUR_MS, bucketStart, unpackMinutes, uptimeSegments } from '../rollup.js';
import { ERROR_KIND_CODES } from '../codes.js';
import { decodeResult, decodeTransition, encodeResult, encodeTransition, rollupPoint, type ResultRow, type SelectedResult, type SelectedTransition, type TransitionRow } from '../codec.js';
import { encodeCursor, historyWindow } from '../cursor.js';
import { DEFAULT_RETENTION } from '../sqlite.js';
import { decodeSstpCheck, encodeSstpCheck, type SelectedSstpCheck, type SstpCheckRow } from '../sstp-checks.js';
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
} from '../store.js';
import { PostgresConnection, describePgError, isConnectionError, type PostgresOptions, type Queryable } from './connection.js';
import { PostgresHousekeeping, type MarkName } from './housekeeping.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from './migrate.js';
import { WriteQueue } from './queue.js';
import { INSERT_RESULTS, INSERT_SSTP_CHECKS, INSERT_TRANSITIONS, resultColumns, sstpCheckColumns, transitionColumns } from './rows.js';
import { insertShifting } from './shifting.js';
import { SQL } from './statements.js';

export interface PostgresStoreOptions extends Omit<PostgresOptions, 'log'> {
  log: Logger;
  migrationsDir?: string;
  /** Results kept in memory while PostgreSQL cannot be written; beyond it the oldest are dropped. */
  maxPending?: number;
  now?: () => number;
  retention?: RetentionConfig;
  /** How long the start waits for PostgreSQL to answer (ms). Default 60 s. */
  startupTimeoutMs?: number;
}

/** Rows per INSERT (and transaction): a queue that grew during an outage goes in as several. */
const BATCH_ROWS = 5_000;
const MAX_CACHED_CERTIFICATES = 10_000;
const ERROR_KIND_BY_CODE = new Map(Object.entries(ERROR_KIND_CODES).map(([kind, code]) => [code, kind as ErrorKind]));

/** Connects (waiting for the server up to startupTimeoutMs), migrates and loads. Throws if it cannot (startup error). */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const db = new PostgresConnection(options);
  try {
    await db.waitUntilReachable(options.startupTimeoutMs ?? 60_000);
    await migratePostgres(db, options.migrationsDir ?? POSTGRES_MIGRATIONS_DIR, options.log);
    const store = new PostgresStore(db, options);
    await store.load();
    options.log.info({ database: db.where }, 'PostgreSQL store open');
    return store;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly retention: RetentionConfig;
  private readonly results: WriteQueue<ResultRow>;
  private readonly transitions: WriteQueue<TransitionRow>;
  private readonly sstpChecks: WriteQueue<SstpCheckRow>;
  private targetIds = new Map<string, number>();
  private readonly warnedTargets = new Set<string>();
  private readonly certificateIds = new Map<string, number>();
  private readonly marks = new Map<MarkName, number>();
  private readonly housekeeping: PostgresHousekeeping;
  private readonly health: WriteHealth = { ok: true, reason: null, pending: 0, dropped: 0, failedWrites: 0 };
  private flushing: Promise<void> | null = null;
  private closed = false;
  private dropping = false;

  constructor(
    readonly db: PostgresConnection,
    options: Pick<PostgresStoreOptions, 'log' | 'maxPending' | 'now' | 'retention'>,
  ) {
    const maxPending = options.maxPending ?? 100_000;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer (got ${maxPending})`);
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.results = new WriteQueue(maxPending);
    this.transitions = new WriteQueue(maxPending);
    this.sstpChecks = new WriteQueue(Math.min(maxPending, 10_000));
    this.housekeeping = new PostgresHousekeeping(db, this.marks, this.retention, this.log, () => [...new Set(this.targetIds.values())].sort((a, b) => a - b));
  }

  /** Reads the targets and housekeeping marks (after migrating). */
  async load(): Promise<void> {
    await this.loadTargetIds();
    const marks = await this.db.query<{ name: string; at: number }>(SQL.selectMarks);
    for (const row of marks.rows) this.marks.set(row.name as MarkName, row.at);
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    if (targets.length > 0) {
      await this.db.query(SQL.upsertTargets, [
        targets.map((t) => t.name),
        targets.map((t) => t.group),
        targets.map((t) => t.role),
        targets.map((t) => t.url),
        this.now(),
      ]);
    }
    await this.loadTargetIds();
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

  /** A deep SSTP check's result goes to sstp_checks, apart from the HEAD results (never in their history or uptime). */
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

  /** Writes what is queued, a batch per transaction. Never throws; failures show in writeHealth(). */
  flush(): Promise<void> {
    this.flushing ??= this.writeQueued().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    while (!this.closed && this.sstpChecks.size > 0) {
      const { rows, mark } = this.sstpChecks.peek(BATCH_ROWS);
      if (!(await this.attempt(() => this.writeSstpChecks(rows)))) return;
      this.sstpChecks.commit(mark);
    }
    while (!this.closed && (this.results.size > 0 || this.transitions.size > 0)) {
      const results = this.results.peek(BATCH_ROWS);
      const transitions = this.transitions.peek(BATCH_ROWS);
      const written = await this.attempt(() => this.writeBatch(results.rows, transitions.rows));
      if (!written) return;
      this.results.commit(results.mark);
      this.transitions.commit(transitions.mark);
    }
  }

  /**
   * Runs one write. A connection error leaves the rows queued for the next flush (false: stop for now). Any other
   * error is about these rows themselves (writeBatch has already dropped only the refused ones where it could):
   * they are dropped with a log, so they never hold up the rows queued behind them.
   */
  private async attempt(write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      this.markWritten();
      return true;
    } catch (err) {
      if (isConnectionError(err)) {
        this.markFailed(err);
        return false;
      }
      this.log.error({ err: describePgError(err) }, 'PostgreSQL refused a batch; it is dropped');
      return true;
    }
  }

  private async writeBatch(results: ResultRow[], transitions: TransitionRow[]): Promise<void> {
    try {
      await this.writeRows(results, transitions);
    } catch (err) {
      if (isConnectionError(err) || results.length + transitions.length <= 1) throw err;
      // One row PostgreSQL refuses must not hold up the rest: write them one by one, drop only the refused ones.
      this.log.warn({ err: describePgError(err), rows: results.length + transitions.length }, 'PostgreSQL refused a batch; writing it row by row');
      for (const row of results) await this.writeSingle(() => this.writeRows([row], []), row.targetId, row.at);
      for (const row of transitions) await this.writeSingle(() => this.writeRows([], [row]), row.targetId, row.at);
    }
  }

  private async writeSingle(write: () => Promise<void>, targetId: number, at: number): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isConnectionError(err)) throw err;
      this.log.error({ err: describePgError(err), targetId, at }, 'PostgreSQL refused a row; dropped');
    }
  }

  private async writeRows(results: ResultRow[], transitions: TransitionRow[]): Promise<void> {
    const found = new Map<string, number>();
    const rewound = await this.db.transaction(async (client) => {
      const certificateIds = await this.certificateIdsFor(client, results, found);
      await insertShifting(client, 'results', results, (rows, ats) => [INSERT_RESULTS, resultColumns(rows, ats, rows.map((r) => certificateIds.get(r) ?? null))], this.log, 'result');
      await insertShifting(client, 'state_transitions', transitions, (rows, ats) => [INSERT_TRANSITIONS, transitionColumns(rows, ats)], this.log, 'transition');
      const oldest = results.reduce((min, r) => Math.min(min, r.at), Number.POSITIVE_INFINITY);
      return this.housekeeping.rewindRollups(client, oldest);
    });
    if (this.certificateIds.size + found.size > MAX_CACHED_CERTIFICATES) this.certificateIds.clear();
    for (const [sha256, id] of found) this.certificateIds.set(sha256, id);
    if (rewound.size > 0) {
      for (const [name, at] of rewound) this.marks.set(name, at);
      this.housekeeping.restartRollups();
      this.log.info({ marks: Object.fromEntries(rewound) }, 'late results; their buckets will be rolled up again');
    }
  }

  private async certificateIdsFor(client: Queryable, rows: ResultRow[], found: Map<string, number>): Promise<Map<ResultRow, number>> {
    const missing = [...new Set(rows.map((r) => r.certificateSha256).filter((s): s is string => s !== null && !this.certificateIds.has(s)))];
    if (missing.length > 0) {
      await client.query({ ...SQL.insertCertificates, values: [missing] });
      const selected = await client.query<{ certificate_id: number; sha256: string }>({ ...SQL.selectCertificates, values: [missing] });
      for (const row of selected.rows) found.set(row.sha256, row.certificate_id);
    }
    const ids = new Map<ResultRow, number>();
    for (const row of rows) {
      if (row.certificateSha256 === null) continue;
      const id = this.certificateIds.get(row.certificateSha256) ?? found.get(row.certificateSha256);
      if (id !== undefined) ids.set(row, id);
    }
    return ids;
  }

  private async writeSstpChecks(rows: SstpCheckRow[]): Promise<void> {
    await this.db.transaction(async (client) => {
      await client.query({ ...INSERT_SSTP_CHECKS, values: sstpCheckColumns(rows) });
      const targets = [...new Set(rows.map((r) => r.targetId))];
      await client.query({ ...SQL.pruneSstpChecks, values: [targets, this.now() - this.retention.rawMs] });
    });
  }

  async history(target: string, query: HistoryQuery): Promise<HistoryPage<StoredResult>> {
    const targetId = this.requireTargetId(target);
    const window = historyWindow(query);
    const { rows } = await this.db.query<SelectedResult>(SQL.history, [targetId, window.from, window.to, window.limit + 1]);
    const items = rows.slice(0, window.limit).map(decodeResult);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > window.limit && last ? encodeCursor(last.at) : null };
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery): Promise<HistoryPage<RollupPoint>> {
    const targetId = this.requireTargetId(target);
    const window = historyWindow(query, resolution);
    const points: RollupPoint[] = [];
    if (resolution === '1h') {
      const { rows } = await this.db.query<{ bucket: number; probes: number; failures: number; sum_us: number; max_us: number; p95_us: number }>(
        SQL.hoursPage,
        [targetId, window.from, window.to, window.limit + 1],
      );
      for (const r of rows) points.push(rollupPoint({ bucket: r.bucket, probes: r.probes, failures: r.failures, sumUs: r.sum_us, maxUs: r.max_us, p95Us: r.p95_us }));
    } else {
      // Hours newest first, a few at a time, until the page is full.
      let upTo = window.to;
      const firstHour = Math.max(Number.MIN_SAFE_INTEGER, bucketStart(window.from, HOUR_MS));
      const hoursPerQuery = Math.ceil((window.limit + 1) / 60) + 1;
      while (points.length <= window.limit) {
        const { rows } = await this.db.query<{ hour: number; minutes: Buffer }>(SQL.minutesPage, [targetId, firstHour, upTo, hoursPerQuery]);
        for (const row of rows) {
          const minutes = unpackMinutes(row.hour, row.minutes).filter((b) => b.bucket >= window.from && b.bucket <= window.to);
          for (const b of minutes.reverse()) points.push(rollupPoint(b));
        }
        const oldest = rows.at(-1);
        if (rows.length < hoursPerQuery || !oldest) break;
        upTo = oldest.hour - 1;
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
        const { rows } = await this.db.query<{ hour: number; minutes: Buffer }>(SQL.minutesRange, [targetId, bucketStart(segment.from, HOUR_MS), segment.to - 1]);
        for (const row of rows) {
          for (const b of unpackMinutes(row.hour, row.minutes)) {
            if (b.bucket < segment.from || b.bucket >= segment.to) continue;
            count.probes += b.counted;
            count.failures += b.countedFailures;
          }
        }
        continue;
      }
      const statement = segment.source === 'raw' ? SQL.rawUptime : SQL.hoursUptime;
      const { rows } = await this.db.query<{ probes: number; failures: number }>(statement, [targetId, segment.from, segment.to]);
      count.probes += rows[0]?.probes ?? 0;
      count.failures += rows[0]?.failures ?? 0;
    }
    return count;
  }

  async transitionsBetween(target: string, from: number, to: number): Promise<StateTransition[]> {
    const targetId = this.requireTargetId(target);
    if (from > to) return [];
    const [before, within, after] = await Promise.all([
      this.db.query<SelectedTransition>(SQL.transitionBefore, [targetId, from]),
      this.db.query<SelectedTransition>(SQL.transitionsBetween, [targetId, from, to]),
      this.db.query<SelectedTransition>(SQL.transitionAfter, [targetId, to]),
    ]);
    return [...before.rows, ...within.rows, ...after.rows].map((row) => decodeTransition(target, row));
  }

  async maintenance(target: string): Promise<Maintenance | null> {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const { rows } = await this.db.query<{ until: number; reason: string }>(SQL.selectMaintenance, [targetId]);
    return rows[0] ? { until: rows[0].until, reason: rows[0].reason } : null;
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    const targetId = this.requireTargetId(target);
    if (maintenance) await this.db.query(SQL.upsertMaintenance, [targetId, maintenance.until, maintenance.reason, this.now()]);
    else await this.db.query(SQL.deleteMaintenance, [targetId]);
  }

  housekeepingStep(now: number): Promise<HousekeepingStep | null> {
    if (this.closed) return Promise.resolve(null);
    return this.housekeeping.step(now);
  }

  async lastResult(target: string, check: CheckKind): Promise<StoredResult | null> {
    if (check === 'sstp') return this.lastSstpResult(target);
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const { rows } = await this.db.query<SelectedResult>(SQL.lastResult, [targetId]);
    return rows[0] ? decodeResult(rows[0]) : null;
  }

  async lastTransition(target: string): Promise<StateTransition | null> {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const { rows } = await this.db.query<SelectedTransition>(SQL.lastTransition, [targetId]);
    return rows[0] ? decodeTransition(target, rows[0]) : null;
  }

  private async lastSstpResult(target: string): Promise<StoredResult | null> {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) return null;
    const { rows } = await this.db.query<SelectedSstpCheck>(SQL.lastSstpCheck, [targetId]);
    if (!rows[0]) return null;
    return decodeSstpCheck(rows[0], (code) => {
      const kind = ERROR_KIND_BY_CODE.get(code);
      if (kind === undefined) throw new Error(`sstp_checks row has an unknown error_kind code ${code}`);
      return kind;
    });
  }

  writeHealth(): WriteHealth {
    return { ...this.health, pending: this.results.size };
  }

  /** Writes what is queued (if PostgreSQL answers) and closes the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.results.size > 0 || this.transitions.size > 0) {
      this.log.error(
        { results: this.results.size, transitions: this.transitions.size, reason: this.health.reason },
        'closing the database with unwritten rows; they are lost',
      );
    }
    await this.db.close();
  }

  private async loadTargetIds(): Promise<void> {
    const { rows } = await this.db.query<{ target_id: number; name: string }>(SQL.selectTargets);
    this.targetIds = new Map(rows.map((row) => [row.name, row.target_id]));
  }

  private requireTargetId(target: string): number {
    const targetId = this.targetIds.get(target);
    if (targetId === undefined) throw new TargetNotFoundError(target);
    return targetId;
  }

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
    const reason = `PostgreSQL: ${describePgError(err)}`;
    if (this.health.ok || this.health.reason !== reason) {
      this.log.error({ err: reason, pending: this.results.size, database: this.db.where }, 'database write failed; rows stay queued');
    }
    this.health.ok = false;
    this.health.reason = reason;
    this.health.failedWrites++;
  }
}

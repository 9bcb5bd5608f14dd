import type { TargetRole } from '../config/types.js';
import type { SiteStates, SiteTargetState } from '../health/sites.js';
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';

/** A result as read back from the store: the certificate details are not kept per row, only its SHA-256. */
export type StoredResult = Omit<ProbeResult, 'certificate'>;

export interface TargetRecord {
  name: string;
  group: string;
  role: TargetRole;
  url: string;
}

export interface HistoryQuery {
  /** Inclusive lower bound, ms. */
  from?: number;
  /** Inclusive upper bound, ms. */
  to?: number;
  /** 1..10000 */
  limit: number;
  /** Opaque, from a previous page's nextCursor. */
  cursor?: string;
}

export interface HistoryPage<T> {
  /** Newest first. */
  items: T[];
  /** Null when there is nothing older within the query. */
  nextCursor: string | null;
}

/**
 * Why a result does not count for uptime: the target was in maintenance, or the result gives no verdict about it
 * (state unknown, or a probe sstpwatch itself failed to make: error kind monitor_error). Null: it counts.
 */
export type UptimeExclusion = 'maintenance' | 'unknown' | null;

export type RollupResolution = '1m' | '1h';

/** One rollup bucket as the history shows it. Durations cover every probe of the bucket, ok or failed. */
export interface RollupPoint {
  /** Start of the bucket, ms. */
  at: number;
  probes: number;
  failures: number;
  avgMs: number;
  maxMs: number;
  /** Exact nearest-rank 95th percentile of the bucket's raw durations. */
  p95Ms: number;
}

/** Probes that count for uptime in a time range, and how many of them failed. */
export interface UptimeCount {
  probes: number;
  failures: number;
}

/** What one bounded housekeeping step did (one short write transaction, or a checkpoint). */
export interface HousekeepingStep {
  task:
    | 'rollup_minute'
    | 'rollup_hour'
    | 'prune_raw'
    | 'prune_minute'
    | 'prune_hour'
    | 'prune_transitions'
    | 'prune_sstp_checks'
    | 'vacuum'
    | 'checkpoint';
  /** Rows read (rollups), deleted (prunes) or pages freed (vacuum). */
  rows: number;
  /** How long the step held the database, ms. */
  ms: number;
}

export interface WriteHealth {
  ok: boolean;
  /** Why the last write failed, while it is failing. */
  reason: string | null;
  /** Results waiting in memory for the next write. */
  pending: number;
  /** Results dropped because the in-memory buffer was full (oldest first). */
  dropped: number;
  failedWrites: number;
}

/** The cursor could not be decoded: a client error (400), never a 500. */
export class InvalidCursorError extends Error {
  constructor(cursor: string) {
    super(`invalid cursor ${JSON.stringify(cursor.slice(0, 64))}`);
    this.name = 'InvalidCursorError';
  }
}

/**
 * The database cannot answer right now (a database server restarting, a connection cut): the API answers 503
 * with the reason, never 500, and results keep waiting in the write queue.
 */
export class StoreUnavailableError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`the database is unavailable: ${reason}`, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A read did not finish within its deadline (a table locked, a server too busy): the API answers 503 with
 * Retry-After, never 500, and the database has stopped working on it.
 */
export class StoreTimeoutError extends StoreUnavailableError {
  constructor(
    readonly timeoutMs: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`no answer within ${timeoutMs / 1000} s (${reason})`, options);
    this.name = 'StoreTimeoutError';
  }
}

/** A read named a site the database has no targets of: a client error (404), with the sites there are. */
export class UnknownSiteError extends Error {
  constructor(
    readonly site: string,
    readonly known: readonly string[],
  ) {
    super(`no site named ${JSON.stringify(site)} has probed anything here (sites: ${known.map((s) => JSON.stringify(s)).join(', ')})`);
    this.name = 'UnknownSiteError';
  }
}

/** What a target publishes of its live state for other instances (the store adds the site and the write time). */
export type PublishedState = Omit<SiteTargetState, 'site' | 'target' | 'updatedAt'>;

/** What a target resumes from when it arrives (a start, a reload, shards taken over): see restoreHealth(). */
export interface RecordedState {
  /** Its newest recorded transition, or null. */
  transition: StateTransition | null;
  /** The maintenance window recorded for it, or null. */
  maintenance: Maintenance | null;
}

export class TargetNotFoundError extends Error {
  constructor(readonly target: string) {
    super(`no target named ${JSON.stringify(target)}`);
    this.name = 'TargetNotFoundError';
  }
}

/**
 * Where results and state transitions live. Writes are queued in memory and written in batches, so a slow
 * or failing disk never delays or fails a probe; reads see only what has been written. Every method that
 * touches the database returns a Promise (a server database cannot answer synchronously); queueing does not.
 */
export interface Store {
  /**
   * The vantage point this store writes for ('' is the unnamed default site). Writes and the reads without a site
   * are this site's. SQLite and the in-memory store hold one site; PostgreSQL holds every site's targets apart.
   */
  readonly site: string;
  /** Every site the database has targets of, sorted (this store's own site included). */
  sites(): Promise<string[]>;
  /** Makes sure every configured target has a row; keeps rows (and history) of targets no longer configured. */
  syncTargets(targets: TargetRecord[]): Promise<void>;
  /**
   * Queues the result of one check of a target for the next batch. Never throws. `exclusion`: why a `head`
   * result does not count for uptime (null: it counts); other kinds never count for uptime.
   */
  record(target: string, check: CheckKind, result: ProbeResult, exclusion?: UptimeExclusion): void;
  /** Queues a state transition for the next batch. Never throws. */
  recordTransition(transition: StateTransition): void;
  /** Writes everything queued, in one transaction. Never rejects; failures show in writeHealth(). */
  flush(): Promise<void>;
  /**
   * Queues a target's live state for the next flush, which writes only the targets that changed since the last
   * one (the newest state of each). Never throws. Other instances read it through siteStates().
   */
  publishState(target: string, state: PublishedState): void;
  /**
   * The live state of every target of every site as last flushed, with the store's clock. A row keeps its object
   * while it does not change (so callers can cache on identity).
   */
  siteStates(): Promise<SiteStates>;
  /**
   * The history reads below take a `site` (default: this store's). Another site's target is read as it is stored;
   * a site the database has no targets of rejects with UnknownSiteError.
   */
  /** Raw `head` results of one target, newest first, cursor-paginated. Rejects with TargetNotFoundError, InvalidCursorError. */
  history(target: string, query: HistoryQuery, site?: string): Promise<HistoryPage<StoredResult>>;
  /** Minute or hour rollups of one target, newest first, cursor-paginated. Rejects like history(). */
  rollups(target: string, resolution: RollupResolution, query: HistoryQuery, site?: string): Promise<HistoryPage<RollupPoint>>;
  /** Counted probes and failures with `at` in [from, to), read from rollups wherever they exist. Rejects with TargetNotFoundError. */
  uptime(target: string, from: number, to: number, site?: string): Promise<UptimeCount>;
  /**
   * The transitions of a target with `at` in [from, to], oldest first, plus the one before `from` and the one
   * after `to` (so a period in progress at either end is complete); nothing when from > to. Rejects with
   * TargetNotFoundError.
   */
  transitionsBetween(target: string, from: number, to: number, site?: string): Promise<StateTransition[]>;
  /** The maintenance window recorded for a target, or null. */
  maintenance(target: string): Promise<Maintenance | null>;
  /** Every maintenance window recorded for this site's targets, by name (another instance may have set one). */
  maintenanceWindows(): Promise<Map<string, Maintenance>>;
  /**
   * Records (or with null, removes) a target's maintenance window, now (not queued), for every site of the target:
   * a maintenance window is about the server, not the vantage point. Rejects if it cannot.
   */
  setMaintenance(target: string, maintenance: Maintenance | null): Promise<void>;
  /**
   * Does one bounded step of rollup, retention, vacuum or checkpoint work due at `now`; null when a full pass is
   * done (the next call starts a new pass). Never rejects: a failing step is logged and the pass ends.
   */
  housekeepingStep(now: number): Promise<HousekeepingStep | null>;
  /**
   * The recorded state of each named target of this site (a name it has no row of, or no history of, gets nulls),
   * read a few hundred targets per query: a start or a takeover of thousands of targets is a handful of round trips.
   */
  recordedStates(targets: readonly string[]): Promise<Map<string, RecordedState>>;
  /** The newest recorded transition of a target, or null. */
  lastTransition(target: string): Promise<StateTransition | null>;
  /** The newest stored result of one check of a target, or null. */
  lastResult(target: string, check: CheckKind): Promise<StoredResult | null>;
  /** How the writes are going; read at every scrape and readiness check, so answered from memory. */
  writeHealth(): WriteHealth;
  /** Flushes, checkpoints and closes the database. Idempotent. */
  close(): Promise<void>;
}

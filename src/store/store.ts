import type { TargetRole } from '../config/types.js';
import type { StateTransition } from '../health/types.js';
import type { ProbeResult } from '../probe/types.js';

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

export class TargetNotFoundError extends Error {
  constructor(readonly target: string) {
    super(`no target named ${JSON.stringify(target)}`);
    this.name = 'TargetNotFoundError';
  }
}

/**
 * Where results and state transitions live. Writes are queued in memory and written in batches, so a slow
 * or failing disk never delays or fails a probe; reads see only what has been written.
 */
export interface Store {
  /** Makes sure every configured target has a row; keeps rows (and history) of targets no longer configured. */
  syncTargets(targets: TargetRecord[]): void;
  /** Queues a result for the next batch. Never throws. */
  record(target: string, result: ProbeResult): void;
  /** Queues a state transition for the next batch. Never throws. */
  recordTransition(transition: StateTransition): void;
  /** Writes everything queued, in one transaction. Never throws; failures show in writeHealth(). */
  flush(): void;
  /** Raw results of one target, newest first, cursor-paginated. Throws TargetNotFoundError, InvalidCursorError. */
  history(target: string, query: HistoryQuery): HistoryPage<StoredResult>;
  /** The newest recorded transition of a target, or null. */
  lastTransition(target: string): StateTransition | null;
  /** The newest recorded result of a target, or null. */
  lastResult(target: string): StoredResult | null;
  writeHealth(): WriteHealth;
  /** Flushes, checkpoints and closes the database. */
  close(): void;
}

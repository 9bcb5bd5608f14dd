// The in-memory store's tables: one target's rows, each kept sorted by `at` with one row per millisecond (the
// primary key the SQL stores have), searched by bisection.
import type { Maintenance } from '../health/types.js';
import type { ResultRow, SelectedResult, SelectedTransition, TransitionRow } from './codec.js';
import type { Bucket } from './rollup.js';
import type { SelectedSstpCheck, SstpCheckRow } from './sstp-checks.js';
import type { TargetRecord } from './store.js';

/** Everything kept of one target, as the SQL stores' tables keep it (rows keyed by target and `at`). */
export interface TargetTables {
  id: number;
  record: TargetRecord;
  /** `head` results, oldest first, one per millisecond. */
  results: ResultRow[];
  /** Oldest first, one per millisecond. */
  transitions: TransitionRow[];
  /** Deep SSTP checks, oldest first, one per millisecond. */
  sstpChecks: SstpCheckRow[];
  /** Minute rollups packed by the hour (packMinutes), keyed by the hour's start. */
  minutes: Map<number, Buffer>;
  /** Hour rollups keyed by the bucket's start. */
  hours: Map<number, Bucket>;
  maintenance: Maintenance | null;
}

export function newTables(id: number, record: TargetRecord): TargetTables {
  return { id, record, results: [], transitions: [], sstpChecks: [], minutes: new Map(), hours: new Map(), maintenance: null };
}

/** The index of the first row with `at` >= `at` (rows sorted by `at`). */
export function lowerBound(rows: readonly { at: number }[], at: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `row` at its `at`, unless a row already has that millisecond (then false: ON CONFLICT DO NOTHING). */
export function insertUnique<R extends { at: number }>(rows: R[], row: R): boolean {
  const last = rows.at(-1);
  if (last === undefined || last.at < row.at) {
    rows.push(row);
    return true;
  }
  const index = lowerBound(rows, row.at);
  if (rows[index]?.at === row.at) return false;
  rows.splice(index, 0, row);
  return true;
}

/** The rows with `at` in [from, to). */
export function rowsBetween<R extends { at: number }>(rows: readonly R[], from: number, to: number): R[] {
  return rows.slice(lowerBound(rows, from), lowerBound(rows, to));
}

/** A stored result as the SQL stores select it (the certificate is kept as its hash: nothing to join). */
export function selectedResult(row: ResultRow): SelectedResult {
  return {
    at: row.at,
    error_kind: row.errorKind,
    status_code: row.statusCode,
    duration_us: row.durationUs,
    dns_us: row.dnsUs,
    connect_us: row.connectUs,
    tls_us: row.tlsUs,
    processing_us: row.processingUs,
    http_version: typeof row.httpVersion === 'bigint' ? Number(row.httpVersion) : row.httpVersion,
    tls_version: typeof row.tlsVersion === 'bigint' ? Number(row.tlsVersion) : row.tlsVersion,
    sha256: row.certificateSha256,
    message: row.message,
  };
}

export function selectedTransition(row: TransitionRow): SelectedTransition {
  return { at: row.at, from_state: row.from, to_state: row.to, cause: row.cause, message: row.message };
}

export function selectedSstpCheck(row: SstpCheckRow): SelectedSstpCheck {
  return {
    at: row.at,
    error_kind: row.errorKind,
    stage: row.stage,
    reply: row.reply,
    status_code: row.statusCode,
    duration_us: row.durationUs,
    dns_us: row.dnsUs,
    connect_us: row.connectUs,
    tls_us: row.tlsUs,
    http_us: row.httpUs,
    call_us: row.callUs,
    disconnect_us: row.disconnectUs,
    hash_bitmask: row.hashBitmask,
    sstp_status: row.sstpStatus,
    status_attribute: row.statusAttribute,
    disconnect: row.disconnect,
    tls_version: row.tlsVersion,
    correlation_id: row.correlationId,
    message: row.message,
  };
}

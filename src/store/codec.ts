// Rows: a result or a transition as it is queued and stored, and read back. Shared by every store on SQL.
import { STATUS_CODES } from 'node:http';
import { TARGET_STATES, type StateTransition, type TargetState } from '../health/types.js';
import { describeOk } from '../probe/classify.js';
import type { ErrorKind, PhasesMs, ProbeResult } from '../probe/types.js';
import { ERROR_KIND_BY_CODE, ERROR_KIND_CODES, HTTP_VERSION_BY_CODE, HTTP_VERSION_CODES, TLS_VERSION_BY_CODE, TLS_VERSION_CODES, UPTIME_EXCLUSION_CODES } from './codes.js';
import { unpackMinutes, type Bucket } from './rollup.js';
import type { RollupPoint, StoredResult, UptimeCount, UptimeExclusion } from './store.js';

/** A result ready to insert: everything but the certificate id, which is resolved inside the write. */
export interface ResultRow {
  targetId: number;
  at: number;
  errorKind: number;
  statusCode: number | null;
  durationUs: number;
  dnsUs: number | null;
  connectUs: number | null;
  tlsUs: number | null;
  processingUs: number | null;
  /** A code as a bigint: better-sqlite3 binds a JS number as REAL, which an ANY column keeps (8 bytes). */
  httpVersion: bigint | string | null;
  tlsVersion: bigint | string | null;
  certificateSha256: string | null;
  message: string | null;
  /** 0 counts for uptime; see UPTIME_EXCLUSION_CODES. */
  uptimeExclusion: number;
}

export interface TransitionRow {
  targetId: number;
  at: number;
  from: TargetState;
  to: TargetState;
  cause: ErrorKind | null;
  message: string | null;
}

/** A `results` row as selected (joined with its certificate). */
export interface SelectedResult {
  at: number;
  error_kind: number;
  status_code: number | null;
  duration_us: number;
  dns_us: number | null;
  connect_us: number | null;
  tls_us: number | null;
  processing_us: number | null;
  http_version: number | string | null;
  tls_version: number | string | null;
  sha256: string | null;
  message: string | null;
}

/** A `rollups_hour` row as selected for a page. */
export interface SelectedHour {
  bucket: number;
  probes: number;
  failures: number;
  sum_us: number;
  max_us: number;
  p95_us: number;
}

export interface SelectedTransition {
  at: number;
  from_state: string;
  to_state: string;
  cause: string | null;
  message: string | null;
}

/** Milliseconds -> integer microseconds; null for a missing or unusable value. */
export function toMicros(ms: number | undefined): number | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  const us = Math.round(ms * 1000);
  return Number.isSafeInteger(us) ? us : null;
}

export function toInteger(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const integer = Math.round(value);
  return Number.isSafeInteger(integer) ? integer : null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function encodeVersion(value: unknown, codes: Readonly<Record<string, number>>): bigint | string | null {
  const text = nonEmptyString(value);
  if (text === null) return null;
  const code = codes[text];
  return code === undefined ? text : BigInt(code);
}

function decodeVersion(value: number | string | null, byCode: ReadonlyMap<number, string>): string | null {
  if (value === null || typeof value === 'string') return value;
  return byCode.get(value) ?? String(value);
}

/**
 * A result as it will be stored. Never yields a row the database could refuse: numbers become safe integers
 * (an unusable `at` becomes `fallbackAt`, an unusable duration 0, an unusable phase or status NULL).
 * Throws only for an error kind that has no code.
 */
export function encodeResult(targetId: number, result: ProbeResult, fallbackAt: number, exclusion: UptimeExclusion = null): ResultRow {
  const errorKind = ERROR_KIND_CODES[result.errorKind] as number | undefined;
  if (errorKind === undefined) throw new TypeError(`unknown error kind ${JSON.stringify(result.errorKind)}`);
  const phases: PhasesMs = result.phasesMs ?? {};
  return {
    targetId,
    at: toInteger(result.at) ?? fallbackAt,
    errorKind,
    statusCode: toInteger(result.statusCode),
    durationUs: toMicros(result.durationMs) ?? 0,
    dnsUs: toMicros(phases.dns),
    connectUs: toMicros(phases.connect),
    tlsUs: toMicros(phases.tls),
    processingUs: toMicros(phases.processing),
    httpVersion: encodeVersion(result.httpVersion, HTTP_VERSION_CODES),
    tlsVersion: encodeVersion(result.tlsVersion, TLS_VERSION_CODES),
    certificateSha256: nonEmptyString(result.certificateSha256),
    message: encodeMessage(result),
    uptimeExclusion: exclusion === null ? 0 : UPTIME_EXCLUSION_CODES[exclusion],
  };
}

/**
 * An ok result's message is the status line it got ("HTTP/1.1 401 Unauthorized", ~25 bytes a row): stored as
 * NULL when it is the standard one for its version and status, and rebuilt on read. Any other text is kept; an
 * empty message is kept as '' (as small as NULL in the record format).
 */
function encodeMessage(result: ProbeResult): string | null {
  const message = typeof result.message === 'string' ? result.message : '';
  const standard = result.errorKind === 'ok' ? standardOkMessage(result.httpVersion, result.statusCode) : null;
  return standard !== null && message === standard ? null : message;
}

function decodeMessage(errorKind: ErrorKind, statusCode: number | null, httpVersion: number | string | null): string {
  if (errorKind !== 'ok') return ''; // rows written before this rule stored an empty message as NULL
  return standardOkMessage(decodeVersion(httpVersion, HTTP_VERSION_BY_CODE), statusCode) ?? '';
}

function standardOkMessage(httpVersion: string | null, statusCode: number | null): string | null {
  if (!httpVersion || statusCode === null || !Number.isSafeInteger(statusCode)) return null;
  return describeOk(httpVersion, statusCode, STATUS_CODES[statusCode] ?? '');
}

function decodePhases(row: SelectedResult): PhasesMs {
  const phases: PhasesMs = {};
  if (row.dns_us !== null) phases.dns = row.dns_us / 1000;
  if (row.connect_us !== null) phases.connect = row.connect_us / 1000;
  if (row.tls_us !== null) phases.tls = row.tls_us / 1000;
  if (row.processing_us !== null) phases.processing = row.processing_us / 1000;
  return phases;
}

export function decodeResult(row: SelectedResult): StoredResult {
  const errorKind = ERROR_KIND_BY_CODE.get(row.error_kind);
  if (errorKind === undefined) throw new Error(`results row at ${row.at} has an unknown error_kind code ${row.error_kind}`);
  return {
    at: row.at,
    ok: errorKind === 'ok',
    errorKind,
    message: row.message ?? decodeMessage(errorKind, row.status_code, row.http_version),
    statusCode: row.status_code,
    httpVersion: decodeVersion(row.http_version, HTTP_VERSION_BY_CODE),
    durationMs: row.duration_us / 1000,
    phasesMs: decodePhases(row),
    tlsVersion: decodeVersion(row.tls_version, TLS_VERSION_BY_CODE),
    certificateSha256: row.sha256,
  };
}

/** A transition as it will be stored; throws for a state that is not a TargetState (never stored). */
export function encodeTransition(targetId: number, transition: StateTransition, fallbackAt: number): TransitionRow {
  return {
    targetId,
    at: toInteger(transition.at) ?? fallbackAt,
    from: asTargetState(transition.from),
    to: asTargetState(transition.to),
    cause: typeof transition.cause === 'string' ? transition.cause : null,
    message: typeof transition.message === 'string' ? transition.message : null,
  };
}

function asTargetState(value: unknown): TargetState {
  if (!(TARGET_STATES as readonly unknown[]).includes(value)) throw new TypeError(`unknown target state ${JSON.stringify(value)}`);
  return value as TargetState;
}

export function decodeTransition(target: string, row: SelectedTransition): StateTransition {
  return {
    target,
    at: row.at,
    from: asTargetState(row.from_state),
    to: asTargetState(row.to_state),
    cause: row.cause as ErrorKind | null,
    message: row.message,
  };
}

/** A rollup bucket as the history shows it. */
export function rollupPoint(b: Pick<Bucket, 'bucket' | 'probes' | 'failures' | 'sumUs' | 'maxUs' | 'p95Us'>): RollupPoint {
  return {
    at: b.bucket,
    probes: b.probes,
    failures: b.failures,
    avgMs: b.probes > 0 ? Math.round(b.sumUs / b.probes) / 1000 : 0,
    maxMs: b.maxUs / 1000,
    p95Ms: b.p95Us / 1000,
  };
}

export function hourPoint(row: SelectedHour): RollupPoint {
  return rollupPoint({ bucket: row.bucket, probes: row.probes, failures: row.failures, sumUs: row.sum_us, maxUs: row.max_us, p95Us: row.p95_us });
}

/** The minutes of a packed hour with `at` in [from, to] (inclusive), newest first. */
export function minutePoints(hour: number, minutes: Uint8Array, from: number, to: number): RollupPoint[] {
  return unpackMinutes(hour, minutes)
    .filter((b) => b.bucket >= from && b.bucket <= to)
    .reverse()
    .map(rollupPoint);
}

/** Adds the probes of a packed hour's minutes in [from, to) that count for uptime. */
export function countMinutes(count: UptimeCount, hour: number, minutes: Uint8Array, from: number, to: number): void {
  for (const b of unpackMinutes(hour, minutes)) {
    if (b.bucket < from || b.bucket >= to) continue;
    count.probes += b.counted;
    count.failures += b.countedFailures;
  }
}

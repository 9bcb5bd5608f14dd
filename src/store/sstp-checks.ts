// The deep SSTP check's rows in `sstp_checks` (migrations/0003_sstp_checks.sql), as queued and as read back. Kept
// apart from `results` so the deep check's cadence never shows in the HEAD probe's history, rollups or uptime.
import { hashWarning } from '../probe/sstp-frames.js';
import type { ProbeResult, SstpDetails, SstpStage } from '../probe/types.js';
import { ERROR_KIND_BY_CODE, ERROR_KIND_CODES } from './codes.js';
import { toInteger, toMicros } from './codec.js';
import type { StoredResult } from './store.js';

/** Stored codes (file format: never change or reuse one). */
const SSTP_STAGE_CODES: Readonly<Record<SstpStage, number>> = { none: 0, transport: 1, http: 2, call_reply: 3, disconnect_ack: 4 };
const SSTP_REPLY_CODES: Readonly<Record<NonNullable<SstpDetails['reply']>, number>> = { ack: 1, nak: 2, abort: 3, disconnect: 4 };

const STAGE_BY_CODE = new Map(Object.entries(SSTP_STAGE_CODES).map(([k, v]) => [v, k as SstpStage]));
const REPLY_BY_CODE = new Map(Object.entries(SSTP_REPLY_CODES).map(([k, v]) => [v, k as NonNullable<SstpDetails['reply']>]));

export interface SstpCheckRow {
  targetId: number;
  at: number;
  errorKind: number;
  stage: number;
  reply: number | null;
  statusCode: number | null;
  durationUs: number;
  dnsUs: number | null;
  connectUs: number | null;
  tlsUs: number | null;
  httpUs: number | null;
  callUs: number | null;
  disconnectUs: number | null;
  hashBitmask: number | null;
  sstpStatus: number | null;
  statusAttribute: number | null;
  disconnect: number;
  tlsVersion: string | null;
  correlationId: string | null;
  message: string | null;
}

export interface SelectedSstpCheck {
  at: number;
  error_kind: number;
  stage: number;
  reply: number | null;
  status_code: number | null;
  duration_us: number;
  dns_us: number | null;
  connect_us: number | null;
  tls_us: number | null;
  http_us: number | null;
  call_us: number | null;
  disconnect_us: number | null;
  hash_bitmask: number | null;
  sstp_status: number | null;
  status_attribute: number | null;
  disconnect: number;
  tls_version: string | null;
  correlation_id: string | null;
  message: string | null;
}

const us = toMicros;
const int = toInteger;
const ms = (value: number | null): number | undefined => (value === null ? undefined : value / 1000);

/** A deep check's result as stored. Throws only for an error kind that has no code. */
export function encodeSstpCheck(targetId: number, result: ProbeResult, fallbackAt: number): SstpCheckRow {
  const errorKind = ERROR_KIND_CODES[result.errorKind] as number | undefined;
  if (errorKind === undefined) throw new TypeError(`unknown error kind ${JSON.stringify(result.errorKind)}`);
  const sstp = result.sstp;
  return {
    targetId,
    at: int(result.at) ?? fallbackAt,
    errorKind,
    stage: SSTP_STAGE_CODES[sstp?.stageReached ?? 'none'] ?? 0,
    reply: sstp?.reply ? SSTP_REPLY_CODES[sstp.reply] : null,
    statusCode: int(result.statusCode),
    durationUs: us(result.durationMs) ?? 0,
    dnsUs: us(result.phasesMs.dns),
    connectUs: us(result.phasesMs.connect),
    tlsUs: us(result.phasesMs.tls),
    httpUs: us(sstp?.stagesMs.http),
    callUs: us(sstp?.stagesMs.call),
    disconnectUs: us(sstp?.stagesMs.disconnect),
    hashBitmask: int(sstp?.hashBitmask),
    sstpStatus: int(sstp?.status?.code),
    statusAttribute: int(sstp?.status?.attributeId),
    // How the call ended: 0 nothing sent, 1 Call Disconnect sent, 2 and acknowledged, 3 Call Abort sent.
    disconnect: sstp?.abortSent ? 3 : sstp?.disconnectAcked ? 2 : sstp?.disconnectSent ? 1 : 0,
    tlsVersion: result.tlsVersion || null,
    correlationId: sstp?.correlationId || null,
    message: result.message || null,
  };
}

export function decodeSstpCheck(row: SelectedSstpCheck): StoredResult {
  const errorKind = ERROR_KIND_BY_CODE.get(row.error_kind);
  if (errorKind === undefined) throw new Error(`sstp_checks row at ${row.at} has an unknown error_kind code ${row.error_kind}`);
  const phasesMs: StoredResult['phasesMs'] = {};
  if (row.dns_us !== null) phasesMs.dns = row.dns_us / 1000;
  if (row.connect_us !== null) phasesMs.connect = row.connect_us / 1000;
  if (row.tls_us !== null) phasesMs.tls = row.tls_us / 1000;
  if (row.http_us !== null) phasesMs.processing = row.http_us / 1000;
  const stagesMs: SstpDetails['stagesMs'] = {};
  if (row.http_us !== null) stagesMs.http = ms(row.http_us);
  if (row.call_us !== null) stagesMs.call = ms(row.call_us);
  if (row.disconnect_us !== null) stagesMs.disconnect = ms(row.disconnect_us);
  return {
    at: row.at,
    ok: errorKind === 'ok',
    errorKind,
    message: row.message ?? '',
    statusCode: row.status_code,
    httpVersion: row.status_code === null ? null : '1.1',
    durationMs: row.duration_us / 1000,
    phasesMs,
    tlsVersion: row.tls_version,
    certificateSha256: null,
    sstp: {
      stageReached: STAGE_BY_CODE.get(row.stage) ?? 'none',
      reply: row.reply === null ? null : (REPLY_BY_CODE.get(row.reply) ?? null),
      stagesMs,
      hashBitmask: row.hash_bitmask,
      status: row.sstp_status === null ? null : { code: row.sstp_status, attributeId: row.status_attribute ?? 0 },
      disconnectSent: row.disconnect === 1 || row.disconnect === 2,
      disconnectAcked: row.disconnect === 2,
      abortSent: row.disconnect === 3,
      warning: errorKind === 'ok' ? hashWarning(row.hash_bitmask) : null,
      correlationId: row.correlation_id ?? '',
    },
  };
}

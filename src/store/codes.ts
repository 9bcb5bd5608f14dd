// Stored codes. They are part of the file format: never change or reuse a code; give a new value the next one.
import type { ErrorKind } from '../probe/types.js';
import type { UptimeExclusion } from './store.js';

/** `results.error_kind`. A Record, so a kind added to ERROR_KINDS without a code here fails to compile. */
export const ERROR_KIND_CODES: Readonly<Record<ErrorKind, number>> = {
  ok: 0,
  unexpected_status: 1,
  http_version: 2,
  http_protocol: 3,
  timeout: 4,
  dns: 5,
  connect_refused: 6,
  connect_reset: 7,
  network: 8,
  tls_handshake: 9,
  cert_untrusted: 10,
  cert_expired: 11,
  cert_not_yet_valid: 12,
  cert_hostname_mismatch: 13,
  sstp_http_status: 14,
  sstp_no_response: 15,
  sstp_nak: 16,
  sstp_abort: 17,
  sstp_bad_frame: 18,
  sstp_no_sha256: 19,
  monitor_error: 20,
};

/** `results.http_version`: these values are stored as their code, any other string as itself. */
export const HTTP_VERSION_CODES: Readonly<Record<string, number>> = { '1.1': 1, '1.0': 2, '2': 3, '2.0': 4, '0.9': 5 };

/** `results.tls_version` (Node's getProtocol() names): coded like HTTP_VERSION_CODES. */
export const TLS_VERSION_CODES: Readonly<Record<string, number>> = {
  'TLSv1.3': 1,
  'TLSv1.2': 2,
  'TLSv1.1': 3,
  TLSv1: 4,
  SSLv3: 5,
};

/** `results.uptime_exclusion`: 0 counts for uptime. */
export const UPTIME_EXCLUSION_CODES: Readonly<Record<Exclude<UptimeExclusion, null>, number>> = { maintenance: 1, unknown: 2 };

export const ERROR_KIND_BY_CODE = invert(ERROR_KIND_CODES) as ReadonlyMap<number, ErrorKind>;
export const HTTP_VERSION_BY_CODE = invert(HTTP_VERSION_CODES);
export const TLS_VERSION_BY_CODE = invert(TLS_VERSION_CODES);

function invert(codes: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(codes).map(([value, code]) => [code, value]));
}

// Pure decisions of the probes: which error kind a failure is, what to tell a person about it, and
// where the HTTP response head ends. No I/O here; transport.ts and the check kinds do the talking.
import type { CertificateInfo, ErrorKind } from './types.js';

/** Where a probe was when it failed or stalled. `http` = request written, waiting for the response head. */
export type ProbeStage = 'dns' | 'connect' | 'tls' | 'http';

/** The fields Node puts on socket, DNS and OpenSSL errors. */
export interface ErrorLike {
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
  reason?: unknown;
  library?: unknown;
}

const RESET_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE']);
const NETWORK_CODES = new Set([
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENONET',
  'EADDRNOTAVAIL',
  'EACCES',
  'EPERM',
]);

/**
 * The monitor itself out of resources: too many open files (the process's or the system's limit), no buffer space,
 * no memory. A probe failing with these says nothing about the target.
 */
const MONITOR_CODES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/** OpenSSL verification results (socket.authorizationError) and Node's own hostname check. */
const CERT_KINDS: Record<string, ErrorKind> = {
  CERT_HAS_EXPIRED: 'cert_expired',
  CERT_NOT_YET_VALID: 'cert_not_yet_valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'cert_hostname_mismatch',
  HOSTNAME_MISMATCH: 'cert_hostname_mismatch',
  IP_ADDRESS_MISMATCH: 'cert_hostname_mismatch',
};

/** Verification codes that mean "not trusted"; any other verification code is treated the same way. */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'UNABLE_TO_GET_CRL',
  'CRL_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_SIGNATURE_FAILURE',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
]);

/** The error kind of a verification code from `socket.authorizationError` or a hostname check. */
export function certificateErrorKind(code: string): ErrorKind {
  return CERT_KINDS[code] ?? 'cert_untrusted';
}

function isCertificateCode(code: string): boolean {
  return code in CERT_KINDS || UNTRUSTED_CODES.has(code);
}

function isTlsError(err: ErrorLike): boolean {
  const code = typeof err.code === 'string' ? err.code : '';
  return code.startsWith('ERR_SSL_') || code === 'EPROTO' || err.library === 'SSL routines';
}

/**
 * Maps a Node error to exactly one error kind, given the stage it happened in.
 * A reset or close while TLS is being negotiated is `tls_handshake` (a wrong or missing HTTP.sys certificate
 * binding looks exactly like that); the same before TLS or after the request was written is `connect_reset`.
 */
export function classifyError(error: unknown, stage: ProbeStage): ErrorKind {
  const err = asErrorLike(error);
  const code = typeof err.code === 'string' ? err.code : '';
  if (MONITOR_CODES.has(code)) return 'monitor_error';
  if (stage === 'dns') return 'dns';
  if (isCertificateCode(code)) return certificateErrorKind(code);
  if (isTlsError(err)) return 'tls_handshake';
  if (code === 'ECONNREFUSED') return 'connect_refused';
  if (RESET_CODES.has(code)) return stage === 'tls' ? 'tls_handshake' : 'connect_reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (NETWORK_CODES.has(code)) return 'network';
  return stage === 'tls' ? 'tls_handshake' : 'network';
}

/** A short sentence for a failure: `connection refused by 10.0.0.11:443`. `peer` is `address:port`. */
export function describeProbeError(error: unknown, stage: ProbeStage, peer: string, host: string): string {
  const err = asErrorLike(error);
  const code = typeof err.code === 'string' ? err.code : '';
  const detail = code ? ` (${code})` : '';
  if (MONITOR_CODES.has(code)) return `sstpwatch could not probe: ${MONITOR_REASONS[code]} (${code} during ${stageName(stage)}); this says nothing about the target`;
  if (stage === 'dns') return `cannot resolve ${host}: ${dnsReason(code, err)}`;
  if (isTlsError(err)) return `TLS handshake failed: ${opensslReason(err)}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${peer}`;
    case 'ETIMEDOUT':
      return `connection to ${peer} timed out`;
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
      return `no route to host ${peer}${detail}`;
    case 'ENETUNREACH':
    case 'ENETDOWN':
    case 'ENONET':
      return `network unreachable for ${peer}${detail}`;
  }
  if (RESET_CODES.has(code)) return describeReset(err, stage, peer);
  return `${stageName(stage)} failed: ${messageOf(err)}${detail && !messageOf(err).includes(code) ? detail : ''}`;
}

const MONITOR_REASONS: Record<string, string> = {
  EMFILE: 'the sstpwatch process is out of file descriptors',
  ENFILE: 'the system is out of file descriptors',
  ENOBUFS: 'the system is out of socket buffers',
  ENOMEM: 'the system is out of memory',
};

function describeReset(err: ErrorLike, stage: ProbeStage, peer: string): string {
  // Node reports a peer that closed (FIN) during the handshake as ECONNRESET without a syscall.
  const closed = err.syscall === undefined && err.code === 'ECONNRESET';
  const what = closed ? 'closed' : 'reset';
  if (stage === 'tls') return `connection ${what} by ${peer} during the TLS handshake`;
  if (stage === 'http') return `connection ${what} by ${peer} after the request, before any response`;
  return `connection ${what} by ${peer}`;
}

function dnsReason(code: string, err: ErrorLike): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_NONAME':
      return 'no such name (ENOTFOUND)';
    case 'EAI_AGAIN':
      return 'DNS server not answering or temporary failure (EAI_AGAIN)';
    case 'ENODATA':
    case 'EAI_NODATA':
      return `no address records (${code})`;
    default:
      return code ? `${messageOf(err)} (${code})` : messageOf(err);
  }
}

/** OpenSSL's reason (`wrong version number`, `sslv3 alert handshake failure`) or the message. */
function opensslReason(err: ErrorLike): string {
  if (typeof err.reason === 'string' && err.reason) return err.reason;
  const message = messageOf(err);
  const routines = /SSL routines:[^:]*:([^:\n]+)/.exec(message);
  return routines?.[1]?.trim() ?? message;
}

/** A sentence for a failed certificate check. `now` decides whether the leaf or the chain is at fault. */
export function describeCertificateError(
  code: string,
  cert: CertificateInfo | null,
  hostname: string,
  now: number,
): string {
  const issuer = cert ? ` ${cert.issuer}` : '';
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return cert && cert.notAfter < now
        ? `certificate expired on ${iso(cert.notAfter)}`
        : 'a certificate in the chain has expired';
    case 'CERT_NOT_YET_VALID':
      return cert && cert.notBefore > now
        ? `certificate not valid before ${iso(cert.notBefore)}`
        : 'a certificate in the chain is not valid yet';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
    case 'IP_ADDRESS_MISMATCH':
      return `certificate is not valid for ${hostname}${cert ? ` (it names ${certificateNames(cert)})` : ''}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `certificate is self-signed and not trusted (${code})`;
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `certificate chain ends in an untrusted root (${code})`;
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return `certificate issuer not trusted:${issuer} (${code})`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `certificate issuer neither sent by the server nor trusted:${issuer} (${code})`;
    case 'INVALID_PURPOSE':
      return `certificate is not valid for server authentication: no Server Authentication EKU (${code})`;
    case 'CERT_REVOKED':
      return `certificate revoked (${code})`;
    default:
      return `certificate not trusted (${code})`;
  }
}

function certificateNames(cert: CertificateInfo): string {
  if (cert.san.length > 0) return cert.san.join(', ');
  return cert.subject || 'no names';
}

/** `no TLS handshake within 5s`, `TLS done, no HTTP response within 5s`. */
export function describeTimeout(
  stage: ProbeStage,
  timeoutMs: number,
  ctx: { host: string; peer: string; offload: boolean; responseBytes: number },
): string {
  const within = formatTimeout(timeoutMs);
  switch (stage) {
    case 'dns':
      return `no DNS answer for ${ctx.host} within ${within}`;
    case 'connect':
      return `no TCP connection to ${ctx.peer} within ${within}`;
    case 'tls':
      return `no TLS handshake within ${within}`;
    case 'http':
      if (ctx.responseBytes > 0) return `response headers incomplete after ${within} (${ctx.responseBytes} bytes)`;
      return `${ctx.offload ? 'connected' : 'TLS done'}, no HTTP response within ${within}`;
  }
}

/** An external abort (shutdown, a cancelled check). It is reported as a timeout of the stage it hit. */
export function describeAbort(stage: ProbeStage): string {
  return `probe aborted during ${stageName(stage)}`;
}

function stageName(stage: ProbeStage): string {
  switch (stage) {
    case 'dns':
      return 'name resolution';
    case 'connect':
      return 'the TCP connect';
    case 'tls':
      return 'the TLS handshake';
    case 'http':
      return 'the wait for the HTTP response';
  }
}

/** An ok result's message: the status line as received, e.g. `HTTP/1.1 401 Unauthorized`. */
export function describeOk(httpVersion: string, statusCode: number, reason: string): string {
  return `HTTP/${httpVersion} ${statusCode}${reason ? ` ${reason}` : ''}`;
}

/** `expected 401, got 404`; `expected 401 or 200, got 404`. */
export function describeUnexpectedStatus(expected: readonly number[], got: number): string {
  const list = expected.length <= 1 ? String(expected[0] ?? '?') : `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}`;
  return `expected ${list}, got ${got}`;
}

/** 5000 -> `5s`, 1500 -> `1.5s`, 250 -> `250ms`. */
export function formatTimeout(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 100) / 10}s`;
}

// ---------------------------------------------------------------------------------------------------
// The HTTP response head

export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

export interface ResponseHead {
  /** `1.1`, `1.0` */
  httpVersion: string;
  statusCode: number;
  reason: string;
  /** Lowercased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
}

export type ResponseHeadParse =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  /** `length`: the bytes of the head, blank line included (what follows is the body or the next protocol). */
  | { state: 'complete'; head: ResponseHead; length: number };

const STATUS_LINE = /^HTTP\/(\d(?:\.\d)?) ([1-9]\d\d)(?:[ \t]([^\r\n]*))?$/;
const HTTP_PREFIX = Buffer.from('HTTP/');
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const LF_LF = Buffer.from('\n\n');
const LF = 0x0a;
const CR = 0x0d;

/** RFC 9110 tchar: the characters of a header name. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+.^_`|~-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHAR[c.charCodeAt(0)] = 1;

/**
 * Parses the status line and header block received so far. Bails out as early as the bytes allow: a first
 * byte that cannot start `HTTP/`, a malformed status line, or a head beyond `maxBytes`. Every probe runs it, so it
 * scans the bytes once by hand instead of splitting lines and matching a pattern per header.
 */
export function parseResponseHead(data: Buffer, maxBytes = MAX_RESPONSE_HEAD_BYTES): ResponseHeadParse {
  const prefix = Math.min(data.length, HTTP_PREFIX.length);
  if (data.compare(HTTP_PREFIX, 0, prefix, 0, prefix) !== 0) {
    return { state: 'invalid', reason: `not an HTTP response: ${describeBytes(data)}` };
  }
  const end = headEnd(data, maxBytes);
  if (end === -1) {
    if (data.length > maxBytes) return { state: 'invalid', reason: `response headers exceed ${maxBytes / 1024} KiB` };
    const firstLineEnd = data.indexOf(LF);
    if (firstLineEnd !== -1) {
      const line = data.toString('latin1', 0, firstLineEnd).replace(/\r$/, '');
      if (!STATUS_LINE.test(line)) return { state: 'invalid', reason: `malformed status line: ${quote(line)}` };
    }
    return { state: 'incomplete' };
  }
  const parsed = parseHeadText(data.toString('latin1', 0, end));
  if (parsed.state !== 'complete') return parsed;
  return { state: 'complete', head: parsed.head, length: end };
}

/** Index just past the blank line ending the head (CRLF CRLF, or bare LF LF as lenient parsers allow), or -1. */
function headEnd(data: Buffer, maxBytes: number): number {
  const window = data.length > maxBytes + 4 ? data.subarray(0, maxBytes + 4) : data;
  const crlf = window.indexOf(CRLF_CRLF);
  const lf = window.indexOf(LF_LF);
  if (crlf === -1) return lf === -1 ? -1 : lf + 2;
  return lf === -1 || crlf + 4 < lf + 2 ? crlf + 4 : lf + 2;
}

/**
 * The head's lines (each ended by LF or CRLF; the blank line that ends the head is not one), the first the status
 * line, the others `name: value` with optional spaces or tabs around the value and no CR left in it.
 */
function parseHeadText(text: string): { state: 'invalid'; reason: string } | { state: 'complete'; head: ResponseHead } {
  // Without the blank line's LF (and the CR before it): what is left is lines each ended by CRLF or LF.
  const last = text.charCodeAt(text.length - 2) === CR ? text.length - 2 : text.length - 1;
  let lf = text.indexOf('\n');
  const statusLine = text.slice(0, lf > 0 && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf);
  const status = STATUS_LINE.exec(statusLine);
  if (!status) return { state: 'invalid', reason: `malformed status line: ${quote(statusLine)}` };
  const headers: Record<string, string> = {};
  const lowered = text.toLowerCase(); // header names are ASCII: one call for every name
  for (let at = lf + 1; at < last; at = lf + 1) {
    lf = text.indexOf('\n', at);
    const end = lf > at && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    const colon = headerColon(text, at, end);
    if (colon === -1) return { state: 'invalid', reason: `malformed header line: ${quote(text.slice(at, end))}` };
    let from = colon + 1;
    let to = end;
    while (from < to && isBlank(text.charCodeAt(from))) from++;
    while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
    const name = lowered.slice(at, colon);
    const value = text.slice(from, to);
    // Own keys only: a header named `constructor` is not Object's.
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${value}` : value;
  }
  return {
    state: 'complete',
    head: { httpVersion: status[1]!, statusCode: Number(status[2]), reason: status[3] ?? '', headers },
  };
}

/** Where the colon of a `name: value` line in text[start, end) is, or -1 when the line is not one (a CR in it too). */
function headerColon(text: string, start: number, end: number): number {
  let colon = start;
  while (colon < end && TOKEN_CHAR[text.charCodeAt(colon)] === 1) colon++;
  if (colon === start || colon === end || text.charCodeAt(colon) !== 0x3a) return -1;
  for (let i = colon + 1; i < end; i++) if (text.charCodeAt(i) === CR) return -1;
  return colon;
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/** What arrived instead of HTTP: a TLS record (the port expects TLS), printable text, or hex. */
export function describeBytes(data: Buffer): string {
  const first = data[0];
  if ((first === 0x15 || first === 0x16) && data[1] === 0x03) {
    return `a TLS ${first === 0x15 ? 'alert' : 'handshake'} record (${hex(data.subarray(0, 7))})`;
  }
  const sample = data.subarray(0, 32);
  const printable = [...sample].every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0d || b === 0x0a || b === 0x09);
  return printable ? quote(sample.toString('latin1')) : hex(data.subarray(0, 16));
}

function hex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function asErrorLike(error: unknown): ErrorLike {
  return typeof error === 'object' && error !== null ? error : { message: String(error) };
}

function messageOf(err: ErrorLike): string {
  return typeof err.message === 'string' && err.message ? err.message : 'unknown error';
}

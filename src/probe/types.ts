import type { TargetConfig } from '../config/types.js';

/** Exactly one per result; the contract's list. Issues may add kinds; none is renamed. */
export const ERROR_KINDS = [
  'ok',
  'unexpected_status',
  'http_version',
  'http_protocol',
  'timeout',
  'dns',
  'connect_refused',
  'connect_reset',
  'network',
  'tls_handshake',
  'cert_untrusted',
  'cert_expired',
  'cert_not_yet_valid',
  'cert_hostname_mismatch',
  // The deep SSTP check (probe/sstp.ts) only:
  'sstp_http_status',
  'sstp_no_response',
  'sstp_nak',
  'sstp_abort',
  'sstp_bad_frame',
  'sstp_no_sha256',
  // The probe could not be made because sstpwatch itself failed (out of file descriptors or memory, or it refused
  // to write a malformed request): says nothing about the target, never counts toward fall nor opens an incident.
  'monitor_error',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface PhasesMs {
  dns?: number;
  connect?: number;
  tls?: number;
  processing?: number;
}

/** The leaf certificate the target presented. Times are integer ms since the epoch. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  san: string[];
  notBefore: number;
  notAfter: number;
  sha256: string;
  keyType: string;
  keyBits: number | null;
}

/** Where a certificate sits in the chain. */
export type CertificatePosition = 'leaf' | 'intermediate' | 'root';

/** One certificate of a presented chain, with what the SSTP checks need. Times are integer ms. */
export interface CertificateDetails extends CertificateInfo {
  commonName: string | null;
  /** Uppercase hex, no leading zero bytes. */
  serialNumber: string;
  /** Extended Key Usage OIDs; null when the certificate has no EKU extension. */
  ekus: string[] | null;
  isCa: boolean;
  /** Subject equals issuer and the certificate signs itself: a root. */
  selfIssued: boolean;
  /** CRL distribution points (URIs). */
  crlUrls: string[];
  /** OCSP responders from Authority Information Access. */
  ocspUrls: string[];
  caIssuerUrls: string[];
  /** The certificate itself: what CRL and OCSP signatures are verified against. Never presented by the API. */
  der: Buffer;
}

/** What an SSTP client checks on the presented chain (see probe/chain.ts). */
export interface ChainChecks {
  /** The leaf carries the Server Authentication EKU (or anyExtendedKeyUsage). */
  serverAuthEku: boolean;
  /** The group's public name is among the leaf's names (RFC 6125, wildcards). */
  nameMatchesHostname: boolean;
  /** The chain leads to a root the prober trusts (validity dates and purpose aside). */
  chainTrusted: boolean;
  /** OpenSSL's code when chainTrusted is false. */
  chainError: string | null;
  /** The certificate of the chain that expires first. */
  earliestExpiry: { notAfter: number; position: CertificatePosition; subject: string; sha256: string };
}

/** What one probe saw. `at` is when the probe finished, integer ms since the epoch. */
export interface ProbeResult {
  at: number;
  ok: boolean;
  errorKind: ErrorKind;
  message: string;
  statusCode: number | null;
  httpVersion: string | null;
  durationMs: number;
  phasesMs: PhasesMs;
  tlsVersion: string | null;
  certificateSha256: string | null;
  /** Leaf certificate details when one was presented (also on verification failures). Not stored per row. */
  certificate: CertificateInfo | null;
  /** The chain after the handshake, leaf first (absent on plain HTTP or when no certificate came). Not stored. */
  chain?: CertificateDetails[];
  /** The leaf's SSTP checks on that chain (absent with the chain). Not stored. */
  chainChecks?: ChainChecks;
  /** Only on results of the deep SSTP check (probe/sstp.ts): how far the SSTP handshake got. */
  sstp?: SstpDetails;
}

/**
 * How far a deep SSTP check got, in order: `none` (no transport), `transport` (TCP and TLS up), `http`
 * (200 to SSTP_DUPLEX_POST), `call_reply` (the server answered Call Connect Request: see `reply`),
 * `disconnect_ack` (the call was then closed cleanly).
 */
export type SstpStage = 'none' | 'transport' | 'http' | 'call_reply' | 'disconnect_ack';

export interface SstpDetails {
  stageReached: SstpStage;
  /** The server's answer to Call Connect Request. */
  reply: 'ack' | 'nak' | 'abort' | 'disconnect' | null;
  /** Per-stage timings: POST -> 200, Call Connect Request -> reply, Call Disconnect -> Disconnect Ack. */
  stagesMs: { http?: number; call?: number; disconnect?: number };
  /** The Crypto Binding Request's hash protocols (0x01 SHA-1, 0x02 SHA-256), from a Call Connect Ack. */
  hashBitmask: number | null;
  /** The Status Info of a Nak, an Abort or a Disconnect: the status code and the attribute it refers to. */
  status: { code: number; attributeId: number } | null;
  /** The probe sent Call Disconnect (or acknowledged the server's). */
  disconnectSent: boolean;
  /** The call was closed cleanly: Call Disconnect Ack received (or the server's Disconnect acknowledged). */
  disconnectAcked: boolean;
  /** The probe sent Call Abort: answering the server's Call Abort, or an invalid message from it. */
  abortSent: boolean;
  /** An accepted call with a weakness: the Crypto Binding Request offers SHA-1 only. Null otherwise. */
  warning: string | null;
  /** SSTPCORRELATIONID sent with the POST: finds this check in the server's logs. */
  correlationId: string;
}

/** What a probe needs: the configured target (url, hostname, settings). */
export type ProbeTarget = Pick<TargetConfig, 'name' | 'url' | 'hostname' | 'offload' | 'settings'>;

/**
 * One probe function signature for every probe kind. It never rejects: every failure is a result
 * with an error kind and a message. It is bounded by target.settings.timeoutMs and by `signal`.
 */
export type ProbeFn = (target: ProbeTarget, signal?: AbortSignal) => Promise<ProbeResult>;

/** The kinds of check a target can run: the HEAD probe (drives up/down) and the deep SSTP handshake. */
export type CheckKind = 'head' | 'sstp';

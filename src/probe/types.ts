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
}

/** What a probe needs: the configured target (url, hostname, settings). */
export type ProbeTarget = Pick<TargetConfig, 'name' | 'url' | 'hostname' | 'offload' | 'settings'>;

/**
 * One probe function signature for every probe kind. It never rejects: every failure is a result
 * with an error kind and a message. It is bounded by target.settings.timeoutMs and by `signal`.
 */
export type ProbeFn = (target: ProbeTarget, signal?: AbortSignal) => Promise<ProbeResult>;

// `sstpwatch check` argument parsing: the command line -> what to probe and how to report it. Pure but for
// reading the --ca file; a bad command line is a UsageError (exit 2 with the message and the usage).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { timerLimitProblem, tryParseDuration } from '../config/duration.js';
import { builtInProbeSettings } from '../config/defaults.js';
import { normalizeSha256 } from '../config/groups.js';
import { isHostname } from '../config/readers.js';
import type { ProbeTarget } from '../probe/types.js';
import { checkThresholds, type AppliedThresholds, type ThresholdEnvironment } from './check-thresholds.js';

const CHECK_OPTIONS = {
  hostname: { type: 'string' },
  offload: { type: 'boolean' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  path: { type: 'string' },
  expect: { type: 'string' },
  json: { type: 'boolean' },
  sstp: { type: 'boolean' },
  'offload-hash': { type: 'string' },
  'no-revocation': { type: 'boolean' },
  config: { type: 'string' },
  'warn-days': { type: 'string' },
  'critical-days': { type: 'string' },
  'slow-threshold': { type: 'string' },
} as const;

/** A command line that cannot be run: exit 2 with the message. */
export class UsageError extends Error {}

export interface CheckRequest {
  target: ProbeTarget;
  /** --sstp: the deep SSTP check instead of the HEAD probe. */
  sstp: boolean;
  json: boolean;
  /** --offload-hash: the hash set on the offloaded RRAS servers behind this load balancer (normalized). */
  offloadHash: string | null;
  /** false with --no-revocation: do not check the chain's CRL/OCSP sources. */
  revocation: boolean;
  /** The certificate and slow-probe thresholds applied (also set in target.settings), and where they came from. */
  applied: AppliedThresholds;
}

export function parseCheckArgs(args: string[], environment?: ThresholdEnvironment): CheckRequest {
  let parsed;
  try {
    parsed = parseArgs({ args, options: CHECK_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'a URL is required' : `one URL only (got ${positionals.join(' ')})`);
  const url = parseUrl(positionals[0]!);
  const offload = url.protocol === 'http:';
  if (values.offload && !offload) throw new UsageError('--offload probes plain HTTP: give an http:// URL (TLS is offloaded at the load balancer)');

  const settings = builtInProbeSettings();
  if (values.timeout !== undefined) {
    const ms = tryParseDuration(values.timeout);
    if (ms === null || ms <= 0) throw new UsageError(`--timeout must be a duration such as 5s or 500ms (got ${JSON.stringify(values.timeout)})`);
    const tooLong = timerLimitProblem(ms);
    if (tooLong !== null) throw new UsageError(`--timeout ${tooLong} (got ${JSON.stringify(values.timeout)})`);
    settings.timeoutMs = ms;
  }
  if (values.path !== undefined) {
    if (!values.path.startsWith('/')) throw new UsageError(`--path must start with / (got ${JSON.stringify(values.path)})`);
    settings.path = values.path;
  }
  if (values.expect !== undefined) settings.expectStatus = parseStatuses(values.expect);
  settings.tls = { verify: !values.insecure, caFile: values.ca ?? null, ca: values.ca ? readCa(values.ca) : null };

  let applied: AppliedThresholds;
  try {
    applied = checkThresholds(values, url.origin, environment);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  settings.certificates = applied.thresholds.certificates;
  settings.slowThresholdMs = applied.thresholds.slowThresholdMs;

  if (values.hostname !== undefined && !isHostname(values.hostname)) {
    throw new UsageError(`--hostname must be a DNS name or an IP address (got ${JSON.stringify(values.hostname)})`);
  }
  const hostname = values.hostname ?? url.hostname.replace(/^\[|\]$/g, '');
  const target: ProbeTarget = { name: 'check', url: url.origin, hostname, offload, settings };
  let offloadHash: string | null = null;
  if (values['offload-hash'] !== undefined) {
    offloadHash = normalizeSha256(values['offload-hash']);
    if (offloadHash === null) throw new UsageError(`--offload-hash must be a SHA-256 hash: 64 hex digits, colons or spaces allowed (got ${JSON.stringify(values['offload-hash'])})`);
    if (offload) throw new UsageError('--offload-hash compares the certificate of an https:// load balancer; give its https:// URL');
  }
  return { target, sstp: values.sstp ?? false, json: values.json ?? false, offloadHash, revocation: !values['no-revocation'], applied };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(text)} (e.g. https://10.0.0.11 or http://10.0.0.12:80 for TLS offload)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`must be an http(s) URL (got ${JSON.stringify(text)})`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new UsageError(`give the server only (scheme, host, port); the SSTP path is added, or set with --path (got ${JSON.stringify(text)})`);
  }
  return url;
}

function parseStatuses(text: string): number[] {
  const codes = text.split(',').map((s) => Number(s.trim()));
  if (codes.length === 0 || codes.some((c) => !Number.isInteger(c) || c < 100 || c > 599)) {
    throw new UsageError(`--expect takes status codes separated by commas, e.g. 401 (got ${JSON.stringify(text)})`);
  }
  return codes;
}

function readCa(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --ca ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${JSON.stringify(path)} holds no PEM certificate`);
  return text;
}

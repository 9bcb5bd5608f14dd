// The config file's schema: what each section may hold, its defaults, and the messages an admin reads
// when a value is wrong. Each section validates itself and names the offending key by its full path
// (`groups[0].servers[1].url`); every problem is collected, none stops the walk.
//
// The output is a RawConfig: values checked one by one, still per level (defaults, group, target).
// load.ts merges the levels, reads CA files and runs the checks that span sections (unique names,
// timeout against interval).
//
// Hand-written rather than TypeBox: a generic schema validator cannot say "plain http:// means TLS
// is offloaded..." or quote the bad value the way an admin needs at 3am.

import cron from 'node-cron';
import { isIP, isIPv6 } from 'node:net';
import { formatDuration, timerLimitProblem, tryParseDuration } from './duration.js';
import { parseAllowEntry } from './allow-list.js';
import { DEFAULT_CERTIFICATE_THRESHOLDS, DEFAULT_SLOW_THRESHOLD_MS } from './policy.js';
import { isPostgresUrl, postgresUrlProblem } from './database.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type AuthConfig,
  type ConfigIssue,
  type ListenConfig,
  type LogConfig,
  type ProbeCheck,
  type ProbeEndpointConfig,
  type ProbeSettings,
  type RetentionConfig,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Defaults (the contract's "Config file" section)

export const DEFAULT_LISTEN = '127.0.0.1:9470';
export const DEFAULT_DATABASE = './data/sstpwatch.db';
export const DEFAULT_TOKEN_ENV = 'SSTPWATCH_TOKEN';
/** The SSTP endpoint RRAS answers on: an unauthenticated HEAD gets 401 when the service is healthy. */
export const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';
export const MIN_INTERVAL_MS = 1_000;
/** The deep SSTP check holds an SSTP port on the server for its few milliseconds: every 5 minutes by default. */
export const DEFAULT_SSTP_INTERVAL_MS = 300_000;
/**
 * Below this, sstp_interval needs `allow_fast_sstp_interval: true`: every deep check is a real call on the
 * server (an SSTP port held, with accel-ppp a pty and pppd started, a RemoteAccess log entry), so a short
 * interval by mistake loads production servers and floods their logs.
 */
export const MIN_SAFE_SSTP_INTERVAL_MS = 60_000;
export const MAX_RISE_FALL = 100;

/** A fresh copy of the built-in probe settings, before `defaults:` is applied. */
export function builtInProbeSettings(): ProbeSettings {
  return {
    intervalMs: 30_000,
    schedule: null,
    timeoutMs: 5_000,
    rise: 2,
    fall: 3,
    expectStatus: [401],
    path: SSTP_PATH,
    tls: { verify: true, caFile: null, ca: null },
    check: 'head',
    sstpIntervalMs: DEFAULT_SSTP_INTERVAL_MS,
    certificates: { ...DEFAULT_CERTIFICATE_THRESHOLDS },
    slowThresholdMs: DEFAULT_SLOW_THRESHOLD_MS,
  };
}

export function builtInRetention(): RetentionConfig {
  return { rawMs: 14 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 };
}

// ---------------------------------------------------------------------------------------------
// What the schema produces

/** How often a target is probed: a fixed interval or a cron schedule, never both. */
export type Cadence = { intervalMs: number; schedule: null } | { intervalMs: null; schedule: string };

/** TLS settings set at one level; an absent key inherits. caFile null explicitly means "system roots". */
export interface TlsOverrides {
  verify?: boolean;
  /** As written in the config; read by load.ts. */
  caFile?: string | null;
  /** Where caFile was set, for messages about the file. */
  caFilePath?: string;
}

/** Certificate thresholds set at one level; an absent key inherits. */
export interface CertificateOverrides {
  warnDays?: number;
  criticalDays?: number;
  /** Where the section is (`groups[0].certificates`), for the message when critical_days exceeds warn_days. */
  path: string;
}

/** Probe settings set at one level (defaults, a group or a target); an absent key inherits. */
export interface ProbeOverrides {
  cadence?: Cadence;
  timeoutMs?: number;
  rise?: number;
  fall?: number;
  expectStatus?: number[];
  path?: string;
  tls: TlsOverrides;
  check?: ProbeCheck;
  sstpIntervalMs?: number;
  certificates?: CertificateOverrides;
  slowThresholdMs?: number;
}

export interface RawTarget {
  /** Path of the target's entry: `groups[0].servers[1]` or `groups[0].vip`. */
  path: string;
  /** Path to name in a duplicate-name message: the `name` key, or the vip entry when the name is derived. */
  namePath: string;
  name?: string;
  url?: string;
  offload: boolean;
  probe: ProbeOverrides;
}

export interface RawGroup {
  path: string;
  name?: string;
  hostname?: string;
  servers: RawTarget[];
  vip?: RawTarget;
  probe: ProbeOverrides;
  /** Normalized: 64 uppercase hex digits. */
  offloadCertSha256?: string;
}

export interface RawServerTls {
  certFile: string;
  keyFile: string;
}

export interface RawConfig {
  listen: ListenConfig;
  /** As written; load.ts resolves a path against the config file's directory (a PostgreSQL URL stays as is). */
  database: string;
  /** As written; only with a PostgreSQL URL. */
  databasePasswordFile: string | null;
  auth: AuthConfig;
  /** Top-level `tls`, paths as written; load.ts reads the files. */
  serverTls: RawServerTls | null;
  defaults: ProbeOverrides;
  retention: RetentionConfig;
  groups: RawGroup[];
  demo: boolean;
  /** `allow_fast_sstp_interval: true`: deep checks more often than MIN_SAFE_SSTP_INTERVAL_MS are allowed. */
  allowFastSstpInterval: boolean;
  probeEndpoint: ProbeEndpointConfig;
  log: LogConfig;
}

// ---------------------------------------------------------------------------------------------
// Collecting issues

export class Issues {
  readonly list: ConfigIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** `groups[0]` + `url` -> `groups[0].url`; a key YAML allows but a path cannot show plainly is quoted. */
export function keyPath(parent: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** The bad value as an admin would recognise it in the file: strings quoted, lists and mappings named. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(shown);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function got(value: unknown): string {
  return `(got ${show(value)})`;
}

// ---------------------------------------------------------------------------------------------
// Small typed readers. Each returns undefined when the key is absent or its value is wrong (and
// then reports why), so that one bad value never hides the next one.

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a mapping's keys against the allowed ones; unknown keys are errors. */
export function readMapping(value: unknown, path: string, allowed: readonly string[], issues: Issues): Mapping | undefined {
  if (!isMapping(value)) {
    issues.add(path, `must be a mapping of keys ${got(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) issues.add(keyPath(path, key), unknownKeyMessage(key, allowed));
  }
  return value;
}

/** A section such as `auth:` or `tls:`: absent or empty (`auth:` alone) means all defaults. */
function readSection(value: unknown, path: string, allowed: readonly string[], issues: Issues): Mapping {
  if (value === undefined || value === null) return {};
  return readMapping(value, path, allowed, issues) ?? {};
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const suggestion = closestKey(key, allowed);
  return suggestion === undefined ? 'unknown key' : `unknown key (did you mean "${suggestion}"?)`;
}

/** The allowed key a typo most likely meant: "ca-file" -> "ca_file", "intervall" -> "interval". */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  const normalized = key.toLowerCase().replaceAll('-', '_');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(normalized, candidate);
    if (distance < bestDistance && distance < candidate.length / 2) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function required(value: unknown, path: string, issues: Issues): boolean {
  if (value !== undefined) return true;
  issues.add(path, 'required key is missing');
  return false;
}

function readBoolean(value: unknown, path: string, issues: Issues): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.add(path, `must be true or false ${got(value)}`);
  return undefined;
}

function readInteger(
  value: unknown,
  path: string,
  range: { min: number; max: number; noun?: string },
  issues: Issues,
): number | undefined {
  if (value === undefined) return undefined;
  const { min, max, noun = 'a whole number' } = range;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  issues.add(path, `must be ${noun} from ${min} to ${max} ${got(value)}`);
  return undefined;
}

/** A duration string of at least minMs; with `timer`, no longer than a Node.js timer can wait. */
export function readDuration(value: unknown, path: string, minMs: number, issues: Issues, timer = false): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' ? tryParseDuration(value) : null;
  if (ms === null) {
    issues.add(path, `must be a duration like "30s", "5m" or "1h30m" ${got(value)}`);
    return undefined;
  }
  if (ms < minMs) {
    const bound = minMs <= 1 ? 'longer than 0' : `at least ${formatDuration(minMs)}`;
    issues.add(path, `must be ${bound} ${got(value)}`);
    return undefined;
  }
  const tooLong = timer ? timerLimitProblem(ms) : null;
  if (tooLong !== null) {
    issues.add(path, `${tooLong} ${got(value)}`);
    return undefined;
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Names, hosts and URLs

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readName(value: unknown, path: string, issues: Issues): string | undefined {
  if (!required(value, path, issues)) return undefined;
  if (typeof value === 'string' && NAME.test(value)) return value;
  issues.add(
    path,
    `must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit ${got(value)}`,
  );
  return undefined;
}

/** A DNS name (RFC 1123 labels) or an IPv4/IPv6 address. */
export function isHostname(text: string): boolean {
  if (isIP(text) !== 0) return true;
  if (text.length === 0 || text.length > 253) return false;
  return text.split('.').every((label) => DNS_LABEL.test(label));
}

function readHostname(value: unknown, path: string, issues: Issues): string | undefined {
  if (!required(value, path, issues)) return undefined;
  if (typeof value === 'string' && isHostname(value)) return value;
  issues.add(path, `must be a DNS name or an IP address ${got(value)}`);
  return undefined;
}

/** Why a target URL is unacceptable, or null when it is an http(s) URL of a host and optional port. */
function targetUrlProblem(value: unknown): string | null {
  const text = typeof value === 'string' ? value.trim() : '';
  let url: URL | undefined;
  try {
    if (/^https?:\/\//i.test(text)) url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === '') return `must be an http(s) URL ${got(value)}`;
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(text)) {
    return `must be scheme, host and port only; the probe's path comes from "path" ${got(value)}`;
  }
  return null;
}

/**
 * The target's URL and whether TLS is offloaded. Decision: http:// must be confirmed with
 * `offload: true` (and `offload: true` needs http://). A plain-HTTP probe of an SSTP server is only
 * right behind a load balancer that ends TLS; an unconfirmed http:// is far more often a typo for
 * https://, and probing it would silently skip the certificate checks.
 */
function readTargetUrl(
  value: unknown,
  urlPath: string,
  offloadValue: unknown,
  offloadPath: string | null, // null: the short form (`vip: URL`) has no offload key
  issues: Issues,
): { url?: string; offload: boolean } {
  const offload = offloadPath === null ? undefined : readBoolean(offloadValue, offloadPath, issues);
  if (!required(value, urlPath, issues)) return { offload: offload ?? false };
  const problem = targetUrlProblem(value);
  if (problem !== null) {
    issues.add(urlPath, problem);
    return { offload: offload ?? false };
  }
  const url = (value as string).trim();
  const plain = url.toLowerCase().startsWith('http://');
  if (plain && offload !== true) {
    const confirm = offloadPath === null ? `write { url: ${JSON.stringify(url)}, offload: true }` : 'set "offload: true"';
    issues.add(
      urlPath,
      `plain http:// means TLS is offloaded at the load balancer: ${confirm} to confirm, or use https:// ${got(url)}`,
    );
  } else if (!plain && offload === true && offloadPath !== null) {
    issues.add(
      offloadPath,
      `true needs an http:// url: with offload the load balancer ends TLS and forwards plain HTTP (url is ${show(url)})`,
    );
  }
  return { url, offload: plain };
}

// ---------------------------------------------------------------------------------------------
// Probe settings: the same keys in `defaults:`, in a group and in a target

const RISE_FALL_RANGE = { min: 1, max: MAX_RISE_FALL };
const STATUS_RANGE = { min: 100, max: 599, noun: 'an HTTP status code' };

export const PROBE_KEYS = [
  'interval',
  'schedule',
  'timeout',
  'rise',
  'fall',
  'expect_status',
  'path',
  'tls',
  'check',
  'sstp_interval',
  'certificates',
  'slow_threshold',
] as const;
const TLS_KEYS = ['verify', 'ca_file'] as const;
const CERTIFICATE_KEYS = ['warn_days', 'critical_days'] as const;
/** Ten years: any longer is a typo (days, not seconds). */
const DAYS_RANGE = { min: 0, max: 3650, noun: 'a whole number of days' };

function readProbeOverrides(entry: Mapping, path: string, issues: Issues): ProbeOverrides {
  const overrides: ProbeOverrides = { tls: {} };
  const cadence = readCadence(entry, path, issues);
  if (cadence !== undefined) overrides.cadence = cadence;
  const timeoutMs = readDuration(entry['timeout'], keyPath(path, 'timeout'), 1, issues, true);
  if (timeoutMs !== undefined) overrides.timeoutMs = timeoutMs;
  const rise = readInteger(entry['rise'], keyPath(path, 'rise'), RISE_FALL_RANGE, issues);
  if (rise !== undefined) overrides.rise = rise;
  const fall = readInteger(entry['fall'], keyPath(path, 'fall'), RISE_FALL_RANGE, issues);
  if (fall !== undefined) overrides.fall = fall;
  const expectStatus = readExpectStatus(entry['expect_status'], keyPath(path, 'expect_status'), issues);
  if (expectStatus !== undefined) overrides.expectStatus = expectStatus;
  const probePath = readProbePath(entry['path'], keyPath(path, 'path'), issues);
  if (probePath !== undefined) overrides.path = probePath;
  overrides.tls = readTls(entry['tls'], keyPath(path, 'tls'), issues);
  const check = readCheck(entry['check'], keyPath(path, 'check'), issues);
  if (check !== undefined) overrides.check = check;
  const sstpIntervalMs = readDuration(entry['sstp_interval'], keyPath(path, 'sstp_interval'), MIN_INTERVAL_MS, issues, true);
  if (sstpIntervalMs !== undefined) overrides.sstpIntervalMs = sstpIntervalMs;
  overrides.certificates = readCertificateThresholds(entry['certificates'], keyPath(path, 'certificates'), issues);
  const slowThresholdMs = readDuration(entry['slow_threshold'], keyPath(path, 'slow_threshold'), 1, issues);
  if (slowThresholdMs !== undefined) overrides.slowThresholdMs = slowThresholdMs;
  return overrides;
}

/** `certificates: { warn_days, critical_days }`: either key may be set alone; the other is inherited. */
function readCertificateThresholds(value: unknown, path: string, issues: Issues): CertificateOverrides {
  const section = readSection(value, path, CERTIFICATE_KEYS, issues);
  const thresholds: CertificateOverrides = { path };
  const warnDays = readInteger(section['warn_days'], keyPath(path, 'warn_days'), DAYS_RANGE, issues);
  if (warnDays !== undefined) thresholds.warnDays = warnDays;
  const criticalDays = readInteger(section['critical_days'], keyPath(path, 'critical_days'), DAYS_RANGE, issues);
  if (criticalDays !== undefined) thresholds.criticalDays = criticalDays;
  return thresholds;
}

const CHECKS: readonly ProbeCheck[] = ['head', 'sstp'];

/** `head` (the load balancer's HEAD check) or `sstp` (HEAD, plus the deep SSTP check every sstp_interval). */
function readCheck(value: unknown, path: string, issues: Issues): ProbeCheck | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (CHECKS as readonly string[]).includes(value)) return value as ProbeCheck;
  issues.add(path, `must be "head" (the HEAD health check) or "sstp" (also the deep SSTP handshake check) ${got(value)}`);
  return undefined;
}

/** `interval` or `schedule`: setting either at a level replaces whichever one was inherited. */
function readCadence(entry: Mapping, path: string, issues: Issues): Cadence | undefined {
  const intervalMs = readDuration(entry['interval'], keyPath(path, 'interval'), MIN_INTERVAL_MS, issues, true);
  const schedule = readSchedule(entry['schedule'], keyPath(path, 'schedule'), issues);
  if (entry['interval'] !== undefined && entry['schedule'] !== undefined) {
    issues.add(path, 'set either interval or schedule, not both');
    return undefined;
  }
  if (intervalMs !== undefined) return { intervalMs, schedule: null };
  if (schedule !== undefined) return { intervalMs: null, schedule };
  return undefined;
}

/** A node-cron expression with the seconds field: six fields. */
function readSchedule(value: unknown, path: string, issues: Issues): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    issues.add(path, `must be a cron expression with seconds, like "*/30 * * * * *" ${got(value)}`);
    return undefined;
  }
  const expression = value.trim();
  if (expression.split(/\s+/).length !== 6) {
    issues.add(path, `must have 6 fields, seconds first, like "*/30 * * * * *" ${got(value)}`);
    return undefined;
  }
  if (!cron.validate(expression)) {
    const first = cron.validateDetailed(expression).errors[0];
    const reason =
      first?.value === undefined
        ? 'is not a valid cron expression'
        : `its ${first.field} field ${JSON.stringify(first.value)} is not valid`;
    issues.add(path, `${reason} ${got(value)}`);
    return undefined;
  }
  return expression;
}

function readExpectStatus(value: unknown, path: string, issues: Issues): number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(path, `must be a list of HTTP status codes, like [401] ${got(value)}`);
    return undefined;
  }
  const codes = value.map((code, i) => readInteger(code, indexPath(path, i), STATUS_RANGE, issues));
  if (codes.some((code) => code === undefined)) return undefined;
  return [...new Set(codes as number[])];
}

function readProbePath(value: unknown, path: string, issues: Issues): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.startsWith('/')) {
    issues.add(path, `must start with "/" ${got(value)}`);
    return undefined;
  }
  // eslint-disable-next-line no-control-regex -- matching control characters is the point of this check
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    issues.add(path, `must not contain spaces or control characters ${got(value)}`);
    return undefined;
  }
  return value;
}

function readTls(value: unknown, path: string, issues: Issues): TlsOverrides {
  const section = readSection(value, path, TLS_KEYS, issues);
  const tls: TlsOverrides = {};
  const verify = readBoolean(section['verify'], keyPath(path, 'verify'), issues);
  if (verify !== undefined) tls.verify = verify;
  const caFile = section['ca_file'];
  const caFilePath = keyPath(path, 'ca_file');
  if (caFile === null || (typeof caFile === 'string' && caFile.trim() !== '')) {
    tls.caFile = caFile === null ? null : caFile.trim();
    tls.caFilePath = caFilePath;
  } else if (caFile !== undefined) {
    issues.add(caFilePath, `must be the path of a PEM file, or null for the system's trusted CAs ${got(caFile)}`);
  }
  return tls;
}

// ---------------------------------------------------------------------------------------------
// Groups and their targets

const TARGET_KEYS = ['name', 'url', 'offload', ...PROBE_KEYS] as const;
const GROUP_KEYS = ['name', 'hostname', 'vip', 'servers', 'offload_cert_sha256', ...PROBE_KEYS] as const;

/**
 * `offload_cert_sha256`: the SHA-256 of the certificate the load balancer presents, as configured on every
 * offloaded RRAS server (`SHA256CertificateHash`, `Enable-SstpOffload -CertificateHash` of the AOVPNTools PowerShell module). Written as Windows
 * or OpenSSL print it: any case, with or without colons or spaces.
 */
export function normalizeSha256(text: string): string | null {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex : null;
}

function readOffloadCertSha256(value: unknown, path: string, issues: Issues): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') {
    issues.add(path, `must be quoted: YAML read these digits as a number ${got(String(value))}`);
    return undefined;
  }
  const hash = typeof value === 'string' ? normalizeSha256(value) : null;
  if (hash === null) {
    issues.add(
      path,
      `must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) ${got(value)}`,
    );
    return undefined;
  }
  return hash;
}

function readServer(value: unknown, path: string, issues: Issues): RawTarget | undefined {
  const entry = readMapping(value, path, TARGET_KEYS, issues);
  if (entry === undefined) return undefined;
  const name = readName(entry['name'], keyPath(path, 'name'), issues);
  const target: RawTarget = {
    path,
    namePath: keyPath(path, 'name'),
    ...readTargetUrl(entry['url'], keyPath(path, 'url'), entry['offload'], keyPath(path, 'offload'), issues),
    probe: readProbeOverrides(entry, path, issues),
  };
  if (name !== undefined) target.name = name;
  return target;
}

/** `vip: https://...` or `vip: { name, url, ... }`; the VIP target is named `<group>-vip` unless named. */
function readVip(value: unknown, path: string, groupName: string | undefined, issues: Issues): RawTarget | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const name = vipName(groupName);
    const target: RawTarget = {
      path,
      namePath: path,
      ...readTargetUrl(value, path, undefined, null, issues),
      probe: { tls: {} },
    };
    if (name !== undefined) target.name = name;
    return target;
  }
  const entry = readMapping(value, path, TARGET_KEYS, issues);
  if (entry === undefined) return undefined;
  const name = entry['name'] === undefined ? vipName(groupName) : readName(entry['name'], keyPath(path, 'name'), issues);
  const target: RawTarget = {
    path,
    namePath: entry['name'] === undefined ? path : keyPath(path, 'name'),
    ...readTargetUrl(entry['url'], keyPath(path, 'url'), entry['offload'], keyPath(path, 'offload'), issues),
    probe: readProbeOverrides(entry, path, issues),
  };
  if (name !== undefined) target.name = name;
  return target;
}

function vipName(groupName: string | undefined): string | undefined {
  return groupName === undefined ? undefined : `${groupName}-vip`;
}

function readServers(value: unknown, path: string, issues: Issues): RawTarget[] {
  if (!required(value, path, issues)) return [];
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(path, `must list at least one RRAS server ${got(value)}`);
    return [];
  }
  return value
    .map((server, i) => readServer(server, indexPath(path, i), issues))
    .filter((server): server is RawTarget => server !== undefined);
}

function readGroup(value: unknown, path: string, issues: Issues): RawGroup | undefined {
  const entry = readMapping(value, path, GROUP_KEYS, issues);
  if (entry === undefined) return undefined;
  // Read in the order the keys are usually written, so that messages follow the file.
  const name = readName(entry['name'], keyPath(path, 'name'), issues);
  const hostname = readHostname(entry['hostname'], keyPath(path, 'hostname'), issues);
  const vip = readVip(entry['vip'], keyPath(path, 'vip'), name, issues);
  const probe = readProbeOverrides(entry, path, issues);
  const group: RawGroup = { path, servers: readServers(entry['servers'], keyPath(path, 'servers'), issues), probe };
  if (name !== undefined) group.name = name;
  if (hostname !== undefined) group.hostname = hostname;
  const offloadCertSha256 = readOffloadCertSha256(entry['offload_cert_sha256'], keyPath(path, 'offload_cert_sha256'), issues);
  if (offloadCertSha256 !== undefined) group.offloadCertSha256 = offloadCertSha256;
  if (vip !== undefined) group.vip = vip;
  return group;
}

/** Groups may be absent or empty only in demo mode, where the built-in simulated servers are probed. */
function readGroups(value: unknown, demo: boolean, issues: Issues): RawGroup[] {
  const absent = value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (absent) {
    if (!demo) {
      issues.add('groups', 'no groups configured; add a group, or set "demo: true" to probe built-in simulated servers');
    }
    return [];
  }
  if (!Array.isArray(value)) {
    issues.add('groups', `must be a list of groups ${got(value)}`);
    return [];
  }
  return value
    .map((group, i) => readGroup(group, indexPath('groups', i), issues))
    .filter((group): group is RawGroup => group !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Top-level sections

// `maintenance_windows` is read by maintenance-windows.ts once the groups and targets are known (load.ts).
const TOP_KEYS = ['listen', 'database', 'database_password_file', 'auth', 'tls', 'defaults', 'retention', 'groups', 'demo', 'allow_fast_sstp_interval', 'probe_endpoint', 'log', 'maintenance_windows'] as const;
const AUTH_KEYS = ['token_env', 'token_file', 'protect_reads'] as const;
const SERVER_TLS_KEYS = ['cert_file', 'key_file'] as const;
const RETENTION_KEYS = ['raw', 'minute', 'hour'] as const;

const LISTEN_FORMAT = 'must be "host:port" or "[ipv6]:port", like "127.0.0.1:9470"';

/** `host:port` or `[ipv6]:port`; a string is the reason it is not. */
export function parseListen(text: string): ListenConfig | string {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (match === null) return LISTEN_FORMAT;
  const host = match[1] ?? '';
  const port = Number(match[2]);
  const bracketed = text.startsWith('[');
  if (bracketed ? !isIPv6(host) : !isHostname(host)) return 'the host must be a DNS name or an IP address';
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return 'the port must be from 1 to 65535';
  return { host, port };
}

function readListen(value: unknown, issues: Issues): ListenConfig {
  const text = value === undefined ? DEFAULT_LISTEN : value;
  const listen = typeof text === 'string' ? parseListen(text.trim()) : LISTEN_FORMAT;
  if (typeof listen === 'string') {
    issues.add('listen', `${listen} ${got(value)}`);
    return { host: '127.0.0.1', port: 9470 };
  }
  return listen;
}

/** An SQLite file path, or a PostgreSQL URL (`postgres://` or `postgresql://`), which is checked here. */
function readDatabase(value: unknown, issues: Issues): string {
  if (value === undefined) return DEFAULT_DATABASE;
  if (typeof value === 'string' && value.trim() !== '') {
    const database = value.trim();
    const problem = isPostgresUrl(database) ? postgresUrlProblem(database) : null;
    // never echo the URL: it may hold a password
    if (problem !== null) issues.add('database', `the PostgreSQL URL ${problem}`);
    return database;
  }
  issues.add('database', `must be the path of the SQLite file or a postgres:// URL ${got(value)}`);
  return DEFAULT_DATABASE;
}

function readDatabasePasswordFile(value: unknown, database: string, issues: Issues): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim() === '') {
    issues.add('database_password_file', `must be the path of a file holding the PostgreSQL password ${got(value)}`);
    return null;
  }
  if (!isPostgresUrl(database)) issues.add('database_password_file', 'applies only to a PostgreSQL database (database: postgres://...)');
  return value.trim();
}

/**
 * `token_env: null` disables the write endpoints; absent means SSTPWATCH_TOKEN, unless `token_file` is given (the
 * token is then read from that file; naming both is an error). `protect_reads: true` puts every read route except
 * /healthz and /readyz behind the token too.
 */
function readAuth(value: unknown, issues: Issues): AuthConfig {
  const section = readSection(value, 'auth', AUTH_KEYS, issues);
  const protectReads = readBoolean(section['protect_reads'], 'auth.protect_reads', issues) ?? false;
  const tokenFileValue = section['token_file'];
  let tokenFile: string | null = null;
  if (typeof tokenFileValue === 'string' && tokenFileValue.trim() !== '') tokenFile = tokenFileValue.trim();
  else if (tokenFileValue !== undefined && tokenFileValue !== null) {
    issues.add('auth.token_file', `must be the path of a file holding the bearer token ${got(tokenFileValue)}`);
  }
  const tokenEnv = section['token_env'];
  if (tokenEnv === undefined) return { tokenEnv: tokenFile === null ? DEFAULT_TOKEN_ENV : null, tokenFile, protectReads };
  if (tokenEnv === null) return { tokenEnv: null, tokenFile, protectReads };
  if (typeof tokenEnv === 'string' && ENV_NAME.test(tokenEnv)) {
    if (tokenFile !== null) {
      issues.add('auth', `set either token_env or token_file, not both (got token_env ${show(tokenEnv)} and token_file ${show(tokenFile)})`);
    }
    return { tokenEnv, tokenFile, protectReads };
  }
  issues.add(
    'auth.token_env',
    `must be the name of an environment variable, like SSTPWATCH_TOKEN, or null to disable write endpoints ${got(tokenEnv)}`,
  );
  return { tokenEnv: null, tokenFile, protectReads };
}

/** Top-level `tls: {cert_file, key_file}`: sstpwatch serves HTTPS itself. Absent or null: plain HTTP. */
function readServerTls(value: unknown, issues: Issues): RawServerTls | null {
  if (value === undefined || value === null) return null;
  const section = readMapping(value, 'tls', SERVER_TLS_KEYS, issues);
  if (section === undefined) return null;
  const file = (key: 'cert_file' | 'key_file', what: string): string | undefined => {
    const path = keyPath('tls', key);
    const entry = section[key];
    if (!required(entry, path, issues)) return undefined;
    if (typeof entry === 'string' && entry.trim() !== '') return entry.trim();
    issues.add(path, `must be the path of a PEM file holding ${what} ${got(entry)}`);
    return undefined;
  };
  const certFile = file('cert_file', 'the certificate (and its chain)');
  const keyFile = file('key_file', 'the private key');
  return certFile === undefined || keyFile === undefined ? null : { certFile, keyFile };
}

function readRetention(value: unknown, issues: Issues): RetentionConfig {
  const section = readSection(value, 'retention', RETENTION_KEYS, issues);
  const builtIn = builtInRetention();
  const read = (key: string): number | undefined => readDuration(section[key], keyPath('retention', key), 1, issues);
  const retention: RetentionConfig = {
    rawMs: read('raw') ?? builtIn.rawMs,
    minuteMs: read('minute') ?? builtIn.minuteMs,
    hourMs: read('hour') ?? builtIn.hourMs,
  };
  const checkOrder = (shorter: string, shorterMs: number, longer: string, longerMs: number): void => {
    if (shorterMs <= longerMs) return;
    const message = `${shorter} ${formatDuration(shorterMs)} must not be longer than ${longer} ${formatDuration(longerMs)}`;
    issues.add('retention', message);
  };
  checkOrder('raw', retention.rawMs, 'minute', retention.minuteMs);
  checkOrder('minute', retention.minuteMs, 'hour', retention.hourMs);
  return retention;
}

/** Validates the parsed YAML document section by section; every problem goes to `issues`. */
export function readConfig(document: unknown, issues: Issues): RawConfig {
  const isEmptyFile = document === undefined || document === null;
  if (!isEmptyFile && !isMapping(document)) {
    issues.add('', `the config file must be a YAML mapping of keys like "listen:" and "groups:" ${got(document)}`);
  }
  const entry = isMapping(document) ? readMapping(document, '', TOP_KEYS, issues) ?? {} : {};
  const demo = readBoolean(entry['demo'], 'demo', issues) ?? false;
  const database = readDatabase(entry['database'], issues);
  return {
    listen: readListen(entry['listen'], issues),
    database,
    databasePasswordFile: readDatabasePasswordFile(entry['database_password_file'], database, issues),
    auth: readAuth(entry['auth'], issues),
    serverTls: readServerTls(entry['tls'], issues),
    defaults: readProbeOverrides(readSection(entry['defaults'], 'defaults', PROBE_KEYS, issues), 'defaults', issues),
    retention: readRetention(entry['retention'], issues),
    groups: readGroups(entry['groups'], demo, issues),
    demo,
    allowFastSstpInterval: readBoolean(entry['allow_fast_sstp_interval'], 'allow_fast_sstp_interval', issues) ?? false,
    probeEndpoint: readProbeEndpoint(entry['probe_endpoint'], issues),
    log: readLog(entry['log'], issues),
  };
}

const LOG_KEYS = ['level', 'format'] as const;

function readLog(value: unknown, issues: Issues): LogConfig {
  const section = readSection(value, 'log', LOG_KEYS, issues);
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | null => {
    const entry = section[key];
    if (entry === undefined || entry === null) return null;
    if (typeof entry === 'string' && (allowed as readonly string[]).includes(entry)) return entry as T;
    issues.add(keyPath('log', key), `must be one of ${allowed.join(', ')} ${got(entry)}`);
    return null;
  };
  return { level: oneOf('level', LOG_LEVELS), format: oneOf('format', LOG_FORMATS) };
}

const PROBE_ENDPOINT_KEYS = ['enabled', 'allow'] as const;

function readProbeEndpoint(value: unknown, issues: Issues): ProbeEndpointConfig {
  const section = readSection(value, 'probe_endpoint', PROBE_ENDPOINT_KEYS, issues);
  const enabled = readBoolean(section['enabled'], 'probe_endpoint.enabled', issues) ?? false;
  const allowValue = section['allow'] ?? [];
  const allow: string[] = [];
  if (!Array.isArray(allowValue)) {
    issues.add('probe_endpoint.allow', `must be a list of CIDRs, addresses or host names ${got(allowValue)}`);
  } else {
    allowValue.forEach((entry: unknown, i) => {
      const path = indexPath('probe_endpoint.allow', i);
      const parsed = typeof entry === 'string' ? parseAllowEntry(entry) : null;
      if (parsed === null || typeof parsed === 'string') {
        const why = typeof parsed === 'string' ? parsed : 'must be a CIDR, an address or a host name';
        issues.add(path, `${why} (got ${show(entry)})`);
      } else allow.push(entry as string);
    });
  }
  if (enabled && allow.length === 0 && Array.isArray(allowValue) && allowValue.length === 0) {
    issues.add('probe_endpoint.allow', 'list the CIDRs or host names /probe may reach: an empty list would refuse every target');
  }
  return { enabled, allow };
}

// Probe settings: the same keys in `defaults:`, in a group and in a target.

import cron from 'node-cron';
import { type ProbeCheck } from './types.js';
import { MAX_RISE_FALL, MIN_INTERVAL_MS } from './defaults.js';
import { type Cadence, type CertificateOverrides, type ProbeOverrides, type TlsOverrides } from './raw.js';
import {
  got,
  indexPath,
  Issues,
  keyPath,
  type Mapping,
  readBoolean,
  readDuration,
  readInteger,
  readSection,
} from './readers.js';

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

export function readProbeOverrides(entry: Mapping, path: string, issues: Issues): ProbeOverrides {
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

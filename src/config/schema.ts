// The config file's schema: what each section may hold and the messages an admin reads
// when a value is wrong. Each section validates itself and names the offending key by its full path
// (`groups[0].servers[1].url`); every problem is collected, none stops the walk.
//
// The output is a RawConfig: values checked one by one, still per level (defaults, group, target).
// load.ts merges the levels, reads CA files and runs the checks that span sections (unique names,
// timeout against interval).
//
// Hand-written rather than TypeBox: a generic schema validator cannot say "plain http:// means TLS
// is offloaded..." or quote the bad value the way an admin needs at 3am.
//
// This file reads the top-level sections and assembles the RawConfig; the parts it builds on:
// readers.ts (issues, paths, typed readers), probe-settings.ts (the keys shared by defaults, groups and
// targets), groups.ts (groups, servers, VIPs, target URLs), defaults.ts (built-in values), raw.ts (the output).

import { isIPv6 } from 'node:net';
import { formatDuration } from './duration.js';
import { parseAllowEntry } from './allow-list.js';
import { isPostgresUrl, postgresUrlProblem } from './database.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type AuthConfig,
  type ListenConfig,
  type LogConfig,
  type ProbeEndpointConfig,
  type RetentionConfig,
} from './types.js';
import { builtInRetention, DEFAULT_DATABASE, DEFAULT_LISTEN, DEFAULT_TOKEN_ENV } from './defaults.js';
import { readGroups } from './groups.js';
import { readShard, readSite } from './sharding.js';
import { PROBE_KEYS, readProbeOverrides } from './probe-settings.js';
import { METRIC_FAMILIES, METRIC_FAMILY_NAMES, type MetricFamily, type MetricsConfig } from './metrics-config.js';
import { type RawConfig, type RawServerTls } from './raw.js';
import {
  closestKey,
  ENV_NAME,
  got,
  indexPath,
  isHostname,
  isMapping,
  Issues,
  keyPath,
  readBoolean,
  readDuration,
  readMapping,
  readSection,
  required,
  show,
} from './readers.js';

// `maintenance_windows` is read by maintenance-windows.ts once the groups and targets are known (load.ts).
const TOP_KEYS = ['listen', 'database', 'database_password_file', 'auth', 'tls', 'defaults', 'retention', 'groups', 'demo', 'allow_fast_sstp_interval', 'probe_endpoint', 'log', 'maintenance_windows', 'metrics', 'site', 'shard'] as const;
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
    metrics: readMetricsConfig(entry['metrics'], issues),
    site: readSite(entry['site'], issues),
    shard: readShard(entry['shard'], database, issues),
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

const METRICS_KEYS = ['exclude'] as const;

/** `metrics: { exclude: [...] }`: the per-target families (metrics-config.ts) left out of /metrics. */
function readMetricsConfig(value: unknown, issues: Issues): MetricsConfig {
  const section = readSection(value, 'metrics', METRICS_KEYS, issues);
  const list = section['exclude'] ?? [];
  const path = keyPath('metrics', 'exclude');
  if (!Array.isArray(list)) {
    issues.add(path, `must be a list of family names (${METRIC_FAMILY_NAMES.join(', ')}) ${got(list)}`);
    return { exclude: [] };
  }
  const exclude: MetricFamily[] = [];
  list.forEach((entry: unknown, i) => {
    if (typeof entry === 'string' && entry in METRIC_FAMILIES) {
      if (!exclude.includes(entry as MetricFamily)) exclude.push(entry as MetricFamily);
      return;
    }
    const near = typeof entry === 'string' ? closestKey(entry, METRIC_FAMILY_NAMES) : undefined;
    issues.add(indexPath(path, i), `is not a metric family sstpwatch can leave out ${got(entry)}${near ? `; did you mean "${near}"?` : ''}; known: ${METRIC_FAMILY_NAMES.join(', ')}`);
  });
  return { exclude };
}

// Reading the config file: YAML -> schema (schema.ts) -> CA files -> merged per-target settings ->
// checks that span sections. Every problem is collected and thrown at once as a ConfigError.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseDocument, type YAMLError } from 'yaml';
import { isPostgresUrl } from './database.js';
import { shortestCronPeriodMs } from './cron-period.js';
import { formatDuration } from './duration.js';
import { readMaintenanceWindows } from './maintenance-windows.js';
import { thresholdsOf } from './policy.js';
import { builtInProbeSettings, MIN_SAFE_SSTP_INTERVAL_MS } from './defaults.js';
import type { CertificateOverrides, ProbeOverrides, RawConfig, RawGroup, RawTarget, TlsOverrides } from './raw.js';
import { Issues } from './readers.js';
import { readConfig } from './schema.js';
import {
  ConfigError,
  type CertificateThresholds,
  type Config,
  type ConfigIssue,
  type GroupConfig,
  type ProbeSettings,
  type ServerTlsConfig,
  type TargetConfig,
  type TlsSettings,
} from './types.js';

export const DEFAULT_CONFIG_PATH = './sstpwatch.yml';
export const CONFIG_PATH_ENV = 'SSTPWATCH_CONFIG';

export interface ParseOptions {
  /** Directory that relative `database` and `ca_file` paths are resolved against: the config file's. */
  baseDir: string;
  /** Reads a CA file as text; defaults to fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string;
}

/** Which config file to read: `--config`, else `$SSTPWATCH_CONFIG`, else `./sstpwatch.yml`. */
export function resolveConfigPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env[CONFIG_PATH_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return DEFAULT_CONFIG_PATH;
}

/** Reads and validates a config file. Throws ConfigError, also when the file itself cannot be read. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${JSON.stringify(path)}: ${errorCode(err)}` }]);
  }
  return parseConfig(text, { baseDir: dirname(resolve(path)) });
}

/** Validates a config file's text. Throws ConfigError listing every problem found. */
export function parseConfig(yamlText: string, opts: ParseOptions): Config {
  const document = parseYaml(yamlText);
  if ('issues' in document) throw new ConfigError(document.issues);
  const issues = new Issues();
  const raw = readConfig(document.value, issues);
  const certificates = readCertificates(raw, opts, issues);
  const config = resolveConfig(raw, certificates, opts.baseDir, issues);
  config.serverTls = readServerTls(raw, opts, issues);
  const section = typeof document.value === 'object' && document.value !== null ? (document.value as Record<string, unknown>) : {};
  const known = { groups: config.groups.map((g) => g.name), targets: config.targets.map((t) => t.name) };
  config.maintenanceWindows = readMaintenanceWindows(section['maintenance_windows'], known, issues);
  if (!issues.empty) throw new ConfigError(issues.list);
  return config;
}

/** The top-level `tls` files, read now so that a bad path or a key that does not fit fails `config check`. */
function readServerTls(raw: RawConfig, opts: ParseOptions, issues: Issues): ServerTlsConfig | null {
  if (raw.serverTls === null) return null;
  const readFile = opts.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const { certFile, keyFile } = raw.serverTls;
  const read = (file: string, path: string, marker: RegExp, what: string): string | null => {
    let pem: string;
    try {
      pem = readFile(resolve(opts.baseDir, file));
    } catch (err) {
      issues.add(path, `cannot read ${JSON.stringify(file)}: ${errorCode(err)}`);
      return null;
    }
    if (marker.test(pem)) return pem;
    issues.add(path, `${JSON.stringify(file)} holds no PEM ${what}`);
    return null;
  };
  const cert = read(certFile, 'tls.cert_file', /-----BEGIN CERTIFICATE-----/, 'certificate (-----BEGIN CERTIFICATE-----)');
  const key = read(keyFile, 'tls.key_file', /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key (-----BEGIN PRIVATE KEY-----)');
  if (cert === null || key === null) return null;
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    issues.add('tls.key_file', `${JSON.stringify(keyFile)} cannot serve with ${JSON.stringify(certFile)}: ${reason}`);
    return null;
  }
  return { certFile, keyFile, cert, key };
}

// ---------------------------------------------------------------------------------------------
// YAML

function parseYaml(text: string): { value: unknown } | { issues: ConfigIssue[] } {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    return { issues: document.errors.map((error) => ({ path: '', message: yamlErrorMessage(error) })) };
  }
  try {
    return { value: document.toJS({ maxAliasCount: 1_000 }) };
  } catch (err) {
    // Unresolved aliases and alias bombs surface only when the document is converted.
    return { issues: [{ path: '', message: `YAML error: ${err instanceof Error ? err.message : String(err)}` }] };
  }
}

function yamlErrorMessage(error: YAMLError): string {
  const where = error.linePos === undefined ? '' : ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`;
  const reason =
    error.code === 'MULTIPLE_DOCS'
      ? 'the file holds more than one YAML document (a second "---"); sstpwatch reads a single one'
      : (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return `YAML syntax error${where}: ${reason}`;
}

// ---------------------------------------------------------------------------------------------
// CA files: read once at load time, so that a bad path fails `config check` and not the first probe

/** The tls settings of every level: defaults, then each group, then each target. */
function tlsDeclarations(raw: RawConfig): TlsOverrides[] {
  const targets = raw.groups.flatMap(groupTargets);
  return [raw.defaults, ...raw.groups.map((group) => group.probe), ...targets.map((target) => target.probe)].map(
    (probe) => probe.tls,
  );
}

/** PEM text by ca_file as written; an unreadable file or one without a certificate is an issue. */
function readCertificates(raw: RawConfig, opts: ParseOptions, issues: Issues): Map<string, string> {
  const readFile = opts.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const certificates = new Map<string, string>();
  for (const tls of tlsDeclarations(raw)) {
    if (typeof tls.caFile !== 'string' || tls.caFilePath === undefined) continue;
    const problem = certificates.has(tls.caFile) ? null : readCertificate(tls.caFile, opts.baseDir, readFile, certificates);
    if (problem !== null) issues.add(tls.caFilePath, problem);
  }
  return certificates;
}

function readCertificate(
  caFile: string,
  baseDir: string,
  readFile: (path: string) => string,
  certificates: Map<string, string>,
): string | null {
  let pem: string;
  try {
    pem = readFile(resolve(baseDir, caFile));
  } catch (err) {
    return `cannot read ${JSON.stringify(caFile)}: ${errorCode(err)}`;
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem)) {
    return `${JSON.stringify(caFile)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  }
  certificates.set(caFile, pem);
  return null;
}

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Merging the levels: built-in <- defaults <- group <- target (tls merges key by key)

function mergeTls(base: TlsSettings, overrides: TlsOverrides, certificates: Map<string, string>): TlsSettings {
  const tls: TlsSettings = { ...base, verify: overrides.verify ?? base.verify };
  if (overrides.caFile !== undefined) {
    tls.caFile = overrides.caFile;
    tls.ca = overrides.caFile === null ? null : (certificates.get(overrides.caFile) ?? null);
  }
  return tls;
}

function mergeProbeSettings(
  base: ProbeSettings,
  overrides: ProbeOverrides,
  certificates: Map<string, string>,
): ProbeSettings {
  const cadence = overrides.cadence ?? { intervalMs: base.intervalMs, schedule: base.schedule };
  return {
    intervalMs: cadence.intervalMs,
    schedule: cadence.schedule,
    timeoutMs: overrides.timeoutMs ?? base.timeoutMs,
    rise: overrides.rise ?? base.rise,
    fall: overrides.fall ?? base.fall,
    expectStatus: [...(overrides.expectStatus ?? base.expectStatus)],
    path: overrides.path ?? base.path,
    tls: mergeTls(base.tls, overrides.tls, certificates),
    check: overrides.check ?? base.check,
    sstpIntervalMs: overrides.sstpIntervalMs ?? base.sstpIntervalMs,
    certificates: mergeCertificateThresholds(thresholdsOf(base).certificates, overrides.certificates),
    slowThresholdMs: overrides.slowThresholdMs ?? thresholdsOf(base).slowThresholdMs,
  };
}

function mergeCertificateThresholds(base: CertificateThresholds, overrides: CertificateOverrides | undefined): CertificateThresholds {
  return { warnDays: overrides?.warnDays ?? base.warnDays, criticalDays: overrides?.criticalDays ?? base.criticalDays };
}

/**
 * critical_days beyond warn_days would make a certificate critical before it is a warning. Reported where the
 * conflict appears (the level that set one of the two), like checkTimeout.
 */
function checkCertificateThresholds(settings: ProbeSettings, parent: ProbeSettings | null, overrides: ProbeOverrides, issues: Issues): void {
  const { warnDays, criticalDays } = thresholdsOf(settings).certificates;
  if (criticalDays <= warnDays) return;
  const own = overrides.certificates;
  if (parent !== null && own?.warnDays === undefined && own?.criticalDays === undefined) return;
  const path = own?.path ?? 'certificates';
  issues.add(path, `critical_days (${criticalDays}) must not be more than warn_days (${warnDays}): a certificate would be critical before it is a warning`);
}

/**
 * A probe must finish before the next one is due. Checked on the effective settings of every level,
 * but reported only where the conflict appears: a target inheriting both values from its group is
 * not reported again. With a cron schedule, the shortest gap between two of its runs is the interval.
 */
function checkTimeout(path: string, settings: ProbeSettings, parent: ProbeSettings | null, rules: SettingRules, issues: Issues): void {
  checkSstpTimeout(path, settings, parent, issues);
  checkSstpInterval(path, settings, parent, rules, issues);
  const { intervalMs, schedule, timeoutMs } = settings;
  if (parent !== null && parent.intervalMs === intervalMs && parent.schedule === schedule && parent.timeoutMs === timeoutMs) return;
  if (intervalMs !== null && timeoutMs >= intervalMs) {
    issues.add(path, `timeout ${formatDuration(timeoutMs)} must be shorter than interval ${formatDuration(intervalMs)}`);
  }
  const period = schedule === null ? null : shortestCronPeriodMs(schedule);
  if (period !== null && timeoutMs >= period) {
    issues.add(path, `timeout ${formatDuration(timeoutMs)} must be shorter than the shortest gap between runs of schedule ${JSON.stringify(schedule)} (${formatDuration(period)})`);
  }
}

/** What the top of the config allows of the probe settings. */
interface SettingRules {
  allowFastSstpInterval: boolean;
}

/** A deep check more often than once a minute is refused unless allowed; reported like checkTimeout. */
function checkSstpInterval(path: string, settings: ProbeSettings, parent: ProbeSettings | null, rules: SettingRules, issues: Issues): void {
  const { check, sstpIntervalMs } = settings;
  if (rules.allowFastSstpInterval || check !== 'sstp' || sstpIntervalMs >= MIN_SAFE_SSTP_INTERVAL_MS) return;
  if (parent !== null && parent.check === 'sstp' && parent.sstpIntervalMs === sstpIntervalMs) return;
  issues.add(
    path,
    `sstp_interval ${formatDuration(sstpIntervalMs)} is shorter than ${formatDuration(MIN_SAFE_SSTP_INTERVAL_MS)}: every deep check opens a real SSTP call ` +
      'on the server (a port held, a session started and logged), so this would load production servers; ' +
      'use 1m or more, or set allow_fast_sstp_interval: true at the top of the config for a lab or a test',
  );
}

/** The deep SSTP check, like HEAD, must finish before its next one is due; reported like checkTimeout. */
function checkSstpTimeout(path: string, settings: ProbeSettings, parent: ProbeSettings | null, issues: Issues): void {
  const { check, sstpIntervalMs, timeoutMs } = settings;
  if (check !== 'sstp' || timeoutMs < sstpIntervalMs) return;
  if (parent !== null && parent.check === 'sstp' && parent.sstpIntervalMs === sstpIntervalMs && parent.timeoutMs === timeoutMs) return;
  issues.add(path, `timeout ${formatDuration(timeoutMs)} must be shorter than sstp_interval ${formatDuration(sstpIntervalMs)}`);
}

// ---------------------------------------------------------------------------------------------
// Names: unique across all targets; group names unique among groups

function checkUniqueNames(
  entries: { name?: string; namePath: string }[],
  what: 'target' | 'group',
  issues: Issues,
): void {
  const seen = new Map<string, string>();
  for (const { name, namePath } of entries) {
    if (name === undefined) continue;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, namePath);
    else issues.add(namePath, `duplicate ${what} name ${JSON.stringify(name)} (also ${first})`);
  }
}

function groupTargets(group: RawGroup): RawTarget[] {
  return group.vip === undefined ? group.servers : [...group.servers, group.vip];
}

// ---------------------------------------------------------------------------------------------
// Building the resolved Config

function resolveTarget(
  raw: RawTarget,
  group: RawGroup,
  groupSettings: ProbeSettings,
  role: TargetConfig['role'],
  certificates: Map<string, string>,
  rules: SettingRules,
  issues: Issues,
): TargetConfig | undefined {
  const settings = mergeProbeSettings(groupSettings, raw.probe, certificates);
  checkTimeout(raw.path, settings, groupSettings, rules, issues);
  checkCertificateThresholds(settings, groupSettings, raw.probe, issues);
  if (raw.name === undefined || raw.url === undefined || group.name === undefined || group.hostname === undefined) {
    return undefined; // already reported
  }
  return {
    name: raw.name,
    group: group.name,
    role,
    url: raw.url,
    hostname: group.hostname,
    offload: raw.offload,
    settings,
  };
}

function resolveGroup(
  group: RawGroup,
  defaults: ProbeSettings,
  certificates: Map<string, string>,
  rules: SettingRules,
  issues: Issues,
): { group?: GroupConfig; targets: TargetConfig[] } {
  const settings = mergeProbeSettings(defaults, group.probe, certificates);
  checkTimeout(group.path, settings, defaults, rules, issues);
  checkCertificateThresholds(settings, defaults, group.probe, issues);
  const servers = group.servers.map((server) => resolveTarget(server, group, settings, 'server', certificates, rules, issues));
  const vip = group.vip === undefined ? undefined : resolveTarget(group.vip, group, settings, 'vip', certificates, rules, issues);
  const targets = [...servers, vip].filter((target): target is TargetConfig => target !== undefined);
  if (group.name === undefined || group.hostname === undefined) return { targets };
  return {
    group: {
      name: group.name,
      hostname: group.hostname,
      servers: targets.filter((target) => target.role === 'server').map((target) => target.name),
      vip: vip?.name ?? null,
      ...(group.offloadCertSha256 === undefined ? {} : { offloadCertSha256: group.offloadCertSha256 }),
    },
    targets,
  };
}

function resolveConfig(raw: RawConfig, certificates: Map<string, string>, baseDir: string, issues: Issues): Config {
  const defaults = mergeProbeSettings(builtInProbeSettings(), raw.defaults, certificates);
  const rules: SettingRules = { allowFastSstpInterval: raw.allowFastSstpInterval };
  checkTimeout('defaults', defaults, null, rules, issues);
  checkCertificateThresholds(defaults, null, raw.defaults, issues);
  checkUniqueNames(
    raw.groups.map((group) => ({ name: group.name, namePath: `${group.path}.name` })),
    'group',
    issues,
  );
  checkUniqueNames(raw.groups.flatMap(groupTargets), 'target', issues);
  const resolved = raw.groups.map((group) => resolveGroup(group, defaults, certificates, rules, issues));
  return {
    listen: raw.listen,
    database: resolveDatabasePath(raw.database, baseDir),
    databasePasswordFile: raw.databasePasswordFile === null ? null : resolve(baseDir, raw.databasePasswordFile),
    auth: { ...raw.auth, tokenFile: raw.auth.tokenFile === null ? null : resolve(baseDir, raw.auth.tokenFile) },
    serverTls: null,
    defaults,
    retention: raw.retention,
    groups: resolved.flatMap((entry) => (entry.group === undefined ? [] : [entry.group])),
    targets: resolved.flatMap((entry) => entry.targets),
    demo: raw.demo,
    probeEndpoint: raw.probeEndpoint,
    log: raw.log,
    metrics: raw.metrics,
    maintenanceWindows: [],
    site: raw.site,
    shard: raw.shard,
  };
}

/** Relative to the config file's directory; SQLite's ":memory:" and a PostgreSQL URL are kept as is. */
function resolveDatabasePath(database: string, baseDir: string): string {
  if (database === ':memory:' || isAbsolute(database) || isPostgresUrl(database)) return database;
  return resolve(baseDir, database);
}

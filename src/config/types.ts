// The resolved configuration: what the rest of sstpwatch sees after the YAML file has been read,
// validated, defaulted and flattened. Durations are integer milliseconds.

import type { MetricsConfig } from './metrics-config.js';

export interface TlsSettings {
  /** Verify the certificate chain and the hostname (off = --insecure). */
  verify: boolean;
  /** Path of a PEM bundle of extra trusted CAs, as written in the config (null = system roots). */
  caFile: string | null;
  /** The PEM text of caFile, read at load time (or given directly, e.g. by the demo). */
  ca: string | null;
}

/** Every probe setting; `defaults`, a group or a target may set any of them. */
export interface ProbeSettings {
  /** Probe every intervalMs (null when `schedule` is used). */
  intervalMs: number | null;
  /** node-cron expression with seconds (null when `interval` is used). */
  schedule: string | null;
  timeoutMs: number;
  rise: number;
  fall: number;
  expectStatus: number[];
  path: string;
  tls: TlsSettings;
  /**
   * `head`: the HEAD health check only. `sstp`: the HEAD check keeps the up/down state at its own cadence and the
   * deep SSTP check (probe/sstp.ts) also runs every sstpIntervalMs.
   */
  check: ProbeCheck;
  /** How often the deep SSTP check runs when check is `sstp` (default 5 minutes, set by the config loader). */
  sstpIntervalMs: number;
  /**
   * `certificates`: when an expiring certificate is a warning and when critical. Set by the config loader; absent
   * (hand-built settings) means the built-in 21/7 days. Read it through config/policy.ts, never directly.
   */
  certificates?: CertificateThresholds;
  /** `slow_threshold`: a target whose probes take longer is slow (absent: 1 s). Read it through config/policy.ts. */
  slowThresholdMs?: number;
}

/** Days before a certificate's expiry from which it is a warning, and from which it is critical. */
export interface CertificateThresholds {
  warnDays: number;
  criticalDays: number;
}

export type ProbeCheck = 'head' | 'sstp';

export type TargetRole = 'server' | 'vip';

/** One SSTP endpoint probed on its own. */
export interface TargetConfig {
  name: string;
  group: string;
  role: TargetRole;
  /** As configured: https://host[:port] or http://host[:port] (offload). */
  url: string;
  /** The group's public VPN name: SNI, Host header, certificate name check. */
  hostname: string;
  /** TLS offloaded at the load balancer: plain HTTP. Derived from the URL scheme. */
  offload: boolean;
  settings: ProbeSettings;
}

export interface GroupConfig {
  name: string;
  hostname: string;
  /** Names of the group's server targets (role server), in config order; the VIP is not among them. */
  servers: string[];
  /** Name of the VIP target (role vip), or null. */
  vip: string | null;
  /**
   * `offload_cert_sha256`: SHA-256 (64 uppercase hex digits) of the load balancer's certificate, as set on the
   * offloaded RRAS servers (`SHA256CertificateHash`); compared with the VIP's leaf. Absent or null: not checked.
   */
  offloadCertSha256?: string | null;
}

export interface RetentionConfig {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

export interface AuthConfig {
  /** Name of the environment variable holding the bearer token for write endpoints. */
  tokenEnv: string | null;
  /** Path of a file holding the token (resolved against the config file's directory); read at start and on reload. */
  tokenFile: string | null;
  /** Every read route except /healthz and /readyz needs the token too. */
  protectReads: boolean;
}

/** Top-level `tls`: sstpwatch serves HTTPS with this certificate and key (PEM text read at load time). */
export interface ServerTlsConfig {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface ListenConfig {
  host: string;
  port: number;
}

/** `GET /probe` (Prometheus-driven probes): off unless enabled, and only towards allowed targets. */
export interface ProbeEndpointConfig {
  enabled: boolean;
  /** CIDRs (`10.0.0.0/24`), single addresses, host names, or `*.example.com` wildcards, as written. */
  allow: string[];
}

/** `log:` in the config. Null: not set (the level comes from SSTPWATCH_LOG_LEVEL or is info; the format follows stdout). */
export interface LogConfig {
  level: LogLevel | null;
  format: LogFormat | null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** text: one readable line per entry (for a terminal); json: one JSON object per line (for journald, Docker, a log shipper). */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** 0 = Sunday ... 6 = Saturday, as Date.getUTCDay() counts. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** When a maintenance window recurs, on the local calendar of its time zone. */
export type MaintenanceRecurrence =
  | { kind: 'daily' }
  | { kind: 'weekly'; days: Weekday[] }
  /** The nth (1-4) given weekday of each month, or the last one (-1). */
  | { kind: 'monthly'; nth: 1 | 2 | 3 | 4 | -1; day: Weekday };

/** `maintenance_windows[]`: a recurring window during which its targets are in state maintenance. */
export interface MaintenanceWindowConfig {
  name: string;
  /** Groups whose every target (servers and VIP) the window covers. */
  groups: string[];
  /** Further targets, by name. */
  targets: string[];
  every: MaintenanceRecurrence;
  /** Local start time in `timezone`. */
  start: { hour: number; minute: number };
  durationMs: number;
  /** IANA name, canonical as Intl resolves it ("Europe/Berlin", "UTC"). */
  timezone: string;
}

/** `shard: "I/N"`: this instance probes the targets whose stable hash falls to shard `index` (1-based) of `count`. */
export interface ShardConfig {
  index: number;
  count: number;
}

export interface Config {
  listen: ListenConfig;
  /** SQLite file path, resolved relative to the config file's directory; or a PostgreSQL URL (isPostgresUrl). */
  database: string;
  /** The file holding the PostgreSQL password (resolved like database), or null: the URL's or PGPASSWORD. */
  databasePasswordFile: string | null;
  auth: AuthConfig;
  /** Null: plain HTTP (the default; put a reverse proxy with TLS in front before listening beyond loopback). */
  serverTls: ServerTlsConfig | null;
  defaults: ProbeSettings;
  retention: RetentionConfig;
  groups: GroupConfig[];
  targets: TargetConfig[];
  demo: boolean;
  probeEndpoint: ProbeEndpointConfig;
  log: LogConfig;
  /** Per-target series families left out of /metrics (config/metrics-config.ts); a change needs a restart. */
  metrics: MetricsConfig;
  maintenanceWindows: MaintenanceWindowConfig[];
  /** `site:`: where this instance probes from; null: not set (config/sharding.ts siteOf gives the effective name). */
  site: string | null;
  /** `shard: "I/N"`: probe only the targets of this static shard (SQLite only); null: every target. */
  shard: ShardConfig | null;
}

/** One validation problem, with the path of the offending key: `groups[0].servers[1].url`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
    this.name = 'ConfigError';
  }
}

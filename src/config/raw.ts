// What the config schema produces: values checked one by one, still per level (defaults, group, target),
// before load.ts merges the levels.

import {
  type AuthConfig,
  type ListenConfig,
  type LogConfig,
  type ProbeCheck,
  type ProbeEndpointConfig,
  type RetentionConfig,
  type ShardConfig,
} from './types.js';
import type { MetricsConfig } from './metrics-config.js';

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
  metrics: MetricsConfig;
  site: string | null;
  shard: ShardConfig | null;
}

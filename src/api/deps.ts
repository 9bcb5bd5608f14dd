import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GroupConfig, TargetConfig } from '../config/types.js';
import type { GroupHealth } from '../health/group.js';
import type { Maintenance, TargetHealth } from '../health/types.js';
import type { GroupCertificateReport, TargetRevocation } from '../health/certificates.js';
import type { CertificateDetails, ChainChecks, ProbeResult } from '../probe/types.js';
import type { Store } from '../store/store.js';
import type { ProbeEndpointDeps } from './routes/probe.js';

export interface TargetView {
  config: TargetConfig;
  health: TargetHealth;
  /** The last deep SSTP check, for targets with `check: sstp`. */
  lastSstp?: ProbeResult;
}

export interface GroupView {
  config: GroupConfig;
  health: GroupHealth;
}

/** The live state the API shows; kept by the monitor, read-only here. */
export interface StatusSource {
  targets(): TargetView[];
  target(name: string): TargetView | undefined;
  groups(): GroupView[];
}

export interface Readiness {
  database: { ok: boolean; reason: string | null; pendingResults: number };
  scheduler: { ok: boolean };
}

/** What the write routes may ask of the running service (implemented in service.ts by the monitor and scheduler). */
export interface TargetControl {
  /** Probes a target now (or joins its probe in flight); the result goes through the monitor. Null: unknown name. */
  probeNow(name: string): Promise<ProbeResult | null>;
  /** Undefined for an unknown name. */
  setMaintenance(name: string, maintenance: Maintenance): TargetView | undefined;
  /** Ends a maintenance now (no change when there is none). Undefined for an unknown name. */
  clearMaintenance(name: string): TargetView | undefined;
}

/** The bearer token the write routes require. */
export interface AuthSettings {
  /** Null: no token configured, every write route answers 401 saying how to configure one. */
  token: string | null;
  /** The config's auth.token_env (for the message). */
  tokenEnv: string | null;
}

/** A target's presented chain and its checks, and a group's certificate findings (kept by the CertificateMonitor). */
export interface CertificateView {
  chain: CertificateDetails[];
  checks: ChainChecks | null;
  revocation: TargetRevocation[];
}

export interface CertificateStatusSource {
  group(name: string): GroupCertificateReport | undefined;
  target(name: string): CertificateView | undefined;
}

export interface AppDeps {
  status: StatusSource;
  /** Absent: targets and groups are shown without certificate chains and findings. */
  certificates?: CertificateStatusSource;
  /** Rollups, uptime and transitions are optional so a test app can leave them out (those routes then answer 503). */
  store: Pick<Store, 'history'> & Partial<Pick<Store, 'rollups' | 'uptime' | 'transitionsBetween'>>;
  /** Absent: write routes answer 503. */
  control?: TargetControl;
  /** Absent: as if no token were configured. */
  auth?: AuthSettings;
  registry: Registry;
  readiness: () => Readiness;
  log: Logger;
  now?: () => number;
  /** `GET /probe`; absent = the route answers 403 (disabled). */
  probeEndpoint?: ProbeEndpointDeps;
  /** Shown in the OpenAPI document. */
  version?: string;
}

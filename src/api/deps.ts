import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MaintenanceCalendar } from '../health/maintenance-calendar.js';
import type { Maintenance } from '../health/types.js';
import type { CertificateSource, StatusSource, TargetView } from '../health/views.js';
import type { ProbeResult } from '../probe/types.js';
import type { StartGate } from '../start-gate.js';
import type { Store } from '../store/store.js';
import type { ConnectionLimits } from './connections.js';
import type { FleetConfig } from './fleet.js';
import type { ProbeEndpointDeps } from './routes/probe.js';

export interface Readiness {
  database: { ok: boolean; reason: string | null; pendingResults: number };
  scheduler: { ok: boolean };
  /**
   * Instances of a site sharing targets on PostgreSQL: the shards this one owns. Not ok while the session holding
   * the shard locks is down (this instance then probes nothing). Absent: this instance owns every target.
   */
  ownership?: { ok: boolean; site: string; shardsOwned: number; shardsTotal: number; peers: number; housekeeper: boolean };
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

/**
 * The bearer token the write routes require. The service keeps one object and updates it on reload (a new token
 * file, protect_reads switched), so routes read it per request. Where the token lives is not here: clients are
 * never told (main.ts logs it for the operator).
 */
export interface AuthSettings {
  /** Null: no token configured, every write route answers 401 saying how to configure one. */
  token: string | null;
  /** auth.protect_reads: every read route except /healthz and /readyz needs the token too. */
  protectReads?: boolean;
}

/** Requests per minute and client address on the routes that change something or cost a probe. */
export interface RateLimits {
  /** PUT and DELETE maintenance, each. */
  writePerMinute: number;
  /** POST /api/v1/targets/:name/probe: each is a real connection to an RRAS server. */
  probeNowPerMinute: number;
  /** POST /-/reload. */
  reloadPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { writePerMinute: 60, probeNowPerMinute: 30, reloadPerMinute: 10 };

/** What a config reload did, or why the new config was refused (the old one then stays in force). */
export interface ReloadReport {
  ok: boolean;
  /** Why the new config was refused, each with its path (`groups[0].servers[1].url`); empty when ok. */
  errors: { path: string; message: string }[];
  added: string[];
  removed: string[];
  /** Targets whose settings changed; their state is kept unless their URL, hostname, group or role changed. */
  changed: string[];
  unchanged: number;
  /** Top-level keys that changed but take effect only after a restart (listen, database, ...). */
  restartRequired: string[];
  warnings: string[];
}

/** The config's recurring maintenance windows (kept by the service, updated on reload). */
export type MaintenanceWindowSource = Pick<MaintenanceCalendar, 'forTarget' | 'forGroup' | 'covers' | 'coversGroup' | 'list'>;

export interface AppDeps {
  /** The live state this instance keeps (its monitor: the targets it probes). */
  status: StatusSource;
  /**
   * Every configured target and group, when instances of a site share the targets (PostgreSQL): those a peer
   * probes are shown from the state it published. Absent: `status` holds the whole fleet.
   */
  fleet?: FleetConfig;
  /** Absent: targets and groups are shown without scheduled_maintenance. */
  maintenanceWindows?: MaintenanceWindowSource;
  /** Absent: targets and groups are shown without certificate chains and findings. */
  certificates?: CertificateSource;
  store: Store;
  /** Absent: write routes answer 503. */
  control?: TargetControl;
  /** Absent: as if no token were configured. */
  auth?: AuthSettings;
  registry: Registry;
  /** Held while /metrics is written: new probes wait (a bounded time) so that the scrape gets the loop. */
  startGate?: StartGate;
  readiness: () => Readiness;
  log: Logger;
  now?: () => number;
  /** `GET /probe`; absent = the route answers 403 (disabled). */
  probeEndpoint?: ProbeEndpointDeps;
  /** Shown in the OpenAPI document. */
  version?: string;
  /** Re-reads the config file and applies it (`POST /-/reload`); absent: the route answers 503. */
  reload?: () => Promise<ReloadReport>;
  /** Serve HTTPS with this certificate (chain) and key, PEM. Absent: plain HTTP. */
  https?: { cert: string; key: string };
  /** Defaults: DEFAULT_RATE_LIMITS. */
  rateLimits?: Partial<RateLimits>;
  /** How long a status list request waits for a new look before it is answered 503 (default STATUS_WAIT_MS, 10 s). */
  statusWaitMs?: number;
  /** Connection limits and timeouts of the listener (service.ts sets them from the descriptor limit); absent: Node's defaults. */
  connections?: ConnectionLimits;
}

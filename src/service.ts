import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { lookup } from 'node:dns/promises';
import { buildApp, type App } from './api/app.js';
import { AllowList } from './config/allow-list.js';
import type { Config } from './config/types.js';
import { createCertificateMetrics } from './metrics/certificates.js';
import { createMetrics } from './metrics/metrics.js';
import { createHeadProber } from './probe/head.js';
import { createSstpProber } from './probe/sstp.js';
import type { ProbeFn } from './probe/types.js';
import { CertificateMonitor } from './scheduler/certificates.js';
import { Monitor } from './scheduler/monitor.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { sstpCheckTargets } from './scheduler/sstp-plan.js';
import { createHousekeeping, type Housekeeping } from './store/housekeeping.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

export const VERSION = '0.1.0';

/** Requests to GET /probe per minute and client address: room for a Prometheus scraping ~100 targets every 15 s. */
const PROBE_ENDPOINT_RATE_LIMIT = 600;

export interface ServiceOptions {
  log: Logger;
  /** Defaults to the SSTP HEAD probe. */
  probe?: ProbeFn;
  /** Defaults to the deep SSTP check (targets with `check: sstp`). */
  sstpProbe?: ProbeFn;
  /** How often queued results are written (ms). */
  flushIntervalMs?: number;
  maxInFlight?: number;
  /** The bearer token for write routes (main.ts reads it from the variable auth.token_env names); null/empty: none. */
  authToken?: string | null;
  /** Time between housekeeping passes (rollups, retention, vacuum, checkpoint), ms. */
  housekeepingIntervalMs?: number;
}

export interface Service {
  app: App;
  monitor: Monitor;
  scheduler: Scheduler;
  /** Plans the deep SSTP checks (targets with `check: sstp`, every sstp_interval) beside the HEAD probes. */
  sstpScheduler: Scheduler;
  store: Store;
  registry: Registry;
  housekeeping: Housekeeping;
  start(): void;
  /** Stops probing, writes what is queued, closes the database and the HTTP server. Idempotent. */
  stop(): Promise<void>;
}

/** Wires the parts together; does not listen (main.ts does). */
export function createService(config: Config, options: ServiceOptions): Service {
  const { log } = options;
  const probe = options.probe ?? createHeadProber();
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const store = openSqliteStore({ path: config.database, log, retention: config.retention });
  const monitor = new Monitor({ store, metrics, log }, config.targets, config.groups);
  // Chains, group certificate findings and CRL/OCSP reachability (its own 15-minute cadence, off the probe path).
  const certificates = new CertificateMonitor({ metrics: createCertificateMetrics(registry), log }, config.targets, config.groups);
  const scheduler = createScheduler(config.targets, {
    probe: (target, signal) => probe(target, signal),
    onResult: (target, result) => {
      monitor.handleResult(target, result);
      certificates.observe(target, result);
    },
    onLag: (seconds) => metrics.observeLag(seconds),
    onTick: (now) => monitor.tick(now),
    log,
    maxInFlight: options.maxInFlight,
  });
  const sstpProbe = options.sstpProbe ?? createSstpProber();
  const sstpScheduler = createScheduler(sstpCheckTargets(config.targets), {
    probe: (target, signal) => sstpProbe(target, signal),
    onResult: (target, result) => monitor.handleSstpResult(target, result),
    onLag: (seconds) => metrics.observeLag(seconds),
    log,
    maxInFlight: options.maxInFlight,
  });
  const app = buildApp({
    probeEndpoint: {
      enabled: config.probeEndpoint.enabled,
      allowList: new AllowList(config.probeEndpoint.allow),
      defaults: config.defaults,
      probe,
      resolve: (hostname) => lookup(hostname),
      rateLimitPerMinute: PROBE_ENDPOINT_RATE_LIMIT,
    },
    version: VERSION,
    status: monitor,
    certificates,
    store,
    auth: { token: options.authToken || null, tokenEnv: config.auth.tokenEnv },
    control: {
      probeNow: (name) => scheduler.probeNow(name),
      setMaintenance: (name, maintenance) => monitor.setMaintenance(name, maintenance),
      clearMaintenance: (name) => monitor.clearMaintenance(name),
    },
    registry,
    log,
    readiness: () => {
      const write = store.writeHealth();
      return {
        database: { ok: write.ok, reason: write.reason, pendingResults: write.pending },
        scheduler: { ok: scheduler.stats().running },
      };
    },
  });
  let flushTimer: NodeJS.Timeout | null = null;
  let stopping: Promise<void> | null = null;
  // Rollups and retention run on their own timer, in short steps, never on the probe path.
  const housekeeping = createHousekeeping(store, { log, intervalMs: options.housekeepingIntervalMs });

  return {
    app,
    monitor,
    scheduler,
    sstpScheduler,
    store,
    registry,
    housekeeping,
    start() {
      scheduler.start();
      certificates.start();
      sstpScheduler.start();
      flushTimer = setInterval(() => store.flush(), options.flushIntervalMs ?? 1000);
      housekeeping.start();
      log.info({ targets: config.targets.length, groups: config.groups.length }, 'probing started');
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all([scheduler.stop(), sstpScheduler.stop()]);
        await certificates.stop();
        if (flushTimer) clearInterval(flushTimer);
        await housekeeping.stop();
        await app.close();
        store.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { lookup } from 'node:dns/promises';
import { buildApp, type App } from './api/app.js';
import type { AuthSettings, RateLimits, ReloadReport } from './api/deps.js';
import type { ProbeEndpointDeps } from './api/routes/probe.js';
import { connectionLimits, DEFAULT_OPEN_FILES, readOpenFilesLimit, type ConnectionLimits } from './api/connections.js';
import { AllowList } from './config/allow-list.js';
import { isPostgresUrl } from './config/database.js';
import { configInForce, diffConfig } from './config/diff.js';
import { inShard, siteOf } from './config/sharding.js';
import { ConfigError, type Config, type ConfigIssue } from './config/types.js';
import { MaintenanceCalendar } from './health/maintenance-calendar.js';
import { createCertificateMetrics } from './metrics/certificates.js';
import { registerBuildInfo } from './metrics/build-info.js';
import { createMetrics } from './metrics/metrics.js';
import { createOwnershipMetrics } from './metrics/ownership.js';
import { createReloadMetrics } from './metrics/reload.js';
import { CHECKS, createProbes } from './probe/checks.js';
import type { CheckKind, ProbeFn } from './probe/types.js';
import { CertificateMonitor } from './scheduler/certificates.js';
import { Monitor } from './scheduler/monitor.js';
import { ownedPart, type OwnedPart } from './scheduler/owned-targets.js';
import { siteKey, VIRTUAL_SHARDS, virtualShardOf } from './scheduler/ownership.js';
import { OwnershipManager } from './scheduler/ownership-manager.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { StartGate } from './start-gate.js';
import { createHousekeeping, type Housekeeping } from './store/housekeeping.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { VERSION } from './version.js';

/** How long stop() lets probes in flight finish before aborting them (README "Reliability"). */
export const SHUTDOWN_GRACE_MS = 5_000;
/** While database writes fail, the next try waits 1 s, 2 s, 4 s... up to this (a failing batch of 100,000 rows costs CPU). */
const MAX_WRITE_RETRY_MS = 8_000;

/** How often an instance on PostgreSQL reads the maintenance windows other instances may have set (ms). */
const MAINTENANCE_POLL_MS = 5_000;

/** Requests to GET /probe per minute and client address: room for a Prometheus scraping ~100 targets every 15 s. */
const PROBE_ENDPOINT_RATE_LIMIT = 600;

export interface ServiceOptions {
  log: Logger;
  /** Replace the probe of some check kinds (tests); by default each kind's own (probe/checks.ts). */
  probes?: Partial<Record<CheckKind, ProbeFn>>;
  /** How often queued results are written (ms). */
  flushIntervalMs?: number;
  maxInFlight?: number;
  /** The bearer token for write routes (main.ts reads it from the variable auth.token_env names); null/empty: none. */
  authToken?: string | null;
  /** Time between housekeeping passes (rollups, retention, vacuum, checkpoint), ms. */
  housekeepingIntervalMs?: number;
  /** How long stop() waits for probes in flight before aborting them; default SHUTDOWN_GRACE_MS. */
  shutdownGraceMs?: number;
  /** Also told every scheduled probe's start lag in seconds (the benchmark's raw lag log). */
  onLag?: (seconds: number) => void;
  /**
   * Re-reads the config (main.ts: the file, the token, the demo's targets) for reload(); throws ConfigError when
   * the new config is invalid. Absent: reload() refuses.
   */
  reloadConfig?: () => ReloadedConfig;
  /** The clock the monitor (maintenance windows) and the API read; default Date.now. Tests drive time with it. */
  now?: () => number;
  /** Per-client limits of the write and probe-now routes; defaults in api/deps.ts. */
  rateLimits?: Partial<RateLimits>;
  /** The API listener's connection limits; default: from this process's descriptor limit (api/connections.ts). */
  connectionLimits?: ConnectionLimits;
  /** Resolves /probe target names; defaults to the system resolver. */
  resolve?: (hostname: string) => Promise<{ address: string }>;
  /** Instances of a site on PostgreSQL: time between rebalance ticks (ms); default 5 s. */
  rebalanceIntervalMs?: number;
}

/** A config read again for a reload, with the token it names. */
export interface ReloadedConfig {
  config: Config;
  authToken: string | null;
  /** Logged, e.g. a token file others may read. */
  warnings: string[];
}

export interface Service {
  app: App;
  monitor: Monitor;
  /** Plans every check of every target: the HEAD probe, and the deep SSTP check of targets with `check: sstp`. */
  scheduler: Scheduler;
  store: Store;
  registry: Registry;
  housekeeping: Housekeeping;
  /** Instances of a site sharing targets on PostgreSQL: this one's shards; null on SQLite (it owns its targets). */
  ownership: OwnershipManager | null;
  /** Starts probing; on PostgreSQL after the first rebalance tick has taken this instance's share. */
  start(): Promise<void>;
  /** Stops probing, writes what is queued, closes the database and the HTTP server. Idempotent. */
  stop(): Promise<void>;
  /**
   * Re-reads the config (SIGHUP, POST /-/reload) and applies it to the monitor, the scheduler, the certificate
   * monitor, /probe and the token. An invalid config is refused, every error logged with its path; the old stays.
   */
  reload(): Promise<ReloadReport>;
}

/**
 * Wires the parts together and restores each target's recorded state; does not listen (main.ts does).
 * Rejects (with the store closed again) if the database cannot be opened or read.
 */
export async function createService(config: Config, options: ServiceOptions): Promise<Service> {
  const { log } = options;
  const probes = createProbes(options.probes);
  const registry = new Registry();
  // `site` on every per-target and per-group series when set, so the alert rules keep sites apart; without it the
  // series are as a single instance always exported them.
  const constantLabels: Record<string, string> = config.site === null ? {} : { site: config.site };
  const metrics = createMetrics(registry, { exclude: config.metrics.exclude, constantLabels });
  registerBuildInfo(registry, VERSION);
  const store = await openStore(config, { log });
  metrics.trackStoreWrites(() => store.writeHealth());
  const windows = new MaintenanceCalendar(config.maintenanceWindows);
  // On PostgreSQL the instances of a site share the targets by virtual shard: none is owned before the first
  // rebalance tick. On SQLite an instance owns its static shard (`shard: I/N`), or every target.
  const shared = isPostgresUrl(config.database);
  let ownedShards: ReadonlySet<number> = new Set();
  const ownedOf = (part: Config): OwnedPart => {
    if (!shared && part.shard === null) return part;
    return ownedPart(part, (name) => inShard(name, part.shard) && (!shared || ownedShards.has(virtualShardOf(name))));
  };
  let owned = ownedOf(config);
  let monitor: Monitor;
  try {
    monitor = await Monitor.create({ store, metrics, log, windows, now: options.now }, owned.targets, owned.groups);
  } catch (err) {
    await store.close();
    throw err;
  }
  // Chains, group certificate findings and CRL/OCSP reachability (its own 15-minute cadence, off the probe path).
  const certificates = new CertificateMonitor({ metrics: createCertificateMetrics(registry, { constantLabels }), log }, owned.targets, owned.groups);
  const startGate = new StartGate();
  const scheduler = createScheduler(owned.targets, {
    probe: (target, check, signal) => probes[check](target, signal),
    onResult: (target, check, result) => {
      monitor.handleResult(target, check, result);
      if (CHECKS[check].drivesHealth) certificates.observe(target, result);
    },
    onLag: (seconds) => {
      metrics.observeLag(seconds);
      options.onLag?.(seconds);
    },
    onTick: (now) => monitor.tick(options.now?.() ?? now),
    log,
    maxInFlight: options.maxInFlight,
    startGate,
  });
  // One object each, updated in place on reload: the routes read them per request.
  const probeEndpoint: ProbeEndpointDeps = {
    enabled: config.probeEndpoint.enabled,
    allowList: new AllowList(config.probeEndpoint.allow),
    defaults: config.defaults,
    probe: probes.head,
    resolve: options.resolve ?? ((hostname) => lookup(hostname)),
    rateLimitPerMinute: PROBE_ENDPOINT_RATE_LIMIT,
  };
  const auth: AuthSettings = {
    token: options.authToken || null,
    protectReads: config.auth.protectReads,
  };
  const openFiles = readOpenFilesLimit();
  const connections = options.connectionLimits ?? connectionLimits(openFiles ?? DEFAULT_OPEN_FILES);
  log.info(
    { openFiles: openFiles ?? `unknown, assumed ${DEFAULT_OPEN_FILES}`, apiConnections: connections.total, perClient: connections.perClient, requestTimeoutMs: connections.requestTimeoutMs },
    'API connection limits (the rest of the descriptors is kept for probes)',
  );
  const reloadMetrics = createReloadMetrics(registry);
  reloadMetrics.succeeded(Date.now());
  let running = config;
  const app = buildApp({
    probeEndpoint,
    version: VERSION,
    status: monitor,
    // Instances of a site share the targets: the API shows every configured one, a peer's from what it published.
    ...(shared ? { fleet: { targets: () => running.targets, groups: () => running.groups } } : {}),
    maintenanceWindows: windows,
    now: options.now,
    certificates,
    store,
    auth,
    https: config.serverTls ? { cert: config.serverTls.cert, key: config.serverTls.key } : undefined,
    rateLimits: options.rateLimits,
    connections,
    reload: () => reload(),
    control: {
      probeNow: (name) => scheduler.probeNow(name),
      setMaintenance: (name, maintenance) => monitor.setMaintenance(name, maintenance),
      clearMaintenance: (name) => monitor.clearMaintenance(name),
    },
    registry,
    startGate,
    log,
    readiness: () => {
      const write = store.writeHealth();
      const share = ownership?.state();
      return {
        database: { ok: write.ok, reason: write.reason, pendingResults: write.pending },
        scheduler: { ok: scheduler.stats().running },
        ...(share && {
          ownership: { ok: share.connected, site: share.site, shardsOwned: share.owned, shardsTotal: VIRTUAL_SHARDS, peers: share.peers, housekeeper: share.housekeeper },
        }),
      };
    },
  });
  let flushTimer: NodeJS.Timeout | null = null;
  let maintenanceTimer: NodeJS.Timeout | null = null;
  // On a shared database another instance (a peer, another site's API) may set or end a maintenance window.
  let adopting = false;
  const adoptMaintenance = async (): Promise<void> => {
    const mark = monitor.maintenanceMark();
    if (adopting || mark === null) return;
    adopting = true;
    try {
      monitor.adoptMaintenance(await store.maintenanceWindows(), mark);
    } catch (err) {
      log.debug({ err }, 'maintenance windows not read; trying again later');
    } finally {
      adopting = false;
    }
  };
  let stopping: Promise<void> | null = null;
  // While writes fail (full or read-only disk), retry with a growing pause; results stay queued meanwhile.
  let nextWriteAt = 0;
  let writeRetryMs = 0;
  let flushing = false;
  const flushQueued = async (): Promise<void> => {
    const now = Date.now();
    if (flushing || now < nextWriteAt) return;
    flushing = true;
    try {
      await store.flush();
    } finally {
      flushing = false;
    }
    if (store.writeHealth().ok) {
      writeRetryMs = 0;
      nextWriteAt = 0;
    } else {
      writeRetryMs = Math.min(MAX_WRITE_RETRY_MS, writeRetryMs === 0 ? 1_000 : writeRetryMs * 2);
      nextWriteAt = now + writeRetryMs;
    }
  };
  // Rollups and retention run on their own timer, in short steps, never on the probe path nor during a scrape.
  const housekeeping = createHousekeeping(store, {
    log,
    intervalMs: options.housekeepingIntervalMs,
    startGate,
    isHousekeeper: shared ? () => ownership?.isHousekeeper() === true : undefined,
  });

  /**
   * Probes exactly the owned part of `running`: targets leaving stop being planned first and their probes in flight
   * finish (their results are kept) before the monitor forgets them; arriving targets resume their recorded state
   * before they are planned. Rejects when that state cannot be read (the arriving targets are then not probed).
   */
  async function retarget(): Promise<void> {
    const next = ownedOf(running);
    const names = new Set(next.targets.map((target) => target.name));
    const leaving = new Set(owned.targets.filter((target) => !names.has(target.name)).map((target) => target.name));
    const staying = owned.targets.filter((target) => names.has(target.name));
    if (leaving.size > 0) {
      scheduler.setTargets(staying);
      await scheduler.idle(leaving);
    }
    owned = { targets: staying, groups: owned.groups };
    await monitor.setConfig(next.targets, next.groups);
    certificates.setConfig(next.targets, next.groups);
    scheduler.setTargets(next.targets);
    owned = next;
  }

  const site = siteOf(config);
  const ownershipMetrics = shared ? createOwnershipMetrics(registry, site) : null;
  const ownership = shared
    ? new OwnershipManager({
        open: async () => (await import('./store/postgres/shard-locks.js')).shardLockOpener(config, { siteKey: siteKey(site), log })(),
        apply: (shards) =>
          serialized(async () => {
            ownedShards = shards;
            await retarget();
          }),
        log,
        site,
        tickMs: options.rebalanceIntervalMs,
        onChange: (state, rebalanced) => {
          ownershipMetrics?.set(state);
          if (rebalanced) ownershipMetrics?.rebalanced();
        },
      })
    : null;

  const refuse = (errors: ConfigIssue[]): ReloadReport => {
    reloadMetrics.failed();
    for (const issue of errors) log.error({ path: issue.path, problem: issue.message }, 'config reload refused: the running config stays');
    return { ok: false, errors, added: [], removed: [], changed: [], unchanged: running.targets.length, restartRequired: [], warnings: [] };
  };

  // One reload or ownership change at a time (SIGHUP and POST /-/reload may overlap, shards move meanwhile): each
  // diffs against the config the last one left.
  let reloading: Promise<unknown> = Promise.resolve();
  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const done = reloading.then(work);
    reloading = done.catch(() => undefined);
    return done;
  }
  function reload(): Promise<ReloadReport> {
    return serialized(applyReload);
  }

  async function applyReload(): Promise<ReloadReport> {
    if (!options.reloadConfig) return refuse([{ path: '', message: 'this sstpwatch was started without a config file to reload' }]);
    let next: ReloadedConfig;
    try {
      next = options.reloadConfig();
    } catch (err) {
      if (err instanceof ConfigError) return refuse(err.issues);
      return refuse([{ path: '', message: `cannot read the config: ${err instanceof Error ? err.message : String(err)}` }]);
    }
    const { config: file, authToken, warnings } = next;
    const diff = diffConfig(running, file);
    const config = configInForce(running, file);
    const part = ownedOf(config);
    try {
      windows.setWindows(config.maintenanceWindows);
      await monitor.setConfig(part.targets, part.groups);
    } catch (err) {
      windows.setWindows(running.maintenanceWindows);
      log.error({ err }, 'config reload failed while recording the new targets');
      return refuse([{ path: '', message: `the new targets could not be recorded: ${err instanceof Error ? err.message : String(err)}` }]);
    }
    certificates.setConfig(part.targets, part.groups);
    scheduler.setTargets(part.targets);
    owned = part;
    Object.assign(probeEndpoint, {
      enabled: config.probeEndpoint.enabled,
      allowList: new AllowList(config.probeEndpoint.allow),
      defaults: config.defaults,
    });
    Object.assign(auth, { token: authToken || null, protectReads: config.auth.protectReads });
    // A renewed certificate or key (tls stays on): new connections get it, no restart.
    if (config.serverTls && running.serverTls && (config.serverTls.cert !== running.serverTls.cert || config.serverTls.key !== running.serverTls.key)) {
      (app.server as unknown as { setSecureContext(options: { cert: string; key: string }): void }).setSecureContext({
        cert: config.serverTls.cert,
        key: config.serverTls.key,
      });
      log.info({ certFile: config.serverTls.certFile }, 'config reload: new TLS certificate in use');
    }
    running = config;
    reloadMetrics.succeeded(Date.now());
    for (const warning of warnings) log.warn({ warning }, 'config reload: warning');
    const { added, removed, changed, unchanged, restartRequired } = diff;
    log.info({ added, removed, changed, unchanged, targets: config.targets.length }, 'config reloaded');
    if (restartRequired.length) log.warn({ keys: restartRequired }, 'config reloaded, but these settings take effect only after a restart');
    return { ok: true, errors: [], added, removed, changed, unchanged, restartRequired, warnings };
  }

  return {
    app,
    monitor,
    scheduler,
    store,
    registry,
    housekeeping,
    ownership,
    reload,
    async start() {
      scheduler.start();
      certificates.start();
      flushTimer = setInterval(() => void flushQueued(), options.flushIntervalMs ?? 1000);
      if (isPostgresUrl(running.database)) maintenanceTimer = setInterval(() => void adoptMaintenance(), MAINTENANCE_POLL_MS);
      housekeeping.start();
      await ownership?.begin();
      const fields = { targets: owned.targets.length, groups: owned.groups.length, configured: running.targets.length };
      if (shared) log.info({ ...fields, site, shardsOwned: ownership?.state().owned ?? 0 }, 'probing started');
      else if (running.shard) log.info({ ...fields, shard: `${running.shard.index}/${running.shard.count}` }, 'probing started');
      else log.info({ targets: running.targets.length, groups: running.groups.length }, 'probing started');
    },
    stop() {
      stopping ??= (async () => {
        const graceMs = options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
        await scheduler.stop({ graceMs });
        // no probe is in flight any more: the shards can go to the other instances
        await ownership?.stop();
        await certificates.stop();
        if (flushTimer) clearInterval(flushTimer);
        if (maintenanceTimer) clearInterval(maintenanceTimer);
        await housekeeping.stop();
        await app.close();
        await store.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

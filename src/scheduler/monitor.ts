import type { Logger } from 'pino';
import { sameTargetIdentity } from '../config/identity.js';
import { shortestCronPeriodMs } from '../config/cron-period.js';
import { thresholdsOf } from '../config/policy.js';
import type { GroupConfig, TargetConfig } from '../config/types.js';
import { healthOfTally, retally, tallyGroup, type GroupTally } from '../health/group.js';
import type { MaintenanceCalendar } from '../health/maintenance-calendar.js';
import { summarize } from '../health/sites.js';
import { applyResult, followMaintenance, maintenanceInForce, restoreHealth, type HealthStep } from '../health/state.js';
import type { Maintenance, StateTransition, TargetHealth } from '../health/types.js';
import type { GroupView, StatusSource, TargetView } from '../health/views.js';
import { labelsOf, type Metrics } from '../metrics/metrics.js';
import { CHECKS } from '../probe/checks.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import type { RecordedState, Store, UptimeExclusion } from '../store/store.js';

export interface MonitorDeps {
  store: Store;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
  /**
   * The config's recurring maintenance windows; absent: none. `covers` and `empty` let the once-a-second pass skip
   * the targets no window names, or every target, without evaluating any calendar.
   */
  windows?: Pick<MaintenanceCalendar, 'activeFor' | 'covers' | 'empty'>;
}

/**
 * The orchestrator, Gatus' watchdog: each result is evaluated (rise/fall), published (metrics), and stored
 * (result and state transition). It keeps the live state the API reads.
 */
export class Monitor implements StatusSource {
  private readonly targetsByName = new Map<string, TargetView>();
  private readonly groupsByName = new Map<string, GroupView>();
  /** Each group's member states counted, kept up to date at every transition: a result never walks its group. */
  private readonly tallies = new Map<string, GroupTally>();
  /** The group each configured member belongs to, and as what. */
  private readonly membership = new Map<string, { group: string; member: 'server' | 'vip' }>();
  /** Maintenance set through the API (kept in the store); the config's windows come from deps.windows. */
  private readonly apiMaintenance = new Map<string, Maintenance>();
  /** The targets whose state is in maintenance now (whatever put them there). */
  private readonly inMaintenance = new Set<string>();
  /** The config being applied: one at a time, in call order. */
  private configuring: Promise<void> = Promise.resolve();
  /** Maintenance writes to the store not finished yet, and a count of every one made (see adoptMaintenance). */
  private maintenanceWrites = { inFlight: 0, made: 0 };

  /** A monitor of `targets`, each resuming the state the store last recorded for it. */
  static async create(deps: MonitorDeps, targets: TargetConfig[], groups: GroupConfig[]): Promise<Monitor> {
    const monitor = new Monitor(deps);
    await monitor.setConfig(targets, groups);
    return monitor;
  }

  private constructor(private readonly deps: MonitorDeps) {}

  /**
   * Applies a (re)loaded config: unchanged targets keep their state, removed ones are forgotten, new ones resume
   * the state the store last recorded for them (restoreHealth: an incident open at shutdown stays open).
   * Calls are applied one at a time; the live state changes at once, after the store has been read.
   */
  setConfig(targets: TargetConfig[], groups: GroupConfig[]): Promise<void> {
    const applied = this.configuring.then(() => this.applyConfig(targets, groups));
    this.configuring = applied.catch(() => undefined);
    return applied;
  }

  private async applyConfig(targets: TargetConfig[], groups: GroupConfig[]): Promise<void> {
    const arriving = targets.filter((config) => !this.keeps(config));
    // Only targets that arrive need the store: dropping targets (shards given up while PostgreSQL is away) must not.
    if (arriving.length > 0 || this.targetsByName.size === 0) {
      await this.deps.store.syncTargets(targets.map((t) => ({ name: t.name, group: t.group, role: t.role, url: t.url })));
    }
    // One read per few hundred targets: a start with 10,000 targets or a takeover of 5,000 is a handful of queries.
    const recorded =
      arriving.length > 0 ? await this.deps.store.recordedStates(arriving.map((config) => config.name)) : new Map<string, RecordedState>();
    const names = new Set(targets.map((t) => t.name));
    for (const [name, entry] of this.targetsByName) {
      if (!names.has(name)) {
        this.deps.metrics.forgetTarget(labelsOf(entry.config));
        this.targetsByName.delete(name);
        this.inMaintenance.delete(name);
        this.apiMaintenance.delete(name);
      }
    }
    const now = this.now();
    for (const config of targets) {
      const existing = this.targetsByName.get(config.name);
      if (existing && sameTargetIdentity(existing.config, config)) existing.config = config;
      else {
        if (existing) this.deps.metrics.forgetTarget(labelsOf(existing.config));
        const stored = recorded.get(config.name);
        const fromApi = stored?.maintenance ?? null;
        if (fromApi && fromApi.until > now) this.apiMaintenance.set(config.name, fromApi);
        else this.apiMaintenance.delete(config.name);
        // A restart inside a configured window resumes it: no transition out of maintenance and back.
        const inForce = maintenanceInForce(fromApi, this.deps.windows?.activeFor(config, now) ?? null, now);
        const step = restoreHealth(config.name, stored?.transition ?? null, inForce, now);
        this.targetsByName.set(config.name, { config, health: step.health, lastResults: {} });
        this.noteMaintenance(config.name, step.health);
        if (step.transition) {
          this.logTransition(step.transition);
          this.deps.store.recordTransition(step.transition);
          if (!step.health.maintenance) this.persistMaintenance(config.name, null);
        }
      }
      this.deps.metrics.setHealth(labelsOf(config), this.targetsByName.get(config.name)!.health);
      const { intervalMs } = config.settings;
      this.deps.metrics.setProbeInterval(labelsOf(config), intervalMs === null ? null : intervalMs / 1000);
      this.deps.metrics.setThresholds(labelsOf(config), thresholdsOf(config.settings));
    }
    // A reload that adds, moves or removes a window takes effect now, not at the next tick.
    for (const entry of this.targetsByName.values()) this.followMaintenance(entry, now);
    const groupNames = new Set(groups.map((g) => g.name));
    for (const name of this.groupsByName.keys()) {
      if (!groupNames.has(name)) {
        this.deps.metrics.forgetGroup(name);
        this.groupsByName.delete(name);
      }
    }
    this.tallies.clear();
    this.membership.clear();
    for (const config of groups) {
      for (const name of config.servers) this.membership.set(name, { group: config.name, member: 'server' });
      if (config.vip) this.membership.set(config.vip, { group: config.name, member: 'vip' });
      const tally = this.countGroup(config);
      this.tallies.set(config.name, tally);
      this.groupsByName.set(config.name, { config, health: healthOfTally(tally) });
    }
    for (const group of this.groupsByName.values()) this.deps.metrics.setGroup(group.config.name, group.health);
  }

  /**
   * A finished check of any kind (probe/checks.ts). Its series move and it is stored; a kind that drives the
   * health (HEAD) also moves the up/down state (rise/fall). The others never do: a server that answers HEAD but
   * refuses calls shows as up with sstp_handshake_success 0, since the state is what a load balancer acts on.
   */
  handleResult(config: TargetConfig, check: CheckKind, result: ProbeResult): void {
    const entry = this.targetsByName.get(config.name);
    if (!entry) return; // removed by a reload while its probe was in flight
    const kind = CHECKS[check];
    if (kind.drivesHealth) this.followMaintenance(entry, this.now()); // a window that began within the last tick already counts
    if (result.errorKind === 'monitor_error') return this.handleMonitorError(config.name, check, result);
    const failedBefore = entry.lastResults[check]?.ok === false;
    entry.lastResults = { ...entry.lastResults, [check]: result };
    this.deps.metrics.observe(check, labelsOf(entry.config), result);
    const fields = { target: config.name, kind: result.errorKind, message: result.message, stage: result.sstp?.stageReached };
    if (!kind.drivesHealth) {
      this.deps.store.record(config.name, check, result);
      if (!result.ok) this.deps.log.warn(fields, `${kind.noun} failed`);
      else if (failedBefore) this.deps.log.info(fields, `${kind.noun} recovered`);
      return;
    }
    const step = applyResult(config.name, entry.health, result, config.settings);
    this.deps.store.record(config.name, check, result, uptimeExclusion(step.health));
    // Failures of the health check are told by the state transitions; each one alone is detail.
    if (!result.ok) this.deps.log.debug(fields, `${kind.noun} failed`);
    this.apply(entry, step);
  }

  /**
   * A probe that failed for sstpwatch's own reasons (out of file descriptors...): kept in the history, excluded from
   * uptime, counted in its own metric, logged; the target's state, counters and series do not move.
   */
  private handleMonitorError(target: string, check: CheckKind, result: ProbeResult): void {
    const kind = CHECKS[check];
    this.deps.metrics.observeMonitorError();
    if (kind.drivesHealth) this.deps.store.record(target, check, result, 'unknown');
    this.deps.log.error({ target, message: result.message }, `${kind.noun} not made: sstpwatch itself failed; the target's state is unchanged`);
  }

  /** Once a second: starts and ends maintenance as configured windows begin and end and API maintenance expires. */
  tick(now: number): void {
    // No window configured, none set through the API and no target in maintenance: nothing can begin or end.
    const noWindows = !this.deps.windows || this.deps.windows.empty;
    if (noWindows && this.apiMaintenance.size === 0 && this.inMaintenance.size === 0) return;
    for (const entry of this.targetsByName.values()) this.followMaintenance(entry, now);
  }

  /** Puts a target in maintenance until `maintenance.until` (or changes its window). Undefined for an unknown name. */
  setMaintenance(name: string, maintenance: Maintenance, now = this.now()): TargetView | undefined {
    const entry = this.targetsByName.get(name);
    if (!entry) return undefined;
    this.persistMaintenance(name, maintenance);
    this.apiMaintenance.set(name, maintenance);
    this.followMaintenance(entry, now);
    this.deps.log.info({ target: name, until: new Date(maintenance.until).toISOString(), reason: maintenance.reason }, 'maintenance set');
    return entry;
  }

  /**
   * Ends the maintenance set through the API now (nothing happens when there is none). A configured window in
   * progress keeps the target in maintenance until the window ends. Undefined for an unknown name.
   */
  clearMaintenance(name: string, now = this.now()): TargetView | undefined {
    const entry = this.targetsByName.get(name);
    if (!entry) return undefined;
    if (entry.health.maintenance || this.apiMaintenance.has(name)) {
      this.persistMaintenance(name, null);
      this.apiMaintenance.delete(name);
      this.followMaintenance(entry, now);
      if (entry.health.maintenance) this.deps.log.info({ target: name, until: new Date(entry.health.maintenance.until).toISOString() }, 'maintenance set through the API ended; a configured window goes on');
      else this.deps.log.info({ target: name }, 'maintenance ended');
    }
    return entry;
  }

  /**
   * Where the store's maintenance windows stand, to pass to adoptMaintenance() with what the store answers: a read
   * that began while this monitor was still writing a window of its own is not adopted (it may predate the write).
   */
  maintenanceMark(): number | null {
    return this.maintenanceWrites.inFlight > 0 ? null : this.maintenanceWrites.made;
  }

  /**
   * Adopts the maintenance windows the store holds for this site's targets: another instance (a peer of the site,
   * or any site's API, since a window holds for every site) may have set or ended one. `mark`: maintenanceMark()
   * taken before the store was read; when this monitor wrote a window since, the answer is ignored.
   */
  adoptMaintenance(recorded: ReadonlyMap<string, Maintenance>, mark: number | null, now = this.now()): void {
    if (mark === null || mark !== this.maintenanceMark()) return;
    for (const [name, entry] of this.targetsByName) {
      const known = this.apiMaintenance.get(name);
      const stored = recorded.get(name);
      if (known?.until === stored?.until && known?.reason === stored?.reason) continue;
      if (stored && stored.until > now) this.apiMaintenance.set(name, stored);
      else if (!stored) this.apiMaintenance.delete(name);
      else continue; // expired: followMaintenance ends it
      this.deps.log.info({ target: name, until: stored ? new Date(stored.until).toISOString() : null }, 'maintenance changed by another instance');
      this.followMaintenance(entry, now);
    }
  }

  targets(): TargetView[] {
    return [...this.targetsByName.values()];
  }

  target(name: string): TargetView | undefined {
    return this.targetsByName.get(name);
  }

  groups(): GroupView[] {
    return [...this.groupsByName.values()];
  }

  private apply(entry: TargetView, step: HealthStep): void {
    const before = entry.health;
    entry.health = step.health;
    this.noteMaintenance(entry.config.name, step.health);
    if (step.health !== before) this.publish(entry);
    // Most results change nothing the series show: skip the label hashing of six series then.
    if (step.transition || before.state !== step.health.state || before.consecutiveFailures !== step.health.consecutiveFailures) {
      this.deps.metrics.setHealth(labelsOf(entry.config), step.health);
    }
    if (!step.transition) return;
    this.logTransition(step.transition);
    this.deps.store.recordTransition(step.transition);
    const membership = this.membership.get(entry.config.name);
    const group = membership ? this.groupsByName.get(membership.group) : undefined;
    const tally = membership ? this.tallies.get(membership.group) : undefined;
    if (membership && group && tally && before.state !== step.health.state) {
      const next = retally(tally, membership.member, before.state, step.health.state);
      this.tallies.set(membership.group, next);
      group.health = healthOfTally(next);
      this.deps.metrics.setGroup(group.config.name, group.health);
    }
  }

  /** Brings the target's maintenance in line with the API's and the configured windows' at `now`. */
  private followMaintenance(entry: TargetView, now: number): void {
    const name = entry.config.name;
    let fromApi = this.apiMaintenance.get(name) ?? null;
    if (fromApi && fromApi.until <= now) {
      this.apiMaintenance.delete(name);
      this.persistMaintenance(name, null);
      fromApi = null;
    }
    // Most targets are in no maintenance and named by no window: nothing to evaluate, every second, for each.
    if (fromApi === null && !entry.health.maintenance && !this.mayBeInWindow(entry.config)) return;
    const wanted = maintenanceInForce(fromApi, this.deps.windows?.activeFor(entry.config, now) ?? null, now);
    if (wanted === null && !entry.health.maintenance) return;
    this.apply(entry, followMaintenance(name, entry.health, wanted, now));
  }

  private noteMaintenance(name: string, health: TargetHealth): void {
    if (health.maintenance) this.inMaintenance.add(name);
    else this.inMaintenance.delete(name);
  }

  /** False only when the calendar says no configured window names the target (then activeFor() is null). */
  private mayBeInWindow(config: TargetConfig): boolean {
    return this.deps.windows?.covers(config) ?? false;
  }

  /** Tells other instances (through the store) the target's state as this one sees it. */
  private publish({ config, health }: TargetView): void {
    const { intervalMs, schedule } = config.settings;
    const certificate = health.lastResult?.certificate;
    this.deps.store.publishState(config.name, {
      state: health.state,
      since: health.since,
      consecutiveFailures: health.consecutiveFailures,
      consecutiveSuccesses: health.consecutiveSuccesses,
      intervalMs: intervalMs ?? (schedule === null ? null : shortestCronPeriodMs(schedule)) ?? 60_000,
      lastResult: summarize(health.lastResult),
      certificate: certificate ? { sha256: certificate.sha256, notAfter: certificate.notAfter } : null,
    });
  }

  /** Whether a configured target carries on with the state it has (same identity). */
  private keeps(config: TargetConfig): boolean {
    const existing = this.targetsByName.get(config.name);
    return existing !== undefined && sameTargetIdentity(existing.config, config);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The window is kept in the database so a restart keeps it; a failing write is logged, the state still changes. */
  private persistMaintenance(name: string, maintenance: Maintenance | null): void {
    // Not awaited: the store applies its calls in the order they are made.
    this.maintenanceWrites.inFlight++;
    this.maintenanceWrites.made++;
    this.deps.store
      .setMaintenance(name, maintenance)
      .catch((err: unknown) => {
        this.deps.log.error({ err, target: name }, 'maintenance window could not be saved; it is lost on restart');
      })
      .finally(() => this.maintenanceWrites.inFlight--);
  }

  private countGroup(config: GroupConfig): GroupTally {
    const stateOf = (name: string) => this.targetsByName.get(name)?.health.state ?? 'unknown';
    return tallyGroup(config.servers.map(stateOf), config.vip ? stateOf(config.vip) : null);
  }

  private logTransition(t: StateTransition): void {
    const fields = { target: t.target, from: t.from, to: t.to, cause: t.cause, message: t.message };
    if (t.to === 'down') this.deps.log.warn(fields, 'target went down');
    else this.deps.log.info(fields, 'target changed state');
  }
}

/** Results count for uptime only while the target has a verdict (up or down) and is not in maintenance. */
export function uptimeExclusion(health: TargetHealth): UptimeExclusion {
  if (health.maintenance) return 'maintenance';
  return health.state === 'unknown' ? 'unknown' : null;
}


// What the SQL stores share above their engines: the Store methods that queue rows (intake.ts), answer a read
// by target id (each engine's reads), or run a housekeeping step. An engine adds opening, writing and closing.
import type { SiteStates } from '../health/sites.js';
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import type { HousekeepingSteps } from './housekeeping-steps.js';
import type { WriteIntake } from './intake.js';
import { readRecordedStates, type SelectedRecordedState } from './recorded-states.js';
import {
  UnknownSiteError,
  type PublishedState,
  type RecordedState,
  type HistoryPage,
  type HistoryQuery,
  type HousekeepingStep,
  type RollupPoint,
  type RollupResolution,
  type Store,
  type StoredResult,
  type TargetRecord,
  type UptimeCount,
  type UptimeExclusion,
  type WriteHealth,
} from './store.js';

type Answer<T> = T | Promise<T>;

/** An engine's reads of one target, by its id (the store resolves the name). */
export interface TargetReads {
  history(targetId: number, query: HistoryQuery): Answer<HistoryPage<StoredResult>>;
  rollups(targetId: number, resolution: RollupResolution, query: HistoryQuery): Answer<HistoryPage<RollupPoint>>;
  uptime(targetId: number, from: number, to: number): Answer<UptimeCount>;
  transitionsBetween(target: string, targetId: number, from: number, to: number): Answer<StateTransition[]>;
  lastResult(targetId: number, check: CheckKind): Answer<StoredResult | null>;
  lastTransition(target: string, targetId: number): Answer<StateTransition | null>;
  maintenance(targetId: number): Answer<Maintenance | null>;
  /** The newest transition and the maintenance window of each of a batch of targets that has either, in one query. */
  recordedStates(targetIds: readonly number[]): Answer<SelectedRecordedState[]>;
  /** Every recorded maintenance window, by target id. */
  maintenanceWindows(): Answer<Map<number, Maintenance>>;
}

export abstract class QueuedStore implements Store {
  constructor(
    protected readonly intake: WriteIntake,
    private readonly reads: TargetReads,
    private readonly housekeeping: HousekeepingSteps,
    readonly site: string,
  ) {}

  abstract syncTargets(targets: TargetRecord[]): Promise<void>;
  abstract siteStates(): Promise<SiteStates>;
  abstract flush(): Promise<void>;
  abstract setMaintenance(target: string, maintenance: Maintenance | null): Promise<void>;
  abstract close(): Promise<void>;

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    this.intake.record(target, check, result, exclusion);
  }

  recordTransition(transition: StateTransition): void {
    this.intake.recordTransition(transition);
  }

  publishState(target: string, state: PublishedState): void {
    this.intake.publishState(target, state);
  }

  /** One site: this store's. A store that holds several overrides this and otherSiteTargetId(). */
  async sites(): Promise<string[]> {
    return [this.site];
  }

  async history(target: string, query: HistoryQuery, site?: string): Promise<HistoryPage<StoredResult>> {
    return this.reads.history(await this.targetIdAt(target, site), query);
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery, site?: string): Promise<HistoryPage<RollupPoint>> {
    return this.reads.rollups(await this.targetIdAt(target, site), resolution, query);
  }

  async uptime(target: string, from: number, to: number, site?: string): Promise<UptimeCount> {
    return this.reads.uptime(await this.targetIdAt(target, site), from, to);
  }

  async transitionsBetween(target: string, from: number, to: number, site?: string): Promise<StateTransition[]> {
    return this.reads.transitionsBetween(target, await this.targetIdAt(target, site), from, to);
  }

  async maintenanceWindows(): Promise<Map<string, Maintenance>> {
    const byId = await this.reads.maintenanceWindows();
    const windows = new Map<string, Maintenance>();
    for (const [name, id] of this.intake.targetIds()) {
      const maintenance = byId.get(id);
      if (maintenance) windows.set(name, maintenance);
    }
    return windows;
  }

  /** A target's id at `site` (default this store's); rejects with TargetNotFoundError or UnknownSiteError. */
  protected async targetIdAt(target: string, site: string | undefined): Promise<number> {
    if (site === undefined || site === this.site) return this.intake.requireTargetId(target);
    return this.otherSiteTargetId(site, target);
  }

  /** Another site's target: a store of one site knows no other. */
  protected async otherSiteTargetId(site: string, _target: string): Promise<number> {
    throw new UnknownSiteError(site, await this.sites());
  }

  async maintenance(target: string): Promise<Maintenance | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.maintenance(targetId);
  }

  async recordedStates(targets: readonly string[]): Promise<Map<string, RecordedState>> {
    return readRecordedStates(targets, (name) => this.intake.targetId(name), (ids) => this.reads.recordedStates(ids));
  }

  async lastResult(target: string, check: CheckKind): Promise<StoredResult | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.lastResult(targetId, check);
  }

  async lastTransition(target: string): Promise<StateTransition | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.lastTransition(target, targetId);
  }

  async housekeepingStep(now: number): Promise<HousekeepingStep | null> {
    if (this.intake.isClosed) return null;
    return this.housekeeping.next(now);
  }

  writeHealth(): WriteHealth {
    return this.intake.writeHealth();
  }
}

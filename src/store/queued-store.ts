// What the SQL stores share above their engines: the Store methods that queue rows (intake.ts), answer a read
// by target id (each engine's reads), or run a housekeeping step. An engine adds opening, writing and closing.
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import type { HousekeepingSteps } from './housekeeping-steps.js';
import type { WriteIntake } from './intake.js';
import type {
  HistoryPage,
  HistoryQuery,
  HousekeepingStep,
  RollupPoint,
  RollupResolution,
  Store,
  StoredResult,
  TargetRecord,
  UptimeCount,
  UptimeExclusion,
  WriteHealth,
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
}

export abstract class QueuedStore implements Store {
  constructor(
    protected readonly intake: WriteIntake,
    private readonly reads: TargetReads,
    private readonly housekeeping: HousekeepingSteps,
  ) {}

  abstract syncTargets(targets: TargetRecord[]): Promise<void>;
  abstract flush(): Promise<void>;
  abstract setMaintenance(target: string, maintenance: Maintenance | null): Promise<void>;
  abstract close(): Promise<void>;

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    this.intake.record(target, check, result, exclusion);
  }

  recordTransition(transition: StateTransition): void {
    this.intake.recordTransition(transition);
  }

  async history(target: string, query: HistoryQuery): Promise<HistoryPage<StoredResult>> {
    return this.reads.history(this.intake.requireTargetId(target), query);
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery): Promise<HistoryPage<RollupPoint>> {
    return this.reads.rollups(this.intake.requireTargetId(target), resolution, query);
  }

  async uptime(target: string, from: number, to: number): Promise<UptimeCount> {
    return this.reads.uptime(this.intake.requireTargetId(target), from, to);
  }

  async transitionsBetween(target: string, from: number, to: number): Promise<StateTransition[]> {
    return this.reads.transitionsBetween(target, this.intake.requireTargetId(target), from, to);
  }

  async maintenance(target: string): Promise<Maintenance | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.maintenance(targetId);
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

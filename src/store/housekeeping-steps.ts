import type { Logger } from 'pino';
import type { CheckKind } from '../probe/types.js';
import { HOUSEKEEPING, afterRewind, taskStart, type HousekeepingProgress, type HousekeepingTask, type PruneTask } from './housekeeping-plan.js';
import { HOUR_MS, bucketStart } from './rollup.js';
import type { HousekeepingStep, RollupResolution } from './store.js';

/** Does one bounded step of a task; null when the task has nothing left in this pass. */
export type TaskStep = (task: HousekeepingTask, now: number, progress: HousekeepingProgress) => Promise<HousekeepingStep | null>;

/** The prune task of each kind's table. */
const PRUNED_BY: { readonly [K in CheckKind]: PruneTask } = { head: 'prune_raw', sstp: 'prune_sstp_checks' };

/**
 * Per prune task, the time below which it has nothing to delete: the oldest row it could delete once its last walk
 * over every target ended, lowered by every row written since. A pass whose cutoff is not past it skips the task
 * instead of asking every target. Rows this instance does not see written (another instance's, on PostgreSQL) wait
 * at most HOUSEKEEPING.rewalkMs: a walk is due that long after the last one whatever the floor says.
 */
export class PruneFloors {
  private readonly floors = new Map<PruneTask, { at: number; walkedAt: number }>();
  /** The oldest row written since each walk in progress started. */
  private readonly writtenDuringWalk = new Map<PruneTask, number>();

  /** Whether a walk at `cutoff` may delete anything at `now`. */
  due(task: PruneTask, cutoff: number, now: number): boolean {
    const floor = this.floors.get(task);
    return floor === undefined || cutoff > floor.at || now < floor.walkedAt || now - floor.walkedAt >= HOUSEKEEPING.rewalkMs;
  }

  /**
   * Before a step of a prune task: false when the task has nothing to delete in this pass (it is skipped without
   * reading its targets). A walk once started goes on to its last target.
   */
  shouldWalk(task: PruneTask, progress: HousekeepingProgress, cutoff: number, now: number): boolean {
    if (progress.targets !== null) return true;
    if (!this.due(task, cutoff, now)) return false;
    this.writtenDuringWalk.set(task, Number.POSITIVE_INFINITY);
    return true;
  }

  /** Where a prune step leaves its walk: once past its last target, the task's new floor is known. */
  afterStep(task: PruneTask, progress: HousekeepingProgress, now: number): void {
    if (progress.targets !== null && progress.targetIndex >= progress.targets.length) this.walked(task, now, progress.oldestLeft);
  }

  /** A rollup wrote buckets from `windowStart` on (the minutes packed by their hour). */
  rolledUp(resolution: RollupResolution, windowStart: number): void {
    if (resolution === '1m') this.lower('prune_minute', bucketStart(windowStart, HOUR_MS));
    else this.lower('prune_hour', windowStart);
  }

  /** A walk over every target ended at `now`; `oldest` is the oldest row it left that the task could delete later. */
  private walked(task: PruneTask, now: number, oldest: number): void {
    const written = this.writtenDuringWalk.get(task) ?? Number.NEGATIVE_INFINITY;
    this.writtenDuringWalk.delete(task);
    this.floors.set(task, { at: Math.min(oldest, written), walkedAt: now });
  }

  /** Rows as old as `at` were written to the task's table. */
  lower(task: PruneTask, at: number): void {
    const floor = this.floors.get(task);
    if (floor && at < floor.at) floor.at = at;
    const written = this.writtenDuringWalk.get(task);
    if (written !== undefined && at < written) this.writtenDuringWalk.set(task, at);
  }

  /** Rows of a check kind were written, at their times. */
  checksWritten(kind: CheckKind, rows: readonly { at: number }[]): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const row of rows) oldest = Math.min(oldest, row.at);
    if (oldest !== Number.POSITIVE_INFINITY) this.lower(PRUNED_BY[kind], oldest);
  }

  /** A transition was written: the target's previous one, however old, may go now. */
  transitionsWritten(): void {
    this.lower('prune_transitions', Number.NEGATIVE_INFINITY);
  }
}

/**
 * A store's housekeeping pass, step by step: its tasks in order, each until it has nothing left. A failing step is
 * logged and ends the pass (the next pass retries it).
 */
export class HousekeepingSteps {
  readonly floors = new PruneFloors();
  private progress = taskStart();

  constructor(
    private readonly tasks: readonly HousekeepingTask[],
    private readonly step: TaskStep,
    private readonly log: Logger,
  ) {}

  /** The next step due at `now`; null when the pass is done (the next call starts a new one). Never rejects. */
  async next(now: number): Promise<HousekeepingStep | null> {
    while (this.progress.task < this.tasks.length) {
      const task = this.tasks[this.progress.task]!;
      let step: HousekeepingStep | null;
      try {
        step = await this.step(task, now, this.progress);
      } catch (err) {
        this.log.error({ err, task }, 'housekeeping step failed; it is retried on the next pass');
        this.progress = taskStart();
        return null;
      }
      if (step) return step;
      this.progress = taskStart(this.progress.task + 1);
    }
    this.progress = taskStart();
    return null;
  }

  /** Late results moved a rollup mark back: their buckets are written again, maybe older than the rollups' floors. */
  rewound(): void {
    this.progress = afterRewind(this.progress, this.tasks);
    this.floors.lower('prune_minute', Number.NEGATIVE_INFINITY);
    this.floors.lower('prune_hour', Number.NEGATIVE_INFINITY);
  }
}

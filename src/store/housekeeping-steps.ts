import type { Logger } from 'pino';
import { afterRewind, taskStart, type HousekeepingProgress, type HousekeepingTask } from './housekeeping-plan.js';
import type { HousekeepingStep } from './store.js';

/** Does one bounded step of a task; null when the task has nothing left in this pass. */
export type TaskStep = (task: HousekeepingTask, now: number, progress: HousekeepingProgress) => Promise<HousekeepingStep | null>;

/**
 * A store's housekeeping pass, step by step: its tasks in order, each until it has nothing left. A failing step is
 * logged and ends the pass (the next pass retries it).
 */
export class HousekeepingSteps {
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

  /** Late results moved a rollup mark back. */
  rewound(): void {
    this.progress = afterRewind(this.progress, this.tasks);
  }
}

// How often a cron `schedule` runs at most: a probe must finish before its next one is due, so its timeout must be
// shorter than the shortest gap between two runs, as it must be shorter than an `interval`.
import cron from 'node-cron';

/** Runs looked at: enough for the shortest gap of any pattern to show (it repeats within its coarsest field). */
const RUNS = 48;

const cache = new Map<string, number | null>();

/** The shortest time between two consecutive runs of a valid node-cron expression (ms), or null if it runs once or never. */
export function shortestCronPeriodMs(expression: string): number | null {
  const known = cache.get(expression);
  if (known !== undefined) return known;
  let runs: Date[] = [];
  try {
    const task = cron.createTask(expression, () => undefined);
    runs = task.getNextRuns(RUNS);
    void task.destroy();
  } catch {
    // not a valid expression: the schema reports it
  }
  let shortest: number | null = null;
  for (let i = 1; i < runs.length; i++) {
    const gap = runs[i]!.getTime() - runs[i - 1]!.getTime();
    if (shortest === null || gap < shortest) shortest = gap;
  }
  if (cache.size > 256) cache.clear();
  cache.set(expression, shortest);
  return shortest;
}

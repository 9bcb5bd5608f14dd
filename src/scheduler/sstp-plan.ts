// The deep SSTP check's cadence. Decision (issue 9): a target with `check: sstp` keeps its HEAD probe at its own
// interval or schedule (that drives up/down), and the deep check runs beside it every sstp_interval, planned by a
// second scheduler over the targets this function returns. The same planner, phase spreading and bounded
// concurrency apply; the deep check's phase comes from the same name hash modulo sstp_interval.
import { DEFAULT_SSTP_INTERVAL_MS } from '../config/schema.js';
import type { TargetConfig } from '../config/types.js';

/** The targets to deep-check, each with a fixed interval of its sstp_interval (never a cron schedule). */
export function sstpCheckTargets(targets: readonly TargetConfig[]): TargetConfig[] {
  return targets
    .filter((target) => target.settings.check === 'sstp')
    .map((target) => ({
      ...target,
      settings: { ...target.settings, intervalMs: target.settings.sstpIntervalMs ?? DEFAULT_SSTP_INTERVAL_MS, schedule: null },
    }));
}

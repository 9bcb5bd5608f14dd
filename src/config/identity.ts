// When a target in a reloaded config is still "the same target". The monitor (state and history), the
// certificate monitor (chain and its series), the scheduler (timing) and the reload report all ask here, so
// that they agree on what a reload keeps.
import type { TargetConfig } from './types.js';

/**
 * Same URL, hostname, group and role: the target's state, history, metric series and presented chain carry on,
 * whatever else (interval, thresholds, ...) changed. Anything else is a new server under an old name.
 */
export function sameTargetIdentity(a: TargetConfig, b: TargetConfig): boolean {
  return a.url === b.url && a.hostname === b.hostname && a.group === b.group && a.role === b.role;
}

/** Any setting differs: the reload reports the target as changed and the scheduler plans it anew. */
export function targetChanged(a: TargetConfig, b: TargetConfig): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}

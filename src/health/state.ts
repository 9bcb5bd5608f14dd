import type { ProbeResult } from '../probe/types.js';
import type { Maintenance, StateTransition, TargetHealth, TargetState } from './types.js';

export interface Thresholds {
  /** Successes in a row to go up. */
  rise: number;
  /** Failures in a row to go down. */
  fall: number;
}

export interface HealthStep {
  health: TargetHealth;
  /** Set when the visible state changed. */
  transition: StateTransition | null;
}

export function initialHealth(): TargetHealth {
  return {
    state: 'unknown',
    since: null,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastResult: null,
    maintenance: null,
    underlying: 'unknown',
  };
}

/**
 * The rise/fall state machine, HAProxy's way: `rise` successes in a row take a target up, `fall` failures
 * in a row take it down; the same thresholds give the first verdict from `unknown`. While in maintenance
 * the underlying state keeps evolving, but the visible state stays `maintenance` and no transition is made.
 */
export function applyResult(target: string, health: TargetHealth, result: ProbeResult, t: Thresholds): HealthStep {
  // sstpwatch's own failure (out of descriptors or memory) says nothing about the target: no count, no verdict.
  if (result.errorKind === 'monitor_error') return { health, transition: null };
  const consecutiveSuccesses = result.ok ? health.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = result.ok ? 0 : health.consecutiveFailures + 1;
  let underlying = health.underlying;
  if (result.ok && underlying !== 'up' && consecutiveSuccesses >= t.rise) underlying = 'up';
  if (!result.ok && underlying !== 'down' && consecutiveFailures >= t.fall) underlying = 'down';

  const next: TargetHealth = {
    ...health,
    consecutiveSuccesses,
    consecutiveFailures,
    lastResult: result,
    underlying,
  };
  if (health.maintenance) return { health: next, transition: null };
  return changeVisibleState(target, next, underlying, result.at, result);
}

/**
 * The health a target resumes with after a restart, from what the store recorded: the state of its last
 * transition (since = that transition's time) and its maintenance window. Counters start at zero and rise/fall
 * go on from there, so a target that was down stays down (its incident stays open) until `rise` successes.
 * A maintenance window that ended while sstpwatch was stopped ends now (the state becomes unknown: what the
 * target did meanwhile was not seen); a window whose transition was lost is entered now.
 */
export function restoreHealth(
  target: string,
  last: StateTransition | null,
  maintenance: Maintenance | null,
  now: number,
): HealthStep {
  const active = maintenance && maintenance.until > now ? maintenance : null;
  if (!last) return active ? enterMaintenance(target, initialHealth(), active, now) : { health: initialHealth(), transition: null };
  const health: TargetHealth = {
    ...initialHealth(),
    state: last.to,
    since: last.at,
    underlying: last.to === 'maintenance' ? 'unknown' : last.to,
  };
  if (last.to === 'maintenance') {
    if (active) return { health: { ...health, maintenance: active }, transition: null };
    return exitMaintenance(target, { ...health, maintenance: maintenance ?? { until: now, reason: '' } }, now);
  }
  return active ? enterMaintenance(target, health, active, now) : { health, transition: null };
}

/** Puts a target in maintenance (or extends it). */
export function enterMaintenance(target: string, health: TargetHealth, maintenance: Maintenance, at: number): HealthStep {
  return changeVisibleState(target, { ...health, maintenance }, 'maintenance', at, null, maintenance.reason);
}

/** Takes a target out of maintenance: it shows its underlying state again. */
export function exitMaintenance(target: string, health: TargetHealth, at: number): HealthStep {
  if (!health.maintenance) return { health, transition: null };
  return changeVisibleState(target, { ...health, maintenance: null }, health.underlying, at, health.lastResult);
}

/** Ends a maintenance whose `until` has passed. */
export function expireMaintenance(target: string, health: TargetHealth, now: number): HealthStep {
  if (!health.maintenance || health.maintenance.until > now) return { health, transition: null };
  return exitMaintenance(target, health, now);
}

/**
 * The maintenance in force at `now`: of the one set through the API and the configured window in progress, the
 * one that lasts longer (both are in force; the target leaves maintenance when neither is). Null: none.
 */
export function maintenanceInForce(fromApi: Maintenance | null, fromWindow: Maintenance | null, now: number): Maintenance | null {
  const active = [fromApi, fromWindow].filter((m): m is Maintenance => m !== null && m.until > now);
  return active.reduce<Maintenance | null>((longest, m) => (longest === null || m.until > longest.until ? m : longest), null);
}

/** Moves a target into, along (a later end, another reason: no transition) or out of maintenance to match `wanted`. */
export function followMaintenance(target: string, health: TargetHealth, wanted: Maintenance | null, at: number): HealthStep {
  if (wanted === null) return exitMaintenance(target, health, at);
  const current = health.maintenance;
  if (current && current.until === wanted.until && current.reason === wanted.reason) return { health, transition: null };
  return enterMaintenance(target, health, wanted, at);
}

function changeVisibleState(
  target: string,
  health: TargetHealth,
  to: TargetState,
  at: number,
  cause: ProbeResult | null,
  reason?: string,
): HealthStep {
  if (health.state === to) return { health, transition: null };
  const transition: StateTransition = {
    target,
    at,
    from: health.state,
    to,
    cause: cause ? cause.errorKind : null,
    message: cause ? cause.message : (reason ?? null),
  };
  return { health: { ...health, state: to, since: at }, transition };
}

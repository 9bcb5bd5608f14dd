// The published live states of a store that holds one site (SQLite, memory): kept in memory as of the last flush,
// since no other instance reads them (the SQLite file is one instance's). The same answers as the PostgreSQL table.
import type { SiteStates, SiteTargetState } from '../health/sites.js';
import type { PendingState } from './intake.js';
import type { PublishedState } from './store.js';

export class LocalSiteStates {
  private readonly rows = new Map<number, SiteTargetState>();

  constructor(
    private readonly site: string,
    private readonly now: () => number,
  ) {}

  /** Stores the states a flush took from the intake, stamped with the flush time. */
  write(pending: readonly PendingState[]): void {
    if (pending.length === 0) return;
    const at = this.now();
    for (const { targetId, target, state } of pending) this.rows.set(targetId, siteTargetState(this.site, target, state, at));
  }

  read(): SiteStates {
    return { at: this.now(), states: [...this.rows.values()] };
  }
}

/**
 * A row, every field set in one literal in a fixed order: all rows share one shape with their fields in the object
 * (a spread of the published state gives each row a copied shape and a separate property store).
 */
function siteTargetState(site: string, target: string, state: PublishedState, updatedAt: number): SiteTargetState {
  return {
    site,
    target,
    state: state.state,
    since: state.since,
    consecutiveFailures: state.consecutiveFailures,
    consecutiveSuccesses: state.consecutiveSuccesses,
    intervalMs: state.intervalMs,
    lastResult: state.lastResult,
    certificate: state.certificate,
    updatedAt,
  };
}

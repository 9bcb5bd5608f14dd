// The published live states of a store that holds one site (SQLite, memory): kept in memory as of the last flush,
// since no other instance reads them (the SQLite file is one instance's). The same answers as the PostgreSQL table.
import type { SiteStates, SiteTargetState } from '../health/sites.js';
import type { PendingState } from './intake.js';

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
    for (const { targetId, target, state } of pending) this.rows.set(targetId, { ...state, site: this.site, target, updatedAt: at });
  }

  read(): SiteStates {
    return { at: this.now(), states: [...this.rows.values()] };
  }
}

// The /api/v1/status list, kept between requests. At 10,000 targets presenting and serializing every target on each
// request held the event loop for seconds (bench/fleet.ts) and probes started late meanwhile. Here a target's JSON is
// rebuilt only when its config, its health (a new object with every result), its last results or its maintenance
// calendar changes, and at least every MAX_AGE_MS so that days_left keeps moving. Each request compares what it
// would show with the last list: the list's version moves only when some target's or group's JSON really changed,
// and a body (and its gzip) is built once per version and query.
import type { ScheduledMaintenance } from '../health/maintenance-calendar.js';
import type { GroupView, TargetView } from '../health/views.js';
import { presentTarget } from './present.js';

const MAX_AGE_MS = 60_000;

interface Entry {
  health: TargetView['health'];
  lastResults: TargetView['lastResults'];
  config: TargetView['config'];
  scheduled: ScheduledMaintenance | null | undefined;
  builtAt: number;
  json: string;
}

/**
 * Each target's list entry: the TargetStatus fields without the certificate chain, its checks and revocation
 * sources (those stay on /api/v1/targets/:name; they were most of the list's size).
 */
export class TargetJsonCache {
  private entries = new Map<string, Entry>();

  /** The target's list JSON (presentTarget() without certificate details), from the cache while nothing it shows changed. */
  json(view: TargetView, now: number, scheduled?: ScheduledMaintenance | null): string {
    const name = view.config.name;
    const entry = this.entries.get(name);
    if (
      entry &&
      now >= entry.builtAt &&
      now - entry.builtAt < MAX_AGE_MS &&
      entry.config === view.config &&
      entry.health === view.health &&
      entry.lastResults === view.lastResults &&
      sameScheduled(entry.scheduled, scheduled)
    ) {
      return entry.json;
    }
    const json = JSON.stringify(presentTarget(view, now, undefined, scheduled));
    this.entries.set(name, { health: view.health, lastResults: view.lastResults, config: view.config, scheduled, builtAt: now, json });
    return json;
  }

  /** Forgets targets that are no longer configured. */
  retain(views: readonly TargetView[]): void {
    if (this.entries.size <= views.length) return;
    const names = new Set(views.map((v) => v.config.name));
    for (const name of this.entries.keys()) if (!names.has(name)) this.entries.delete(name);
  }
}

/** The list as of one version: every target's and group's JSON in config order, and what a filter needs. */
export interface StatusSnapshot {
  /** Moves whenever anything the list shows changed; equal versions give byte-identical bodies for a query. */
  version: number;
  /** When this version was built (the body's generated_at). */
  builtAt: number;
  targets: readonly TargetView[];
  targetJson: readonly string[];
  groups: readonly GroupView[];
  groupJson: readonly string[];
}

/**
 * Follows the live state and tells, per request, the snapshot to serve. Comparing a request's strings with the
 * last snapshot's costs one pointer (or short string) comparison per target: nothing is hashed.
 */
export class StatusVersions {
  private readonly targets = new TargetJsonCache();
  private last: StatusSnapshot | null = null;

  /**
   * The snapshot of `targets` (presented through the cache) and `groupJson` (presented by the caller: a group is
   * small, and its findings come from elsewhere) at `now`: the last one while nothing in it changed.
   */
  snapshot(
    targets: readonly TargetView[],
    groups: readonly GroupView[],
    groupJson: readonly string[],
    now: number,
    scheduledOf: (view: TargetView) => ScheduledMaintenance | null | undefined,
  ): StatusSnapshot {
    const targetJson = targets.map((view) => this.targets.json(view, now, scheduledOf(view)));
    this.targets.retain(targets);
    const last = this.last;
    if (last && sameStrings(last.targetJson, targetJson) && sameStrings(last.groupJson, groupJson)) return last;
    this.last = { version: (last?.version ?? 0) + 1, builtAt: now, targets, targetJson, groups, groupJson };
    return this.last;
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The calendar keeps each occurrence object until it changes. */
function sameScheduled(a: ScheduledMaintenance | null | undefined, b: ScheduledMaintenance | null | undefined): boolean {
  if (a === b) return true;
  return !!a && !!b && a.current === b.current && a.next === b.next;
}

// The /api/v1/status list, kept between requests. At 10,000 targets presenting and serializing every target on each
// request held the event loop for seconds (bench/fleet.ts) and probes started late meanwhile. Here:
// - each target's and group's entry is kept as its JSON (a fragment), presented again only when something it shows
//   changed (compared by identity: the monitor gives a target a new health object with every result) or it is a
//   minute old (days_left moves);
// - the list as a whole (a snapshot: every fragment in config order, the summary, what the filters need) is looked
//   at again at most once per STALE_MS, however many requests come: between two looks every request is answered
//   from the same snapshot. A change shows within STALE_MS (as Gatus and Uptime Kuma cache their lists), or at
//   once after a write through this API (invalidate());
// - the snapshot's version moves only when some fragment really changed, so pollers keep their ETag while nothing
//   they see changed.
import type { TargetState } from '../health/types.js';
import type { GroupView, TargetView } from '../health/views.js';

/** How old a fragment may get before it is presented again although nothing it depends on changed (days_left). */
export const FRAGMENT_MAX_AGE_MS = 60_000;
/** How long a snapshot answers requests before the live state is looked at again: the list's staleness bound. */
export const STALE_MS = 1_000;

interface Fragment {
  inputs: readonly unknown[];
  builtAt: number;
  json: string;
}

/** What one entry shows: `present()` gives it; `inputs` are what it depends on, compared by identity (===). */
export interface Presentation {
  inputs: readonly unknown[];
  present: () => unknown;
}

/** Entries' JSON by key, serialized again only when one of its inputs is a different value or it is too old. */
export class FragmentCache {
  private entries = new Map<string, Fragment>();

  constructor(private readonly maxAgeMs = FRAGMENT_MAX_AGE_MS) {}

  json(key: string, { inputs, present }: Presentation, now: number): string {
    const entry = this.entries.get(key);
    if (entry && now >= entry.builtAt && now - entry.builtAt < this.maxAgeMs && sameInputs(entry.inputs, inputs)) return entry.json;
    const json = JSON.stringify(present());
    this.entries.set(key, { inputs, builtAt: now, json });
    return json;
  }

  /** Forgets keys no longer in use (after a reload removed targets or groups). */
  retain(keys: readonly string[]): void {
    if (this.entries.size <= keys.length) return;
    const kept = new Set(keys);
    for (const key of this.entries.keys()) if (!kept.has(key)) this.entries.delete(key);
  }
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface StatusSummary {
  targets: number;
  up: number;
  down: number;
  unknown: number;
  maintenance: number;
}

/** The list as of one look at the live state: what every request until the next look is answered from. */
export interface StatusSnapshot {
  /** Moves whenever anything the list shows changed; equal versions give byte-identical bodies for a query. */
  version: number;
  /** When this version was built (the body's generated_at). */
  builtAt: number;
  /** Per target, in config order: its name, group, state (as shown in its fragment) and fragment. */
  names: readonly string[];
  groupOf: readonly string[];
  states: readonly TargetState[];
  targetJson: readonly string[];
  groupNames: readonly string[];
  groupJson: readonly string[];
  summary: StatusSummary;
  /** Positions of each group's targets, ascending. */
  targetsOfGroup: ReadonlyMap<string, readonly number[]>;
  /** Position of each group in groupNames. */
  groupIndex: ReadonlyMap<string, number>;
}

/** Where the list comes from: the live views and how one target or group is shown. */
export interface StatusListSource {
  targets(): readonly TargetView[];
  groups(): readonly GroupView[];
  target(view: TargetView, now: number): Presentation;
  group(view: GroupView, now: number): Presentation;
}

/** Keeps the current snapshot; see the top of this file for when it is built again. */
export class StatusSnapshots {
  private readonly targets = new FragmentCache();
  private readonly groups = new FragmentCache();
  private last: StatusSnapshot | null = null;
  private lookedAt = -Infinity;
  private dirty = false;

  constructor(
    private readonly source: StatusListSource,
    private readonly staleMs = STALE_MS,
  ) {}

  /** Something changed through the API (maintenance set, probe now, reload): the next request looks again. */
  invalidate(): void {
    this.dirty = true;
  }

  /** The snapshot to answer a request at `now` from; `fresh` looks at the live state whatever its age. */
  current(now: number, fresh = false): StatusSnapshot {
    const last = this.last;
    if (last && !fresh && !this.dirty && now >= this.lookedAt && now - this.lookedAt < this.staleMs) return last;
    this.dirty = false;
    this.lookedAt = now;
    const next = this.build(now);
    if (last && sameStrings(last.targetJson, next.targetJson) && sameStrings(last.groupJson, next.groupJson)) return last;
    next.version = (last?.version ?? 0) + 1;
    this.last = next;
    return next;
  }

  private build(now: number): StatusSnapshot {
    const views = this.source.targets();
    const n = views.length;
    const names = new Array<string>(n);
    const groupOf = new Array<string>(n);
    const states = new Array<TargetState>(n);
    const targetJson = new Array<string>(n);
    const summary: StatusSummary = { targets: n, up: 0, down: 0, unknown: 0, maintenance: 0 };
    const targetsOfGroup = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const view = views[i]!;
      names[i] = view.config.name;
      groupOf[i] = view.config.group;
      // Kept: the views are live, and until the next look the filters must select by the state the fragment shows.
      const state = view.health.state;
      states[i] = state;
      summary[state]++;
      targetJson[i] = this.targets.json(view.config.name, this.source.target(view, now), now);
      const members = targetsOfGroup.get(view.config.group);
      if (members) members.push(i);
      else targetsOfGroup.set(view.config.group, [i]);
    }
    const groupViews = this.source.groups();
    const groupNames = groupViews.map((g) => g.config.name);
    const groupJson = groupViews.map((g) => this.groups.json(g.config.name, this.source.group(g, now), now));
    this.targets.retain(names);
    this.groups.retain(groupNames);
    return {
      version: 0, builtAt: now, names, groupOf, states, targetJson, groupNames, groupJson, summary, targetsOfGroup,
      groupIndex: new Map(groupNames.map((name, i) => [name, i])),
    };
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

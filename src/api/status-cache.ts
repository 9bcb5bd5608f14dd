// The /api/v1/status list, kept between requests. At 10,000 targets presenting and serializing every target on each
// request held the event loop for seconds (bench/fleet.ts) and probes started late meanwhile. Here:
// - each target's and group's entry is kept as its JSON (a fragment), presented again only when something it shows
//   changed (compared by identity: the monitor gives a target a new health object with every result) or it is a
//   minute old (days_left moves);
// - the list as a whole (a snapshot: every fragment in config order, the summary, what the filters need) is one
//   look at the live state, taken in slices of a few milliseconds with the event loop given back in between (at
//   10,000 targets a look in one go held the loop for tens of milliseconds, a minute's re-presentation of every
//   entry for far longer, and probes due meanwhile started late); when to look again is status-versions.ts's
//   business;
// - the snapshot's version moves only when some fragment really changed, so pollers keep their ETag while nothing
//   they see changed.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TimeSlicer } from '../time-slice.js';
import type { TargetState } from '../health/types.js';
import type { GroupView, TargetView } from '../health/views.js';

/** How old a fragment may get before it is presented again although nothing it depends on changed (days_left). */
export const FRAGMENT_MAX_AGE_MS = 60_000;
/** How old the newest version of the list may get before the live state is looked at again (status-versions.ts). */
export const STALE_MS = 1_000;

interface Fragment {
  inputs: unknown[];
  builtAt: number;
  json: string;
  /** Its length in UTF-8: a body's length is the sum of its fragments', never measured again. */
  bytes: number;
}

/** How long one slice of a look (or of the list's gzip, status-list.ts) may hold the event loop before giving it back. */
export const LOOK_SLICE_MS = 4;
/** Entries looked at between two glances at the clock. */
const CLOCK_EVERY = 64;

/** How one kind of entry (a target, a group) is shown, and what it depends on. */
export interface EntryShow<V> {
  key(view: V): string;
  /** Writes what the entry shows that may change into `into` (compared by identity, ===, with what it was built from). */
  inputs(view: V, now: number, into: unknown[]): void;
  present(view: V, now: number): unknown;
}

/**
 * Entries' JSON by key, serialized again only when one of its inputs is a different value or it is too old. Looking
 * an entry up allocates nothing: at 10,000 targets the list is looked at every second.
 */
export class FragmentCache<V> {
  private entries = new Map<string, Fragment>();
  private readonly scratch: unknown[] = [];

  constructor(
    private readonly show: EntryShow<V>,
    private readonly maxAgeMs = FRAGMENT_MAX_AGE_MS,
  ) {}

  json(view: V, now: number): string {
    return this.entry(view, now).json;
  }

  /** The entry's JSON and its length in bytes, serialized again only when it changed or is too old. */
  entry(view: V, now: number): { readonly json: string; readonly bytes: number } {
    const key = this.show.key(view);
    const inputs = this.scratch;
    inputs.length = 0;
    this.show.inputs(view, now, inputs);
    const entry = this.entries.get(key);
    if (entry && now >= entry.builtAt && now - entry.builtAt < this.maxAgeMs && sameInputs(entry.inputs, inputs)) return entry;
    const json = JSON.stringify(this.show.present(view, now));
    const made = { inputs: inputs.slice(), builtAt: now, json, bytes: Buffer.byteLength(json, 'utf8') };
    this.entries.set(key, made);
    return made;
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
  /** Each target fragment's length in UTF-8 bytes. */
  targetBytes: readonly number[];
  groupNames: readonly string[];
  groupJson: readonly string[];
  summary: StatusSummary;
  /** Position of each group in groupNames. */
  groupIndex: ReadonlyMap<string, number>;
  /** Positions of each group's targets, ascending (worked out on the first request that filters by group). */
  targetsOfGroup(): ReadonlyMap<string, readonly number[]>;
}

/** Where the list comes from: the live views and how one target or group is shown. */
export interface StatusListSource {
  targets(): readonly TargetView[];
  groups(): readonly GroupView[];
  target: EntryShow<TargetView>;
  group: EntryShow<GroupView>;
}

/** Looks at the live state: a new snapshot when something shown changed, else the last one again. */
export class StatusSnapshots {
  private readonly targets: FragmentCache<TargetView>;
  private readonly groups: FragmentCache<GroupView>;
  private last: StatusSnapshot | null = null;
  /** The look under way: looks run one after the other, each over the state as it is when it starts. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly source: StatusListSource) {
    this.targets = new FragmentCache(source.target);
    this.groups = new FragmentCache(source.group);
  }

  /**
   * The list as of `now`: the last snapshot (same object, same version) while no entry changed. Taken in slices of
   * about LOOK_SLICE_MS, the event loop given back in between (`pause`); a look asked for while one runs starts after it.
   */
  look(now: number, pause: () => Promise<unknown> = nextTurn): Promise<StatusSnapshot> {
    const done = this.running.then(() => this.lookNow(now, pause));
    this.running = done.catch(() => undefined);
    return done;
  }

  private async lookNow(now: number, pause: () => Promise<unknown>): Promise<StatusSnapshot> {
    const last = this.last;
    const next = await this.build(now, pause);
    if (last && sameStrings(last.targetJson, next.targetJson) && sameStrings(last.groupJson, next.groupJson)) return last;
    next.version = (last?.version ?? 0) + 1;
    this.last = next;
    return next;
  }

  private async build(now: number, pause: () => Promise<unknown>): Promise<StatusSnapshot> {
    const views = this.source.targets();
    const n = views.length;
    const names = new Array<string>(n);
    const groupOf = new Array<string>(n);
    const states = new Array<TargetState>(n);
    const targetJson = new Array<string>(n);
    const targetBytes = new Array<number>(n);
    const slicer = new TimeSlicer(LOOK_SLICE_MS, undefined, pause);
    let up = 0;
    let down = 0;
    let unknown = 0;
    let maintenance = 0;
    for (let i = 0; i < n; i++) {
      if (i % CLOCK_EVERY === 0 && i > 0 && slicer.spent()) await slicer.yield();
      const view = views[i]!;
      names[i] = view.config.name;
      groupOf[i] = view.config.group;
      // Kept: the views are live, and until the next look the filters must select by the state the fragment shows.
      const state = view.health.state;
      states[i] = state;
      if (state === 'up') up++;
      else if (state === 'down') down++;
      else if (state === 'unknown') unknown++;
      else maintenance++;
      const fragment = this.targets.entry(view, now);
      targetJson[i] = fragment.json;
      targetBytes[i] = fragment.bytes;
    }
    const groupViews = this.source.groups();
    const groupNames = groupViews.map((g) => g.config.name);
    const groupJson = groupViews.map((g) => this.groups.json(g, now));
    this.targets.retain(names);
    this.groups.retain(groupNames);
    let byGroup: Map<string, number[]> | null = null;
    return {
      version: 0, builtAt: now, names, groupOf, states, targetJson, targetBytes, groupNames, groupJson,
      summary: { targets: n, up, down, unknown, maintenance },
      groupIndex: new Map(groupNames.map((name, i) => [name, i])),
      targetsOfGroup: () => (byGroup ??= positionsByGroup(groupOf)),
    };
  }
}

function positionsByGroup(groupOf: readonly string[]): Map<string, number[]> {
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < groupOf.length; i++) {
    const members = byGroup.get(groupOf[i]!);
    if (members) members.push(i);
    else byGroup.set(groupOf[i]!, [i]);
  }
  return byGroup;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

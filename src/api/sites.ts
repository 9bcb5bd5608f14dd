// Every site's view of the targets, for the status list, a target's status and the page: this instance's live state
// merged with what the other instances (of other sites, or peers of this one) published in the store. The store is
// read at most once a second however many requests come; a target's merged view keeps its object while nothing it
// shows changes, so the status list's per-target cache (status-cache.ts) keeps working.
import { sitesKey, targetSites, type SiteStates, type SiteTargetState } from '../health/sites.js';
import { groupHealth } from '../health/group.js';
import type { GroupView, TargetView } from '../health/views.js';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

/** How long one read of the published states serves (ms). */
const READ_EVERY_MS = 1_000;

interface Merged {
  health: TargetView['health'];
  lastResults: TargetView['lastResults'];
  config: TargetView['config'];
  key: string;
  view: TargetView;
}

export class SiteStatus {
  private reading: Promise<void> | null = null;
  private readAt = Number.NEGATIVE_INFINITY;
  private indexed: { states: SiteStates; byTarget: Map<string, SiteTargetState[]>; several: boolean } | null = null;
  private readonly merged = new Map<string, Merged>();

  constructor(
    private readonly store: Pick<Store, 'site' | 'siteStates'>,
    private readonly now: () => number,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Reads the published states again when the last read is a second old (one read however many requests wait).
   * Never rejects: while the store cannot answer, the last states read stay (and turn stale in time).
   */
  refresh(): Promise<void> {
    const t = this.now();
    if (this.reading) return this.reading;
    if (t - this.readAt < READ_EVERY_MS && t >= this.readAt) return Promise.resolve();
    this.reading = this.store
      .siteStates()
      .then((states) => {
        this.readAt = t;
        this.index(states);
      })
      .catch((err: unknown) => {
        this.readAt = t; // not again before a second
        this.log?.warn({ err }, 'the states other instances published could not be read');
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  /**
   * The views with their sites (health.state the combined state), as of the last refresh(); the views as they are on
   * a single instance of the unnamed site.
   */
  apply(views: readonly TargetView[]): TargetView[] {
    const index = this.indexed;
    if (!index?.several) return [...views];
    return views.map((view) => this.merge(view, index));
  }

  /**
   * The groups judged on their members' combined states (a server down from one site counts as down), as of the
   * last refresh(); a group whose health does not change keeps its object.
   */
  applyGroups(groups: readonly GroupView[], target: (name: string) => TargetView | undefined): GroupView[] {
    const index = this.indexed;
    if (!index?.several) return [...groups];
    const stateOf = (name: string) => {
      const view = target(name);
      return view ? this.merge(view, index).health.state : 'unknown';
    };
    return groups.map((group) => {
      const { servers, vip } = group.config;
      const health = groupHealth(servers.map(stateOf), vip === null ? null : stateOf(vip));
      const same = health.state === group.health.state && health.serversUp === group.health.serversUp && health.serversTotal === group.health.serversTotal;
      return same ? group : { config: group.config, health };
    });
  }

  /** One view with its sites (see apply()). */
  async view(view: TargetView | undefined): Promise<TargetView | undefined> {
    if (view === undefined) return undefined;
    await this.refresh();
    return this.apply([view])[0];
  }

  /** The state this instance's own site published for `name` (by whichever instance of the site probes it). */
  ownPublished(name: string): SiteTargetState | undefined {
    return this.indexed?.byTarget.get(name)?.find((s) => s.site === this.store.site);
  }

  /** Sites the API may be asked about: this instance's and every site that published a state. */
  async sites(): Promise<string[]> {
    await this.refresh();
    return [...new Set([this.store.site, ...(this.indexed?.states.states.map((s) => s.site) ?? [])])].sort();
  }

  private merge(view: TargetView, index: NonNullable<SiteStatus['indexed']>): TargetView {
    const name = view.config.name;
    const sites = targetSites(this.store.site, view.health, index.byTarget.get(name) ?? [], index.states.at);
    const key = sitesKey(sites);
    const kept = this.merged.get(name);
    if (kept && kept.health === view.health && kept.lastResults === view.lastResults && kept.config === view.config && kept.key === key) return kept.view;
    const merged: TargetView = { ...view, health: { ...view.health, state: sites.state }, sites };
    this.merged.set(name, { health: view.health, lastResults: view.lastResults, config: view.config, key, view: merged });
    return merged;
  }

  private index(states: SiteStates): void {
    if (this.indexed?.states === states) return;
    const byTarget = new Map<string, SiteTargetState[]>();
    let several = this.store.site !== '';
    for (const state of states.states) {
      if (state.site !== this.store.site) several = true;
      let list = byTarget.get(state.target);
      if (!list) byTarget.set(state.target, (list = []));
      list.push(state);
    }
    this.indexed = { states, byTarget, several };
    if (this.merged.size > byTarget.size + 10_000) this.merged.clear();
  }
}

// Vantage points: a target probed from several sites (instances with different `site:` on one PostgreSQL) has a
// state per site, a combined state, and a finding when the sites disagree. Pure: the store reads the rows, the API
// presents what these functions decide.
import type { ErrorKind } from '../probe/types.js';
import type { TargetHealth, TargetState } from './types.js';

/** The site of an instance whose config names none (and of everything written before sites existed), as stored. */
export const DEFAULT_SITE = '';
/** How the default site is called in the config (`site: default`), the API, the page, findings and metrics. */
export const DEFAULT_SITE_LABEL = 'default';

/** A site's name as users see it. */
export const siteLabel = (site: string): string => (site === DEFAULT_SITE ? DEFAULT_SITE_LABEL : site);
/** A site as a query names it (`?site=default` is the unnamed site). */
export const siteOfLabel = (label: string): string => (label === DEFAULT_SITE_LABEL ? DEFAULT_SITE : label);

/** What the last probe from a site saw, in brief (the full result stays in that site's history). */
export interface SiteResultSummary {
  at: number;
  ok: boolean;
  errorKind: ErrorKind;
  statusCode: number | null;
  durationMs: number;
  message: string;
}

/** One target's live state as the instance probing it from one site published it. */
export interface SiteTargetState {
  site: string;
  target: string;
  state: TargetState;
  since: number | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** How often the site probes the target (ms): the row is stale after STALE_INTERVALS of them without news. */
  intervalMs: number;
  lastResult: SiteResultSummary | null;
  certificate: { sha256: string; notAfter: number } | null;
  /** When the row was last written (the database's clock), ms. */
  updatedAt: number;
}

/** The live states of every site as the store read them, and the store's clock at that read. */
export interface SiteStates {
  at: number;
  states: readonly SiteTargetState[];
}

/** Probe intervals without a new row before a site counts as stale. */
export const STALE_INTERVALS = 3;
/** Added to the bound: the writes are batched (flushed every second or so, later while the database is slow). */
export const STALE_SLACK_MS = 15_000;

/** One site's view of a target, as the API shows it. */
export interface SiteView {
  site: string;
  /** `unknown` while stale. */
  state: TargetState;
  since: number | null;
  lastResult: SiteResultSummary | null;
  /** No news from this site for longer than the bound: its instance stopped probing (or cannot write). */
  stale: boolean;
  /** When its row was last written, ms (null for this instance's own live view). */
  updatedAt: number | null;
}

export function isStale(state: Pick<SiteTargetState, 'intervalMs' | 'updatedAt'>, now: number): boolean {
  return now - state.updatedAt > STALE_INTERVALS * state.intervalMs + STALE_SLACK_MS;
}

/** A published row as a site view at `now` (the store's clock). */
export function siteViewOf(state: SiteTargetState, now: number): SiteView {
  const stale = isStale(state, now);
  return {
    site: state.site,
    state: stale ? 'unknown' : state.state,
    since: state.since,
    lastResult: state.lastResult,
    stale,
    updatedAt: state.updatedAt,
  };
}

/** The summary of a full result (what a row keeps of it). */
export function summarize(result: TargetHealth['lastResult']): SiteResultSummary | null {
  if (!result) return null;
  return {
    at: result.at,
    ok: result.ok,
    errorKind: result.errorKind,
    statusCode: result.statusCode,
    durationMs: result.durationMs,
    message: result.message,
  };
}

/**
 * The view of this instance's own site: its live health when it probes the target itself, else the row another
 * instance of the site published (whichever saw the newer result; on a tie the live one, unless the row has gone
 * stale).
 */
export function ownSiteView(site: string, health: TargetHealth, published: SiteTargetState | undefined, now: number): SiteView {
  const local: SiteView = { site, state: health.state, since: health.since, lastResult: summarize(health.lastResult), stale: false, updatedAt: null };
  if (!published) return local;
  const localAt = health.lastResult?.at ?? Number.NEGATIVE_INFINITY;
  const publishedAt = published.lastResult?.at ?? Number.NEGATIVE_INFINITY;
  if (publishedAt < localAt) return local;
  if (publishedAt === localAt) {
    // The same result: the live state stands, but a row nobody refreshes (the instance that probed it has gone, and
    // this one only shows what it published) is stale.
    const stale = isStale(published, now);
    return stale ? { ...local, state: 'unknown', stale, updatedAt: published.updatedAt } : local;
  }
  // Maintenance is shared by every site: the local overlay wins over an older published state.
  const view = siteViewOf(published, now);
  return health.state === 'maintenance' && !view.stale ? { ...view, state: 'maintenance' } : view;
}

const SEVERITY: Record<TargetState, number> = { maintenance: -1, up: 0, unknown: 1, down: 2 };

/**
 * The target's state over every site: maintenance when the target is in maintenance (a window is about the server,
 * so it holds for every site), else the worst over the sites that are not stale (down > unknown > up), unknown when
 * every site is stale.
 */
export function combinedState(sites: readonly SiteView[], inMaintenance: boolean): TargetState {
  if (inMaintenance) return 'maintenance';
  let worst: TargetState | null = null;
  for (const view of sites) {
    if (view.stale) continue;
    const state = view.state === 'maintenance' ? 'unknown' : view.state;
    if (worst === null || SEVERITY[state] > SEVERITY[worst]) worst = state;
  }
  return worst ?? 'unknown';
}

export interface SiteFinding {
  code: 'sites_disagree' | 'site_stale';
  severity: 'critical' | 'warning';
  /** The sites it is about. */
  sites: string[];
  message: string;
  fix: string;
}

const quoted = (sites: readonly string[]) => sites.map((s) => `\`${siteLabel(s)}\``).join(', ');

/**
 * What the sites' disagreement tells an admin: a target up from some sites and down from others has a broken path
 * from the latter (the server itself answers); a stale site has stopped reporting. Empty when the sites agree.
 */
export function siteFindings(sites: readonly SiteView[]): SiteFinding[] {
  const findings: SiteFinding[] = [];
  const fresh = sites.filter((s) => !s.stale);
  const up = fresh.filter((s) => s.state === 'up').map((s) => s.site);
  const down = fresh.filter((s) => s.state === 'down').map((s) => s.site);
  if (up.length > 0 && down.length > 0) {
    findings.push({
      code: 'sites_disagree',
      severity: 'critical',
      sites: down,
      message: `answers from ${quoted(up)} but not from ${quoted(down)}`,
      fix:
        `the server answers, the path from ${quoted(down)} does not: check what only that path crosses ` +
        '(the public listener or load balancer VIP, NAT, firewall rules, public DNS)',
    });
  }
  const stale = sites.filter((s) => s.stale);
  if (stale.length > 0) {
    const ages = stale.map((s) => (s.updatedAt === null ? '' : ` (last written ${new Date(s.updatedAt).toISOString()})`));
    findings.push({
      code: 'site_stale',
      severity: 'warning',
      sites: stale.map((s) => s.site),
      message: `no recent results from ${stale.map((s, i) => `\`${siteLabel(s.site)}\`${ages[i]}`).join(', ')}: its state is unknown`,
      fix: 'check that the sstpwatch instances of that site are running and can write to the database',
    });
  }
  return findings;
}

/** A target's state at every site that probes it, and what their disagreement tells. */
export interface TargetSites {
  /** The combined state (what `state` shows when there are several sites). */
  state: TargetState;
  /** Sorted by site name; this instance's own site included. */
  sites: SiteView[];
  findings: SiteFinding[];
}

/**
 * A target's sites: this instance's own (live, or a peer's row when the peer probed later) and every other site's
 * published row, at `now` (the store's clock).
 */
export function targetSites(ownSite: string, health: TargetHealth, published: readonly SiteTargetState[], now: number): TargetSites {
  const own = ownSiteView(
    ownSite,
    health,
    published.find((s) => s.site === ownSite),
    now,
  );
  const sites = [own, ...published.filter((s) => s.site !== ownSite).map((s) => siteViewOf(s, now))].sort((a, b) =>
    a.site < b.site ? -1 : a.site > b.site ? 1 : 0,
  );
  return { state: combinedState(sites, health.maintenance !== null), sites, findings: siteFindings(sites) };
}

/** A short string that changes whenever anything shown of a target's sites changes (for caches). */
export function sitesKey(sites: TargetSites): string {
  return sites.sites.map((s) => `${s.site}|${s.state}|${s.since}|${s.lastResult?.at}|${s.stale}`).join(';');
}

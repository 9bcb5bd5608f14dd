// Pure: which groups the status page lists in full, which it folds into one line, and how it splits into pages,
// so that one request's work and body stay bounded at any fleet size the config accepts.
import type { GroupView } from '../../health/views.js';

export interface PageLimits {
  /** Target rows (the expensive part: history reads and 3 to 7 KB of HTML each) on one page. */
  targetRows: number;
  /** Groups (listed or folded) on one page. */
  groups: number;
}

export const PAGE_LIMITS: PageLimits = { targetRows: 200, groups: 200 };

export interface PlannedGroup {
  group: GroupView;
  /** The targets listed with full detail; empty for a folded (healthy) group. */
  listed: string[];
  /** Targets of the group not listed because one group alone is larger than a page. */
  omitted: number;
  folded: boolean;
}

export interface PagePlan {
  /** 1-based; a page past the end is shown as the last one. */
  page: number;
  pages: number;
  groups: PlannedGroup[];
}

export function targetsOf({ config }: GroupView): string[] {
  return [...config.servers, ...(config.vip ? [config.vip] : [])];
}

/** OK with every server up: nothing to look at, so it may be folded into one line on a large fleet. */
export function isHealthy({ health }: GroupView): boolean {
  return health.state === 'ok' && health.serversUp === health.serversTotal;
}

const TROUBLE_ORDER = { down: 0, degraded: 1, unknown: 2, ok: 3 } as const;

/**
 * Groups with trouble first (down, degraded, unknown, then OK with a server not up), healthy ones last, each
 * in config order. A fleet that fits on one page is shown as it is configured, every target listed; a larger
 * one folds its healthy groups and is cut into pages of at most `limits.groups` groups and `limits.targetRows`
 * listed targets.
 */
export function planPage(groups: GroupView[], page: number, limits: PageLimits = PAGE_LIMITS): PagePlan {
  const total = groups.reduce((n, g) => n + targetsOf(g).length, 0);
  if (total <= limits.targetRows && groups.length <= limits.groups) {
    return { page: 1, pages: 1, groups: groups.map((group) => ({ group, listed: targetsOf(group), omitted: 0, folded: false })) };
  }
  const rank = (g: GroupView) => (isHealthy(g) ? 4 : TROUBLE_ORDER[g.health.state]);
  const ordered = groups.map((g, i) => ({ g, i })).sort((a, b) => rank(a.g) - rank(b.g) || a.i - b.i);
  const pages: PlannedGroup[][] = [[]];
  let rows = 0;
  for (const { g } of ordered) {
    const folded = isHealthy(g);
    const names = folded ? [] : targetsOf(g);
    const listed = names.slice(0, limits.targetRows);
    let current = pages[pages.length - 1]!;
    if (current.length >= limits.groups || (current.length > 0 && rows + listed.length > limits.targetRows)) {
      current = [];
      pages.push(current);
      rows = 0;
    }
    current.push({ group: g, listed, omitted: names.length - listed.length, folded });
    rows += listed.length;
  }
  const n = Math.min(Math.max(1, Math.floor(page)), pages.length);
  return { page: n, pages: pages.length, groups: pages[n - 1]! };
}

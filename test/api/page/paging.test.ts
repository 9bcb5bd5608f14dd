import { describe, expect, it } from 'vitest';
import type { GroupView } from '../../../src/health/views.js';
import { planPage, type PageLimits } from '../../../src/api/page/paging.js';
import type { GroupState } from '../../../src/health/group.js';

/** A group of `size` servers, `up` of them up. */
function group(name: string, state: GroupState, size = 2, up = state === 'ok' ? size : 0): GroupView {
  const servers = Array.from({ length: size }, (_, i) => `${name}-${i}`);
  return { config: { name, hostname: `${name}.example.test`, servers, vip: null }, health: { state, serversUp: up, serversTotal: size } };
}

const SMALL: PageLimits = { targetRows: 4, groups: 3 };
const summary = (groups: GroupView[], page: number, limits = SMALL) => {
  const plan = planPage(groups, page, limits);
  return { page: plan.page, pages: plan.pages, groups: plan.groups.map((g) => `${g.group.config.name}${g.folded ? ' (folded)' : `:${g.listed.length}${g.omitted ? `+${g.omitted}` : ''}`}`) };
};

describe('planPage', () => {
  it.each([
    ['a fleet that fits on one page is shown in config order, every target listed', [group('a', 'ok'), group('b', 'down')], 1, { page: 1, pages: 1, groups: ['a:2', 'b:2'] }],
    ['a larger fleet lists down, degraded, unknown, then OK-with-a-server-out, and folds healthy groups last', [group('h1', 'ok'), group('u', 'unknown'), group('g', 'degraded', 2, 1), group('d', 'down'), group('o', 'ok', 2, 1)], 1, { page: 1, pages: 2, groups: ['d:2', 'g:2'] }],
    ['its second page', [group('h1', 'ok'), group('u', 'unknown'), group('g', 'degraded', 2, 1), group('d', 'down'), group('o', 'ok', 2, 1)], 2, { page: 2, pages: 2, groups: ['u:2', 'o:2', 'h1 (folded)'] }],
    ['folded groups count against the groups per page', [group('d', 'down', 1), ...['h1', 'h2', 'h3', 'h4'].map((n) => group(n, 'ok'))], 2, { page: 2, pages: 2, groups: ['h3 (folded)', 'h4 (folded)'] }],
    ['a page past the end is the last page', [group('d', 'down', 1), ...['h1', 'h2', 'h3', 'h4'].map((n) => group(n, 'ok'))], 9, { page: 2, pages: 2, groups: ['h3 (folded)', 'h4 (folded)'] }],
    ['one group larger than a page is listed in part, the rest counted', [group('big', 'down', 7), group('h', 'ok', 3)], 1, { page: 1, pages: 1, groups: ['big:4+3', 'h (folded)'] }],
  ] as const)('%s', (_what, groups, page, expected) => {
    expect(summary([...groups], page)).toEqual(expected);
  });
});

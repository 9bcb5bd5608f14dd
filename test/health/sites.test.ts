import { describe, expect, it } from 'vitest';
import {
  combinedState,
  isStale,
  ownSiteView,
  siteFindings,
  siteLabel,
  siteOfLabel,
  siteViewOf,
  type SiteTargetState,
  type SiteView,
} from '../../src/health/sites.js';
import type { TargetHealth, TargetState } from '../../src/health/types.js';
import { statusResult, targetHealth } from '../fixtures/domain.js';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');

const view = (site: string, state: TargetState, stale = false): SiteView => ({ site, state, since: null, lastResult: null, stale, updatedAt: NOW - (stale ? 200_000 : 1_000) });

const row = (over: Partial<SiteTargetState> = {}): SiteTargetState => ({
  site: 'internet',
  target: 'rras-1',
  state: 'down',
  since: NOW - 60_000,
  consecutiveFailures: 3,
  consecutiveSuccesses: 0,
  intervalMs: 30_000,
  lastResult: { at: NOW - 2_000, ok: false, errorKind: 'timeout', statusCode: null, durationMs: 5000, message: 'no answer within 5s' },
  certificate: null,
  updatedAt: NOW - 1_000,
  ...over,
});

describe('the combined state of a target over its sites', () => {
  it.each<[string, SiteView[], boolean, TargetState]>([
    ['up everywhere is up', [view('lan', 'up'), view('internet', 'up')], false, 'up'],
    ['down from one site is down', [view('lan', 'up'), view('internet', 'down')], false, 'down'],
    ['no verdict yet from one site is unknown', [view('lan', 'up'), view('internet', 'unknown')], false, 'unknown'],
    ['down beats unknown', [view('lan', 'unknown'), view('internet', 'down')], false, 'down'],
    ['a stale site does not count', [view('lan', 'up'), view('internet', 'down', true)], false, 'up'],
    ['every site stale is unknown', [view('lan', 'up', true), view('internet', 'down', true)], false, 'unknown'],
    ['no site at all is unknown', [], false, 'unknown'],
    ['maintenance holds for every site', [view('lan', 'up'), view('internet', 'down')], true, 'maintenance'],
    ['a site still in maintenance while the target left it counts as unknown', [view('lan', 'up'), view('internet', 'maintenance')], false, 'unknown'],
  ])('%s', (_, sites, inMaintenance, expected) => {
    expect(combinedState(sites, inMaintenance)).toBe(expected);
  });
});

describe('findings about sites', () => {
  it('says from where the target answers and from where not, and what to check on the broken path', () => {
    const [finding, ...rest] = siteFindings([view('lan', 'up'), view('internet', 'down')]);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'sites_disagree', severity: 'critical', sites: ['internet'], message: 'answers from `lan` but not from `internet`' });
    expect(finding!.fix).toMatch(/public listener.*NAT, firewall rules, public DNS/);
  });

  it.each<[string, SiteView[], string[]]>([
    ['sites that agree say nothing', [view('lan', 'up'), view('internet', 'up')], []],
    ['down everywhere is no disagreement', [view('lan', 'down'), view('internet', 'down')], []],
    ['unknown from one site is no disagreement', [view('lan', 'up'), view('internet', 'unknown')], []],
    ['a stale site is told, and its old state does not disagree', [view('lan', 'up'), view('internet', 'down', true)], ['site_stale']],
    ['several sites down are named together', [view('lan', 'up'), view('internet', 'down'), view('branch', 'down')], ['sites_disagree']],
  ])('%s', (_, sites, codes) => {
    expect(siteFindings(sites).map((f) => f.code)).toEqual(codes);
  });

  it('names the sites down together and the unnamed site as `default`', () => {
    expect(siteFindings([view('', 'up'), view('internet', 'down'), view('branch', 'down')])[0]!.message).toBe(
      'answers from `default` but not from `internet`, `branch`',
    );
  });

  it('tells how long a stale site has been silent', () => {
    expect(siteFindings([view('lan', 'up'), view('internet', 'down', true)])[0]!.message).toBe(
      'no recent results from `internet` (last written 2026-11-29T11:56:40.000Z): its state is unknown',
    );
  });
});

describe('a published row as a site view', () => {
  it.each<[string, Partial<SiteTargetState>, boolean]>([
    ['fresh within three intervals and the slack', { updatedAt: NOW - 3 * 30_000 - 15_000 }, false],
    ['stale beyond them', { updatedAt: NOW - 3 * 30_000 - 15_001 }, true],
    ['a long interval waits longer', { intervalMs: 300_000, updatedAt: NOW - 600_000 }, false],
  ])('%s', (_, over, stale) => {
    expect(isStale(row(over), NOW)).toBe(stale);
    expect(siteViewOf(row(over), NOW)).toMatchObject({ stale, state: stale ? 'unknown' : 'down' });
  });
});

describe("this instance's own site", () => {
  const health = (over: Partial<TargetHealth> = {}): TargetHealth =>
    targetHealth('up', { since: NOW - 600_000, consecutiveSuccesses: 5, lastResult: statusResult(NOW - 10_000, 401), ...over });

  it('is the live health when this instance probed last', () => {
    expect(ownSiteView('lan', health(), row({ site: 'lan', lastResult: { ...row().lastResult!, at: NOW - 20_000 } }), NOW)).toMatchObject({
      site: 'lan',
      state: 'up',
      stale: false,
      updatedAt: null,
    });
  });

  it('is the published row when a peer of the site probed later (it owns the target now)', () => {
    expect(ownSiteView('lan', health(), row({ site: 'lan' }), NOW)).toMatchObject({ state: 'down', updatedAt: NOW - 1_000 });
  });

  it('keeps the maintenance every site shares over a peer\'s published state', () => {
    expect(ownSiteView('lan', health({ state: 'maintenance' }), row({ site: 'lan' }), NOW).state).toBe('maintenance');
  });

  it('is the live health when the row holds the same result, or unknown and stale once nobody refreshes that row', () => {
    const same = (updatedAt: number) => row({ site: 'lan', state: 'up', lastResult: { ...row().lastResult!, at: NOW - 10_000 }, updatedAt });
    expect(ownSiteView('lan', health(), same(NOW - 1_000), NOW)).toMatchObject({ state: 'up', stale: false, updatedAt: null });
    expect(ownSiteView('lan', health(), same(NOW - 200_000), NOW)).toMatchObject({ state: 'unknown', stale: true, updatedAt: NOW - 200_000 });
  });

  it('is the live health when nothing is published', () => {
    expect(ownSiteView('lan', health({ lastResult: null, state: 'unknown' }), undefined, NOW).state).toBe('unknown');
  });
});

describe('site labels', () => {
  it.each([
    ['', 'default'],
    ['lan', 'lan'],
  ])('site %j shows as %j and back', (site, label) => {
    expect(siteLabel(site)).toBe(label);
    expect(siteOfLabel(label)).toBe(site);
  });
});

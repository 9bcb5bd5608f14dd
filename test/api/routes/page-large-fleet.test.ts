import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/api/app.js';
import { PAGE_LIMITS } from '../../../src/api/page/paging.js';
import { groupHealth } from '../../../src/health/group.js';
import type { GroupView, TargetView } from '../../../src/health/views.js';
import { buildTestApp, fixedStatus } from '../../fixtures/app.js';
import { probeResult, probeSettings, targetConfig, targetHealth, targetView } from '../../fixtures/domain.js';

const NOW = Date.UTC(2026, 10, 26, 21, 0, 30);
const GROUPS = 2000;
const PER_GROUP = 10;
/** Groups 1500 and 1999 (late in config order) each have one server down. */
const TROUBLED = new Set([1500, 1999]);

function fleet(): { groups: GroupView[]; targets: Map<string, TargetView> } {
  const groups: GroupView[] = [];
  const targets = new Map<string, TargetView>();
  for (let g = 0; g < GROUPS; g++) {
    const servers: string[] = [];
    for (let s = 0; s < PER_GROUP; s++) {
      const name = `rras-${g}-${s}`;
      const down = TROUBLED.has(g) && s === 0;
      const last = down ? probeResult(NOW - 5000, false) : probeResult(NOW - 5000, true);
      const health = targetHealth(down ? 'down' : 'up', { since: NOW - 60_000, consecutiveFailures: down ? 3 : 0, consecutiveSuccesses: down ? 0 : 3, lastResult: last });
      targets.set(name, targetView(targetConfig(name, probeSettings(), { group: `vpn-${g}` }), health, { head: last }));
      servers.push(name);
    }
    const states = servers.map((n) => targets.get(n)!.health.state);
    groups.push({ config: { name: `vpn-${g}`, hostname: `vpn-${g}.example.test`, servers, vip: null }, health: groupHealth(states, null) });
  }
  return { groups, targets };
}

describe('GET / with 20,000 targets in 2,000 groups', () => {
  let app: App;

  beforeAll(async () => {
    const { groups, targets } = fleet();
    app = await buildTestApp({ status: fixedStatus([...targets.values()], groups), now: () => NOW, version: '9.9.9' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers with a bounded page that lists the down targets first and folds the healthy groups', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBeLessThan(1_000_000);
    expect(res.body).toContain('<strong>2 of 20000 targets down:</strong> rras-1500-0, rras-1999-0.');
    expect(res.body).toContain('<tr data-target="rras-1500-0" data-state="down">');
    expect(res.body).toContain('<tr data-target="rras-1999-0" data-state="down">');
    expect(res.body).toContain('<tr data-group="vpn-0">');
    expect(res.body).not.toContain('data-target="rras-0-0"');
    const rows = res.body.match(/<tr data-(?:target|group)=/g) ?? [];
    expect(rows.length).toBeLessThanOrEqual(PAGE_LIMITS.groups + PAGE_LIMITS.targetRows);
    expect(res.body).toContain('Page 1 of 10');
    expect(res.body).toContain('<a href="/?page=2">next</a>');
  });

  it('shows the later groups on ?page=N, and a page past the end as the last one', async () => {
    const second = (await app.inject({ method: 'GET', url: '/?page=2&refresh=60' })).body;
    expect(second).toContain('Page 2 of 10');
    expect(second).not.toContain('data-target="rras-1500-0"');
    expect(second).toContain('<a href="/?page=1&amp;refresh=60">first</a>');
    expect((await app.inject({ method: 'GET', url: '/?page=99' })).body).toContain('Page 10 of 10');
    expect((await app.inject({ method: 'GET', url: '/?page=0' })).statusCode).toBe(400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/api/app.js';
import { PAGE_CSP } from '../../../src/api/routes/page.js';
import { builtInProbeSettings } from '../../../src/config/defaults.js';
import type { GroupView } from '../../../src/health/views.js';
import type { MemoryStore } from '../../../src/store/memory.js';
import { buildTestApp, fixedStatus, testStore } from '../../fixtures/app.js';
import { probeResult, targetConfig, targetHealth, targetView } from '../../fixtures/domain.js';

const MIN = 60_000;
/** Half past a minute, so that "the minute holding now" is unambiguous. */
const NOW = Date.UTC(2026, 10, 26, 21, 0, 30);

const result = (at: number, ok: boolean) => probeResult(at, ok, { kind: 'connect_refused', message: 'connect ECONNREFUSED 10.0.0.11:443' }, 12);

describe('GET / (status page route)', () => {
  let store: MemoryStore;
  let app: App;

  beforeAll(async () => {
    store = testStore({ now: () => NOW });
    await store.syncTargets([{ name: 'rras-1', group: 'vpn', role: 'server', url: 'https://10.0.0.11' }]);
    store.record('rras-1', 'head', result(NOW - 30 * MIN, true));
    store.record('rras-1', 'head', result(NOW - 10 * MIN, false));
    await store.flush();
    // Roll those minutes up, then add a result of the current minute (not rolled up yet: read raw).
    while (await store.housekeepingStep(NOW) !== null);
    expect((await store.rollups('rras-1', '1m', { limit: 10 })).items.map((r) => r.at)).toEqual([NOW - 10 * MIN - 30_000, NOW - 30 * MIN - 30_000]);
    store.record('rras-1', 'head', result(NOW - 20_000, true));
    await store.flush();

    const view = targetView(
      targetConfig('rras-1', builtInProbeSettings(), { group: 'vpn', url: 'https://10.0.0.11', hostname: 'vpn.example.com' }),
      targetHealth('up', { since: NOW - 20_000, consecutiveSuccesses: 1, lastResult: result(NOW - 20_000, true) }),
    );
    const group: GroupView = { config: { name: 'vpn', hostname: 'vpn.example.com', servers: ['rras-1'], vip: null }, health: { state: 'ok', serversUp: 1, serversTotal: 1 } };
    app = await buildTestApp({ status: fixedStatus([view], [group]), store, now: () => NOW, version: '9.9.9' });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('serves HTML with a strict CSP, nosniff, a referrer policy and no caching', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(PAGE_CSP).not.toMatch(/unsafe|\*|https?:/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<tr data-target="rras-1" data-state="up">');
    expect(res.body).toContain('by sstpwatch 9.9.9');
  });

  it('draws the strip from the minute rollups and, for the current minute, from raw results', async () => {
    const body = (await app.inject({ method: 'GET', url: '/' })).body;
    const bars = [...body.matchAll(/<rect class="bar (ok|partial|failed)" x="(\d+)"/g)].map((m) => [m[1], Number(m[2]) / 4]);
    // 60 minutes, oldest first: now is index 59.
    expect(bars).toEqual([
      ['ok', 59 - 30],
      ['failed', 59 - 10],
      ['ok', 59],
    ]);
    expect(body).toContain('3 probes, 1 failed');
    expect(body).toContain('<dt>24 h</dt><dd>66.66 %</dd>');
  });

  it('takes the refresh period from ?refresh and refuses a bad one with 400', async () => {
    expect((await app.inject({ method: 'GET', url: '/?refresh=300' })).body).toContain('<meta http-equiv="refresh" content="300">');
    for (const bad of ['1', '3601', 'soon']) {
      const res = await app.inject({ method: 'GET', url: `/?refresh=${bad}` });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('bad_request');
    }
  });

  it('serves its stylesheet and script itself, with the same headers', async () => {
    const css = await app.inject({ method: 'GET', url: '/page/status.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['x-content-type-options']).toBe('nosniff');
    expect(css.body).toContain('.badge');
    const js = await app.inject({ method: 'GET', url: '/page/status.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain("getElementById('content')");
    expect(js.body).not.toMatch(/innerHTML|eval\(|new Function/);
  });

  it('answers HEAD / without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });
});

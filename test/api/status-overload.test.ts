import { Ajv } from 'ajv';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/app.js';
import type { TargetView } from '../../src/health/views.js';
import { buildTestApp, fixedStatus } from '../fixtures/app.js';
import { probeSettings, targetConfig, targetHealth, targetView } from '../fixtures/domain.js';

const NOW = Date.UTC(2026, 10, 30, 15, 0, 0);
const WAIT_MS = 100;

/**
 * Targets whose every read of their health costs 50 µs of CPU (a look reads it several times per target): a look at
 * 3,000 of them takes the event loop about a second, as a look at a large fleet does on a machine whose probes
 * leave it only a slice now and then.
 */
function costlyTargets(count: number): TargetView[] {
  return Array.from({ length: count }, (_, i) => {
    const view = targetView(targetConfig(`rras-${i}`, probeSettings()), targetHealth('up'));
    const health = view.health;
    Object.defineProperty(view, 'health', {
      get() {
        const until = performance.now() + 0.05;
        while (performance.now() < until);
        return health;
      },
    });
    return view;
  });
}

describe('a status list request on a starved service', () => {
  let app: App | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is answered 503 overloaded with Retry-After once it waited statusWaitMs, and a later request gets the list the look went on to build', async () => {
    const logged: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    app = await buildTestApp({ status: fixedStatus(costlyTargets(3_000)), now: () => NOW, statusWaitMs: WAIT_MS, log });

    const started = performance.now();
    const first = await app.inject({ method: 'GET', url: '/api/v1/status' });
    const waited = performance.now() - started;
    expect(first.statusCode).toBe(503);
    expect(first.headers['retry-after']).toBe('5');
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.json()).toEqual({ error: { code: 'overloaded', message: expect.stringMatching(/not ready within 0\.1 s: the service is overloaded/) } });
    expect(waited).toBeGreaterThanOrEqual(WAIT_MS - 5);
    // The refusal is the one the OpenAPI document declares for this route.
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    const declared = new Ajv({ strict: false }).addSchema(doc, 'openapi.json').getSchema('openapi.json#/paths/~1api~1v1~1status/get/responses/503/content/application~1json/schema');
    expect(declared, 'GET /api/v1/status declares a 503').toBeDefined();
    expect(declared!(first.json()), JSON.stringify(declared!.errors)).toBe(true);

    // Requests meanwhile wait for the same look (each at most WAIT_MS); once it is built it answers them.
    const answers: number[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/status' });
      answers.push(res.statusCode);
      if (res.statusCode === 200) {
        expect(res.json()).toMatchObject({ summary: { targets: 3_000, up: 3_000 } });
        break;
      }
      expect(res.json()).toMatchObject({ error: { code: 'overloaded' } });
    }
    expect(answers.at(-1)).toBe(200);
    // The first request was answered long before the look it waited for was done.
    expect(waited).toBeLessThan((performance.now() - started) / 2);
    expect(new Set(answers.slice(0, -1))).toEqual(new Set(answers.length > 1 ? [503] : []));
    // Each refusal is a warning about the machine, not an error of the service.
    const refusals = logged.filter((line) => line.msg === 'request refused: overloaded');
    expect(refusals).toHaveLength(answers.length);
    expect(refusals.every((line) => line.level === 40)).toBe(true);
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('is answered as soon as the list is built when that takes less than statusWaitMs', async () => {
    app = await buildTestApp({ status: fixedStatus(costlyTargets(5)), now: () => NOW, statusWaitMs: 5_000 });
    const res = await app.inject({ method: 'GET', url: '/api/v1/status' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['retry-after']).toBeUndefined();
  });
});

// Hostile and broken requests against every route, as sstpwatch wires it (createService on a temp database,
// app.inject, no port): never a 5xx, never a stack trace, every error in the contract shape. Plus the body size
// limit (413) and the rate limits (429) on write and probe-now routes.
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, startInProcess, TOKEN, type InProcess } from '../fixtures/in-process.js';

const NAMES = ['rras-a', 'rras-b', 'rras-c'];
const YAML = configYaml(
  NAMES.map((name) => ({ name })),
  'probe_endpoint: { enabled: true, allow: [127.0.0.0/8, vpn.example.test] }',
);
const RUNS = 150;

/** The contract: below 500, no stack trace or source path, and an error body of exactly {error: {code, message}}. */
function expectContract(res: LightMyRequestResponse, what: string): void {
  const context = `${what} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, context).toBeLessThan(500);
  expect(res.body, context).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/src\/|\/work\//);
  if (res.statusCode < 400 || what.startsWith('HEAD ')) return; // HEAD: no body to check
  expect(res.headers['content-type'], context).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown; issues?: unknown } };
  expect(typeof body.error?.code, context).toBe('string');
  expect(body.error!.code, context).not.toBe('');
  expect(typeof body.error?.message, context).toBe('string');
  const keys = Object.keys(body.error!).filter((k) => k !== 'issues');
  expect(keys.sort(), context).toEqual(['code', 'message']);
}

// ---- generators

const nasty = fc.constantFrom(
  '', ' ', '0', '-1', '1e309', 'NaN', 'Infinity', '0x10', '9007199254740993', '-0', '[]', '{}', 'null', 'true',
  '2026-13-45T00:00:00Z', '2026-11-26T21:00:00.000Z', '1999-01-01', '%', '%00', '\u0000', '\uffff', '𝔘𝔫𝔦', '../..',
  '<script>alert(1)</script>', "' OR 1=1 --", 'a'.repeat(5000), '1h', '24h', '7d', '30d', 'raw', '1m', '1h', 'eyJ9', 'AAAA',
);
const anyText = fc.oneof(nasty, fc.string(), fc.string({ unit: 'binary' }), fc.integer().map(String), fc.double().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
const name = fc.oneof(fc.constantFrom(...NAMES), anyText);

/** A query string with known and unknown keys, some repeated, values hostile. */
function query(keys: string[]): fc.Arbitrary<string> {
  const pair = fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), anyText);
  return fc.array(pair, { maxLength: 6 }).map((pairs) =>
    pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
  );
}
/** Sometimes not percent-encoded at all: raw bytes, stray % and the like. */
const rawQuery = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `?${s.replace(/[#\s]/g, '')}`);

const contentType = fc.constantFrom(
  'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=utf-16', undefined,
);
const until = fc.oneof(anyText, fc.integer(), fc.double(), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.getTime()), fc.date({ min: new Date(Date.now() + 60_000), max: new Date(Date.now() + 400 * 86_400_000), noInvalidDate: true }).map((d) => d.toISOString()));
const maintenanceBody = fc.record({ until, reason: fc.oneof(anyText, fc.integer(), fc.constant(null)), extra: fc.jsonValue() }, { requiredKeys: [] });
const body = fc.oneof(
  maintenanceBody.map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '{', '{"until":', '[1,2', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'null'),
);
const authHeader = fc.constantFrom(`Bearer ${TOKEN}`, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`, undefined, 'Bearer', 'Bearer wrong', 'Basic Og==', `bearer  ${TOKEN}`, 'Bearer \u00ff');

describe('bad requests never get a 5xx or a stack trace, and every error is {"error":{"code","message"}}', () => {
  let run: InProcess;
  beforeAll(async () => {
    run = await startInProcess(YAML, { rateLimits: { writePerMinute: 1e6, probeNowPerMinute: 1e6, reloadPerMinute: 1e6 } });
    await run.service.start(); // running, so /readyz is 200 and probes flow while the requests come
  });
  afterAll(async () => {
    await run?.close();
  });

  const inject = async (opts: { method?: string; url: string; body?: string; headers?: Record<string, string | undefined> }) => {
    const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const res = await run.service.app.inject({ method: (opts.method ?? 'GET') as 'GET', url: opts.url, payload: opts.body, headers });
    expectContract(res, `${opts.method ?? 'GET'} ${opts.url.slice(0, 200)}`);
    return res;
  };
  const target = (n: string) => `/api/v1/targets/${encodeURIComponent(n)}`;

  it('GET /api/v1/status with any query', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(query(['x']), rawQuery), async (q) => void (await inject({ url: `/api/v1/status${q}` }))), { numRuns: RUNS });
  });

  it('GET /api/v1/targets/:name with any name', async () => {
    await fc.assert(fc.asyncProperty(name, query(['x']), async (n, q) => void (await inject({ url: `${target(n)}${q}` }))), { numRuns: RUNS });
  });

  it('GET /api/v1/targets/:name/history with any from, to, limit, cursor, resolution', async () => {
    const q = fc.oneof(query(['from', 'to', 'limit', 'cursor', 'resolution']), rawQuery);
    await fc.assert(fc.asyncProperty(name, q, async (n, qs) => void (await inject({ url: `${target(n)}/history${qs}` }))), { numRuns: RUNS * 2 });
  });

  it('GET /api/v1/targets/:name/incidents with any from, to, limit', async () => {
    await fc.assert(fc.asyncProperty(name, query(['from', 'to', 'limit']), async (n, q) => void (await inject({ url: `${target(n)}/incidents${q}` }))), { numRuns: RUNS });
  });

  it('GET /api/v1/targets/:name/uptime with any window', async () => {
    await fc.assert(fc.asyncProperty(name, query(['window']), async (n, q) => void (await inject({ url: `${target(n)}/uptime${q}` }))), { numRuns: RUNS });
  });

  it('PUT and DELETE /api/v1/targets/:name/maintenance with any body, content type and token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('PUT', 'DELETE'), name, body, contentType, authHeader, async (method, n, b, type, authorization) => {
        await inject({ method, url: `${target(n)}/maintenance`, body: b, headers: { 'content-type': type, authorization } });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('POST /api/v1/targets/:name/probe with any name, body and token', async () => {
    await fc.assert(
      fc.asyncProperty(name, fc.option(body), contentType, authHeader, async (n, b, type, authorization) => {
        await inject({ method: 'POST', url: `${target(n)}/probe`, body: b ?? undefined, headers: { 'content-type': b === null ? undefined : type, authorization } });
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /probe with any target, hostname, offload and scrape-timeout header', async () => {
    const targetValue = fc.oneof(anyText, fc.webUrl(), fc.constantFrom('https://127.0.0.1', 'http://127.0.0.1:80', 'https://[::1]:443', 'https://vpn.example.test', 'https://10.0.0.1', 'ftp://127.0.0.1', 'https://user:pw@127.0.0.1', 'https://127.0.0.1/x?y'));
    const q = fc.tuple(targetValue, fc.option(anyText), fc.option(anyText)).map(([t, h, o]) => {
      const params = new URLSearchParams({ target: t });
      if (h !== null) params.set('hostname', h);
      if (o !== null) params.set('offload', o);
      return `?${params}`;
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(q, rawQuery), fc.option(anyText), async (qs, timeout) => {
        await inject({ url: `/probe${qs}`, headers: { 'x-prometheus-scrape-timeout-seconds': timeout ?? undefined } });
      }),
      { numRuns: 120 },
    );
  });

  it('POST /-/reload with any body and token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(body), contentType, authHeader, async (b, type, authorization) => {
        await inject({ method: 'POST', url: '/-/reload', body: b ?? undefined, headers: { 'content-type': b === null ? undefined : type, authorization } });
      }),
      { numRuns: 60 },
    );
  });

  it('GET /?refresh= with any value', async () => {
    await fc.assert(fc.asyncProperty(query(['refresh']), async (q) => void (await inject({ url: `/${q}` }))), { numRuns: 80 });
  });

  it('any method on any path', async () => {
    const path = fc.oneof(
      fc.constantFrom('/', '/metrics', '/healthz', '/readyz', '/docs', '/docs/json', '/probe', '/-/reload', '/api/v1/status', '/api/v1/targets/rras-a', '/api/v1/targets/rras-a/history', '/page/status.css'),
      fc.string({ maxLength: 40 }).map((s) => `/${encodeURI(s)}`),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    );
    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
    await fc.assert(
      fc.asyncProperty(method, path, fc.option(body), async (m, p, b) => {
        await inject({ method: m, url: p, body: m === 'GET' || m === 'HEAD' ? undefined : (b ?? undefined), headers: { 'content-type': 'application/json' } });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('request size and rate limits', () => {
  let run: InProcess;
  beforeAll(async () => {
    run = await startInProcess(YAML);
  });
  afterAll(async () => {
    await run?.close();
  });
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  it('refuses a body over 64 KiB with 413 in the contract shape, before looking at the token', async () => {
    const big = JSON.stringify({ until: '2099-01-01T00:00:00Z', reason: 'x'.repeat(70 * 1024) });
    for (const [method, url, headers] of [
      ['PUT', '/api/v1/targets/rras-a/maintenance', auth],
      ['POST', '/-/reload', auth],
      ['PUT', '/api/v1/targets/rras-a/maintenance', { 'content-type': 'application/json' }],
    ] as const) {
      const res = await run.service.app.inject({ method, url, payload: big, headers });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
    }
    const fits = JSON.stringify({ until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'x'.repeat(400) });
    expect((await run.service.app.inject({ method: 'PUT', url: '/api/v1/targets/rras-a/maintenance', payload: fits, headers: auth })).statusCode).toBe(200);
  });

  it.each([
    { route: 'POST /api/v1/targets/:name/probe', method: 'POST', url: '/api/v1/targets/rras-b/probe', limit: 30, client: '127.0.1.1' },
    { route: 'DELETE /api/v1/targets/:name/maintenance', method: 'DELETE', url: '/api/v1/targets/rras-b/maintenance', limit: 60, client: '127.0.1.2' },
    { route: 'POST /-/reload', method: 'POST', url: '/-/reload', limit: 10, client: '127.0.1.3' },
  ])('limits $route to $limit a minute per client, wrong tokens included; then 429 in the contract shape', async ({ method, url, limit, client }) => {
    const send = (authorization: string, remoteAddress = client) =>
      run.service.app.inject({ method: method as 'POST', url, headers: { authorization }, remoteAddress });
    const codes: number[] = [];
    for (let i = 0; i < limit; i++) codes.push((await send(i % 2 ? 'Bearer wrong-token-wrong-token' : `Bearer ${TOKEN}`)).statusCode);
    expect(codes.every((c) => c === 200 || c === 401)).toBe(true);
    const limited = await send(`Bearer ${TOKEN}`);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    // Per client: another address still gets through.
    expect((await send(`Bearer ${TOKEN}`, '127.0.2.9')).statusCode).toBe(200);
  });
});

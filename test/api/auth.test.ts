// Who may do what: the bearer token on every write route, auth.protect_reads, security headers on every response,
// HTTPS with sstpwatch's own `tls`, and the token never in the log.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../src/api/routes/page.js';
import { testCertificates, VPN_HOSTNAME } from '../fixtures/certs.js';
import { configYaml, startInProcess, TOKEN, type InProcess } from '../fixtures/in-process.js';

const WRONG = 'not-the-token-0123456789abcdef';
const basic = (password: string, user = 'admin') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const future = () => new Date(Date.now() + 3_600_000).toISOString();

const WRITES = [
  { method: 'PUT', url: '/api/v1/targets/rras-a/maintenance', body: () => ({ until: future(), reason: 'patching' }) },
  { method: 'DELETE', url: '/api/v1/targets/rras-a/maintenance' },
  { method: 'POST', url: '/api/v1/targets/rras-a/probe' },
  { method: 'POST', url: '/-/reload' },
] as const;

const READS = [
  '/api/v1/status',
  '/api/v1/targets/rras-a',
  '/api/v1/targets/rras-a/history?limit=5',
  '/api/v1/targets/rras-a/incidents',
  '/api/v1/targets/rras-a/uptime?window=1h',
  '/metrics',
  '/',
  '/page/status.css',
  '/docs',
  '/docs/json',
  '/probe?target=https://127.0.0.1:9443',
];

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  expect(res.json()).toEqual({ error: { code, message: expect.any(String) } });
}

describe('write routes need the bearer token', () => {
  let run: InProcess;
  beforeAll(async () => {
    run = await startInProcess(configYaml([{ name: 'rras-a' }]));
  });
  afterAll(async () => {
    await run?.close();
  });

  it.each(WRITES)('$method $url: 401 without a token, with a wrong one, with Basic; 200 with the right one', async (route) => {
    const send = (authorization?: string) =>
      run.service.app.inject({
        method: route.method,
        url: route.url,
        headers: authorization ? { authorization } : {},
        ...('body' in route ? { payload: route.body() } : {}),
      });
    for (const authorization of [undefined, `Bearer ${WRONG}`, 'Bearer', `Token ${TOKEN}`, basic(TOKEN)]) {
      const res = await send(authorization);
      expectError(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="sstpwatch"');
    }
    expect((await send(`Bearer ${TOKEN}`)).statusCode).toBe(200);
    expect((await send(`bearer ${TOKEN}`)).statusCode).toBe(200);
  });

  it('never writes the token, right or wrong, to the log', async () => {
    for (const route of WRITES) {
      for (const authorization of [`Bearer ${WRONG}`, `Bearer ${TOKEN}`]) {
        await run.service.app.inject({ method: route.method, url: route.url, headers: { authorization }, ...('body' in route ? { payload: route.body() } : {}) });
      }
    }
    const logs = run.logs();
    expect(logs).toContain('write request refused: no valid token');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(WRONG);
  });

  it('answers 401 saying no token is configured, never where one would live (the variable name is for the log)', async () => {
    const none = await startInProcess(configYaml([{ name: 'rras-a' }]), {}, null);
    try {
      const res = await none.service.app.inject({ method: 'POST', url: '/-/reload', headers: { authorization: `Bearer ${TOKEN}` } });
      expectError(res, 401, 'unauthorized');
      expect(res.json().error.message).toContain('no bearer token is configured');
      expect(res.json().error.message).not.toMatch(/SSTPWATCH_TOKEN|token_env|token_file/);
    } finally {
      await none.close();
    }
  });
});

describe('auth.protect_reads', () => {
  let run: InProcess;
  beforeAll(async () => {
    run = await startInProcess(configYaml([{ name: 'rras-a' }], 'auth: { protect_reads: true }\nprobe_endpoint: { enabled: true, allow: [127.0.0.0/8] }'));
    await run.service.start();
  });
  afterAll(async () => {
    await run?.close();
  });

  it.each(READS)('GET %s: 401 without the token or with a wrong one; 200 with Bearer or with Basic (token as password)', async (url) => {
    const get = (authorization?: string) => run.service.app.inject({ url, headers: authorization ? { authorization } : {} });
    for (const authorization of [undefined, `Bearer ${WRONG}`, basic(WRONG), basic(TOKEN, '')]) {
      const res = await get(authorization);
      if (authorization === basic(TOKEN, '')) {
        expect(res.statusCode).toBe(200); // any user name, the empty one too
        continue;
      }
      expectError(res, 401, 'unauthorized');
      expect(res.json().error.message).not.toMatch(/SSTPWATCH_TOKEN|token_env|token_file|environment/);
      expect(res.headers['www-authenticate']).toEqual(['Bearer realm="sstpwatch"', 'Basic realm="sstpwatch", charset="UTF-8"']);
    }
    expect((await get(`Bearer ${TOKEN}`)).statusCode).toBe(200);
    expect((await get(basic(TOKEN))).statusCode).toBe(200);
  });

  it('leaves /healthz and /readyz open, and hides even which routes exist', async () => {
    await new Promise((r) => setTimeout(r, 50));
    expect((await run.service.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await run.service.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expectError(await run.service.app.inject({ url: '/no/such/route' }), 401, 'unauthorized');
    expectError(await run.service.app.inject({ url: '/api/v1/targets/nope' }), 401, 'unauthorized');
  });

  it('keeps writes on the Bearer header only (a browser never sends it by itself)', async () => {
    expectError(await run.service.app.inject({ method: 'POST', url: '/-/reload', headers: { authorization: basic(TOKEN) } }), 401, 'unauthorized');
    expect((await run.service.app.inject({ method: 'POST', url: '/-/reload', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect(run.logs()).not.toContain(TOKEN);
  });
});

describe('security headers', () => {
  let run: InProcess;
  beforeAll(async () => {
    run = await startInProcess(configYaml([{ name: 'rras-a' }]));
  });
  afterAll(async () => {
    await run?.close();
  });

  const requests = [
    { method: 'GET', url: '/api/v1/status', status: 200 },
    { method: 'GET', url: '/api/v1/targets/rras-a/history?limit=0', status: 400 },
    { method: 'GET', url: '/api/v1/targets/nope', status: 404 },
    { method: 'GET', url: `/api/v1/targets/${'a'.repeat(300)}`, status: 414 },
    { method: 'GET', url: '/no/such/route', status: 404 },
    { method: 'POST', url: '/-/reload', status: 401 },
    { method: 'GET', url: '/metrics', status: 200 },
    { method: 'GET', url: '/healthz', status: 200 },
    { method: 'GET', url: '/docs/json', status: 200 },
    { method: 'GET', url: '/probe?target=https://127.0.0.1', status: 403 },
    { method: 'GET', url: '/', status: 200 },
  ] as const;

  it.each(requests)('$method $url ($status): nosniff, no referrer, no framing, not cached', async ({ method, url, status }) => {
    const res = await run.service.app.inject({ method, url });
    expect(res.statusCode).toBe(status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("keeps the status page's own full CSP, and its assets' caching", async () => {
    expect((await run.service.app.inject({ url: '/' })).headers['content-security-policy']).toBe(PAGE_CSP);
    const css = await run.service.app.inject({ url: '/page/status.css' });
    expect(css.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(css.headers['cache-control']).toBe('public, max-age=300');
  });
});

describe('HTTPS with the top-level tls option', () => {
  let dir: string;
  let run: InProcess;
  let port: number;

  beforeAll(async () => {
    const certs = await testCertificates();
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-https-'));
    writeFileSync(join(dir, 'cert.pem'), certs.valid.chainPem);
    writeFileSync(join(dir, 'key.pem'), certs.valid.keyPem);
    writeFileSync(join(dir, 'cert2.pem'), certs.expiringIn10Days.chainPem);
    writeFileSync(join(dir, 'key2.pem'), certs.expiringIn10Days.keyPem);
    run = await startInProcess(configYaml([{ name: 'rras-a' }], `tls: { cert_file: ${join(dir, 'cert.pem')}, key_file: ${join(dir, 'key.pem')} }`));
    await run.service.app.listen({ host: '127.0.0.1', port: 0 });
    port = (run.service.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await run?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; fingerprint: string; headers: Record<string, unknown> }> {
    const { ca } = await testCertificates();
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, method, headers, ca: ca.certPem, servername: VPN_HOSTNAME, agent: false }, (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint, headers: res.headers }));
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  it('serves the API over HTTPS with the configured certificate, verified against its CA', async () => {
    const certs = await testCertificates();
    const res = await get('/api/v1/status');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).targets[0].name).toBe('rras-a');
    expect(res.fingerprint.replaceAll(':', '')).toBe(certs.valid.sha256.replaceAll(':', '').toUpperCase());
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('does not answer plain HTTP on that port', async () => {
    const answer = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(answer).not.toBe(200);
  });

  it('takes a renewed certificate on reload, without a restart', async () => {
    const certs = await testCertificates();
    run.setYaml(configYaml([{ name: 'rras-a' }], `tls: { cert_file: ${join(dir, 'cert2.pem')}, key_file: ${join(dir, 'key2.pem')} }`));
    const res = await get('/-/reload', { authorization: `Bearer ${TOKEN}` }, 'POST');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).restart_required).toEqual([]);
    expect((await get('/healthz')).fingerprint.replaceAll(':', '')).toBe(certs.expiringIn10Days.sha256.replaceAll(':', '').toUpperCase());
  });
});

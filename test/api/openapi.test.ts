import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { createService, type Service } from '../../src/service.js';
import { testCertificates, VPN_HOSTNAME } from '../fixtures/certs.js';
import { closeAllRras, startRras } from '../fixtures/fake-rras.js';

/** The contract's routes (CONTRACT.md "HTTP API"), as OpenAPI paths. */
const CONTRACT_ROUTES = [
  'get /api/v1/status',
  'get /api/v1/targets/{name}',
  'get /api/v1/targets/{name}/history',
  'get /api/v1/targets/{name}/incidents',
  'get /api/v1/targets/{name}/uptime',
  'post /api/v1/targets/{name}/probe',
  'put /api/v1/targets/{name}/maintenance',
  'delete /api/v1/targets/{name}/maintenance',
  'get /metrics',
  'get /probe',
  'get /healthz',
  'get /readyz',
];

/** Query strings that make each GET route answer with data. */
const QUERIES: Record<string, string> = {
  '/api/v1/targets/{name}/uptime': '?window=24h',
  '/api/v1/targets/{name}/history': '?limit=5',
  '/probe': '?target=https://127.0.0.1',
};

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
type OpenApiDoc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };

const pointer = (...segments: string[]) => segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

describe('OpenAPI document', () => {
  let dir: string;
  let service: Service;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-openapi-'));
    const certs = await testCertificates();
    const rras = await startRras(certs.valid);
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    writeFileSync(
      join(dir, 'sstpwatch.yml'),
      [
        'database: ./test.db',
        'defaults: { rise: 1, fall: 1, tls: { ca_file: ./ca.pem } }',
        'groups:',
        `  - { name: vpn, hostname: ${VPN_HOSTNAME}, servers: [{ name: rras-1, url: "${rras.url}" }] }`,
      ].join('\n'),
    );
    service = await createService(loadConfigFile(join(dir, 'sstpwatch.yml')), { log: pino({ level: 'silent' }) });
    await service.app.ready();
    await service.start();
    await service.scheduler.probeNow('rras-1');
    await service.scheduler.probeNow('rras-1');
    await service.store.flush();
    doc = (await service.app.inject({ method: 'GET', url: '/docs/json' })).json();
  });

  afterAll(async () => {
    await service?.stop();
    await closeAllRras();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is OpenAPI 3 and lists every contract route, each with its response schemas', () => {
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    for (const route of CONTRACT_ROUTES) expect(documented).toContain(route);
    for (const route of documented) {
      const [method, path] = route.split(' ') as [string, string];
      const responses = doc.paths[path]![method]!.responses;
      const success = Object.entries(responses).filter(([status]) => status.startsWith('2'));
      expect(success.length, `${route} documents a 2xx response`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(responses)) {
        if (status === '304') continue; // Not Modified has no body by definition (RFC 9110 15.4.5)
        const schema = Object.values(response.content ?? {})[0]?.schema;
        expect(schema, `${route} ${status} has a schema`).toBeDefined();
      }
    }
  });

  it('declares the status list\'s 400 and 503 (overloaded, docs/api.md "Overload") in the shared error shape', () => {
    const responses = doc.paths['/api/v1/status']!.get!.responses;
    for (const status of ['400', '503']) expect(responses[status]?.content?.['application/json']?.schema, status).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    expect(doc.components.schemas.ErrorBody).toMatchObject({ required: ['error'], properties: { error: { required: ['code', 'message'] } } });
  });

  it('serves the documentation UI from sstpwatch itself', async () => {
    const ui = await service.app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    const assets = [...ui.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset, 'no asset from another host').not.toMatch(/^(https?:)?\/\//);
      const res = await service.app.inject({ method: 'GET', url: new URL(asset, 'http://x/docs/').pathname });
      expect(res.statusCode, asset).toBe(200);
    }
  });

  it('describes every real GET response: each validates against its documented schema', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi.json');
    const checked: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!ops.get || path.startsWith('/docs')) continue;
      const url = path.replace('{name}', 'rras-1') + (QUERIES[path] ?? '');
      const res = await service.app.inject({ method: 'GET', url });
      const documented = ops.get.responses[String(res.statusCode)];
      expect(documented, `GET ${url} answered ${res.statusCode}, which is not documented`).toBeDefined();
      const [contentType] = Object.keys(documented!.content ?? {});
      if (contentType !== 'application/json') continue;
      const validate = ajv.getSchema(`openapi.json#/${pointer('paths', path, 'get', 'responses', String(res.statusCode), 'content', contentType, 'schema')}`);
      expect(validate, `schema of GET ${path} ${res.statusCode}`).toBeDefined();
      const ok = validate!(res.json());
      expect(ok, `GET ${url}: ${JSON.stringify(validate!.errors)}`).toBe(true);
      checked.push(`${res.statusCode} ${path}`);
    }
    expect(checked, checked.join(', ')).toEqual(expect.arrayContaining(['200 /api/v1/status', '200 /api/v1/targets/{name}', '200 /api/v1/targets/{name}/history', '200 /readyz', '403 /probe']));
  });
});

// GET /api/v1/status as a list for large fleets: what each entry carries, filters, pages, ETag and gzip.
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { MAX_STALE_MS } from '../../src/api/status-versions.js';
import type { CertificateSource } from '../../src/health/views.js';
import type { GroupConfig, TargetConfig } from '../../src/config/types.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { CertificateDetails } from '../../src/probe/types.js';
import { Monitor } from '../../src/scheduler/monitor.js';
import { MemoryStore } from '../../src/store/memory.js';
import { probeResult, targetConfig } from '../fixtures/domain.js';

const NOW = Date.UTC(2026, 10, 29, 21, 0, 0);
const GROUPS = 6;
const PER_GROUP = 5;

const groups: GroupConfig[] = Array.from({ length: GROUPS }, (_, g) => ({
  name: `vpn-${g}`,
  hostname: `vpn-${g}.example.test`,
  servers: Array.from({ length: PER_GROUP }, (_, s) => `rras-${g}-${s}`),
  vip: null,
}));
const targets: TargetConfig[] = groups.flatMap((g) => g.servers.map((name) => targetConfig(name, undefined, { group: g.name, hostname: g.hostname })));

/** An ok result carrying a leaf certificate, as the HEAD probe reports it. */
function okResult(at: number) {
  return {
    ...probeResult(at, true),
    message: 'HTTP/1.1 401 Unauthorized',
    tlsVersion: 'TLSv1.3',
    certificateSha256: 'AB'.repeat(32),
    certificate: {
      subject: 'CN=vpn.example.test', issuer: 'CN=Test CA', san: ['vpn.example.test'], notBefore: Date.UTC(2026, 0, 1),
      notAfter: Date.UTC(2027, 0, 1), sha256: 'AB'.repeat(32), keyType: 'RSA', keyBits: 2048,
    },
  };
}

const chain = [{ ...okResult(NOW).certificate, serialNumber: '01', ekus: ['1.3.6.1.5.5.7.3.1'], isCa: false, crlUrls: [], ocspUrls: [] }] as unknown as CertificateDetails[];
const certificates: CertificateSource = { group: () => undefined, target: () => ({ chain, checks: null, revocation: [] }) };

describe('the status list', () => {
  let app: ReturnType<typeof buildApp>;
  let monitor: Monitor;
  let t = NOW;

  beforeEach(async () => {
    const log = pino({ level: 'silent' });
    const store = new MemoryStore({ log });
    const registry = new Registry();
    monitor = await Monitor.create({ store, metrics: createMetrics(registry, { processMetrics: false }), log }, targets, groups);
    // Every server answers but the last of each group, which is refused: one down server per group.
    for (const target of targets) monitor.handleResult(target, 'head', target.name.endsWith(`-${PER_GROUP - 1}`) ? probeResult(NOW - 1000, false) : okResult(NOW - 1000));
    t = NOW;
    app = buildApp({ status: monitor, certificates, store, registry, log, now: () => t, readiness: () => ({ database: { ok: true, reason: null, pendingResults: 0 }, scheduler: { ok: true } }) });
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const names = (body: { targets: { name: string }[] }) => body.targets.map((x) => x.name);

  it('lists every target with the TargetStatus fields, leaving the chain, its checks and revocation to /api/v1/targets/:name', async () => {
    const res = await get('/api/v1/status');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.summary).toEqual({ targets: 30, up: 24, down: 6, unknown: 0, maintenance: 0 });
    expect(names(body)).toEqual(targets.map((x) => x.name));
    expect(body.next_cursor).toBeNull();
    const entry = body.targets[0];
    expect(Object.keys(entry)).toEqual(expect.arrayContaining(['name', 'group', 'role', 'url', 'state', 'since', 'consecutive_failures', 'consecutive_successes', 'last_result', 'certificate']));
    expect(entry.certificate).toMatchObject({ subject: 'CN=vpn.example.test', days_left: 32.13, sha256: 'AB'.repeat(32), key_type: 'RSA', key_bits: 2048 });
    for (const key of ['certificate_chain', 'certificate_checks', 'revocation']) expect(entry).not.toHaveProperty(key);
    const full = (await get('/api/v1/targets/rras-0-0')).json();
    expect(full.certificate_chain).toHaveLength(1);
    expect(full.revocation).toEqual([]);
  });

  it('filters by state and by group; the summary still counts the whole fleet', async () => {
    const down = (await get('/api/v1/status?state=down')).json();
    expect(names(down)).toEqual(groups.map((g) => g.servers.at(-1)));
    expect(down.summary.targets).toBe(30);
    expect(down.groups).toHaveLength(GROUPS);
    const group = (await get('/api/v1/status?group=vpn-2')).json();
    expect(names(group)).toEqual(groups[2]!.servers);
    expect(group.groups.map((g: { name: string }) => g.name)).toEqual(['vpn-2']);
    expect(names((await get('/api/v1/status?group=vpn-2&state=down')).json())).toEqual(['rras-2-4']);
    expect(names((await get('/api/v1/status?state=maintenance')).json())).toEqual([]);
  });

  it('refuses a bad filter, page size or cursor with a 400 that says what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/status?state=sideways', /state/],
      ['/api/v1/status?group=vpn-9', /no group named "vpn-9"/],
      ['/api/v1/status?limit=0', /limit/],
      ['/api/v1/status?limit=10001', /limit/],
      ['/api/v1/status?limit=ten', /limit/],
      ['/api/v1/status?limit=5&cursor=%21%21', /cursor is not one this server gave/],
      ['/api/v1/status?limit=5&cursor=Zm9v', /cursor is not one this server gave/],
      ['/api/v1/status?stat=down', /additional properties/],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 400 });
      expect(res.json().error.message).toMatch(message);
    }
  });

  it('pages through the list with limit and next_cursor, filters applied, ending with null', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const body: { targets: { name: string }[]; next_cursor: string | null } = (await get(`/api/v1/status?limit=7${cursor ? `&cursor=${cursor}` : ''}`)).json();
      pages.push(names(body));
      cursor = body.next_cursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 2]);
    expect(pages.flat()).toEqual(targets.map((x) => x.name));
    const first = (await get('/api/v1/status?state=down&limit=4')).json();
    expect(names(first)).toEqual(['rras-0-4', 'rras-1-4', 'rras-2-4', 'rras-3-4']);
    const rest = (await get(`/api/v1/status?state=down&limit=4&cursor=${first.next_cursor}`)).json();
    expect(names(rest)).toEqual(['rras-4-4', 'rras-5-4']);
    expect(rest.next_cursor).toBeNull();
    // Exactly `limit` left: no empty last page.
    expect((await get('/api/v1/status?state=down&limit=6')).json().next_cursor).toBeNull();
  });

  it('answers 304 to If-None-Match while nothing changed, and a new ETag once a result changes the list', async () => {
    const first = await get('/api/v1/status');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"[0-9a-f]+-\d+"$/);
    t = NOW + 5_000; // time passes, nothing shown changes
    const again = await get('/api/v1/status', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect((await get('/api/v1/status', { 'if-none-match': `"other", ${etag}` })).statusCode).toBe(304);
    monitor.handleResult(targets[4]!, 'head', okResult(NOW + 5_000)); // rras-0-4 comes back
    t = NOW + 5_000 + MAX_STALE_MS; // the list's last look is too old to answer from: it looks again first
    const changed = await get('/api/v1/status', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().summary.down).toBe(5);
    expect(changed.json().generated_at).toBe(new Date(NOW + 5_000 + MAX_STALE_MS).toISOString());
  });

  it('gzips a list above 8 KiB for a client that accepts it, and leaves small bodies and other clients alone', async () => {
    const plain = await get('/api/v1/status');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.length).toBeGreaterThan(8 * 1024);
    const zipped = await get('/api/v1/status', { 'accept-encoding': 'br;q=1, gzip;q=0.8' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 4);
    expect(gunzipSync(zipped.rawPayload).toString('utf8')).toBe(plain.body);
    expect((await get('/api/v1/status', { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();
    const small = await get('/api/v1/status?group=vpn-1', { 'accept-encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.json().targets).toHaveLength(PER_GROUP);
  });

  it('gzips the list of each new version to that version\'s list, byte for byte, while entries change', async () => {
    for (const [step, changed] of [[1, [0]], [2, [7, 8, 29]], [3, []], [4, targets.map((_, i) => i)]] as const) {
      for (const i of changed) monitor.handleResult(targets[i]!, 'head', okResult(NOW + step * 10_000));
      t = NOW + step * 10_000;
      const zipped = await get('/api/v1/status', { 'accept-encoding': 'gzip' });
      const plain = await get('/api/v1/status');
      expect(plain.headers.etag).toBe(zipped.headers.etag);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(zipped.rawPayload).equals(plain.rawPayload)).toBe(true);
    }
  });
});

// The real service under a hostile client on loopback: connections held open with a declared body that never comes
// (the attack that once exhausted the process's descriptors and made every target look down), malformed requests,
// and header injection through /probe. The service runs under `ulimit -n 512`, so the attack is larger than its
// descriptor limit: without the connection limits it would run out of descriptors.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionLimits } from '../../../src/api/connections.js';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { VPN_HOSTNAME } from '../../fixtures/certs.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { groupLines, serviceSetup, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

const OPEN_FILES = 512;
const LIMITS = connectionLimits(OPEN_FILES); // 128 in total, 16 per client address
const TOKEN = 'hardening-connections-token-0123';
const auth = { authorization: `Bearer ${TOKEN}` };

interface TargetJson {
  name: string;
  state: string;
  since: string | null;
}

let setup: ServiceSetup | undefined;
let service: RunningService;
const servers: FakeRras[] = [];

beforeAll(async () => {
  setup = await serviceSetup('connections');
  servers.push(...(await Promise.all([1, 2, 3].map(() => startRras(setup!.certs.valid)))));
  setup.writeConfig([
    'database: ./sstpwatch.db',
    'auth: { token_env: HARDENING_TOKEN, protect_reads: true }',
    'probe_endpoint: { enabled: true, allow: [127.0.0.0/8] }',
    // fall 2: two failed probes in a row take a target down. The fake servers share this busy test process with
    // the attacking sockets (on a loaded machine), hence the generous timeout.
    'defaults: { interval: 2s, timeout: 1900ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
    'groups:',
    ...groupLines('vpn-test', Object.fromEntries(servers.map((server, i) => [`rras-${i + 1}`, server.url]))),
  ]);
  service = await setup.start({ HARDENING_TOKEN: TOKEN }, [], { openFiles: OPEN_FILES });
});

afterAll(() => setup?.close());

async function api(path: string, headers: Record<string, string> = auth): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  const res = await fetch(service.baseUrl + path, { headers, signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  return { status: res.status, ms: performance.now() - started, body };
}

async function targets(): Promise<TargetJson[]> {
  return JSON.parse((await api('/api/v1/status')).body).targets as TargetJson[];
}

async function metric(name: string): Promise<number> {
  const line = (await api('/metrics')).body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

interface Held {
  socket: Socket;
  closed: boolean;
  received: string;
}

/**
 * Opens `count` connections from the loopback address `from`, each sending a request head that declares a body
 * of 100 bytes and never sending it; resolves once every connection is established or closed.
 */
async function holdConnections(from: string, count: number): Promise<Held[]> {
  const held = await Promise.all(
    Array.from({ length: count }, () => new Promise<Held>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: service.port, localAddress: from });
      const entry: Held = { socket, closed: false, received: '' };
      socket.on('data', (chunk: Buffer) => (entry.received += chunk.toString()));
      socket.on('error', () => {});
      socket.on('close', () => {
        entry.closed = true;
        resolve(entry);
      });
      socket.on('connect', () => {
        socket.write(`POST /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
        resolve(entry);
      });
    })),
  );
  return held;
}

const stillOpen = (held: Held[]) => held.filter((h) => !h.closed).length;

/**
 * The kernel accepts connections into the listen backlog before the service takes them, so a client sees
 * "connected" before the service could refuse it: waits until the number open has not changed for a second.
 */
async function settled(held: Held[]): Promise<number> {
  let last = -1;
  let stableSince = Date.now();
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const now = stillOpen(held);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 1_000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('connections held open by a client that never sends its body', () => {
  it('cost at most the per-client and total limits; the API answers, probes go on, and no target changes state', async () => {
    await waitFor('every target up', async () => (await targets()).every((t) => t.state === 'up'));
    const before = await targets();

    // Four attackers, 60 connections each: each may hold only its share; 127.0.0.1 is still served.
    const few = (await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((from) => holdConnections(from, 60)))).flat();
    const heldByFew = await settled(few);
    expect(heldByFew).toBe(4 * LIMITS.perClient);
    const healthz = await api('/healthz', {});
    const status = await api('/api/v1/status');
    expect(healthz.status).toBe(200);
    expect(status.status).toBe(200);

    // Twenty more attackers, 30 each (600 in all, beyond the process's 512 descriptors): the total limit holds.
    const many = (await Promise.all(Array.from({ length: 20 }, (_, i) => holdConnections(`127.0.1.${i + 1}`, 30)))).flat();
    const heldByAll = await settled([...few, ...many]);
    expect(heldByAll).toBeLessThanOrEqual(LIMITS.total);
    // Probes keep running meanwhile (their descriptors are the reserve).
    await new Promise((r) => setTimeout(r, 4_500));

    // No request may take longer than the request timeout: every held connection is answered 408 and closed.
    await waitFor('every held connection closed by the server', async () => stillOpen([...few, ...many]) === 0, LIMITS.requestTimeoutMs + 5_000);
    const answered = [...few, ...many].find((h) => h.received !== '')!;
    expect(answered.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(answered.received).toContain('x-content-type-options: nosniff');
    expect(JSON.parse(answered.received.slice(answered.received.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'request_timeout', message: 'the request (headers and body) did not arrive in time' },
    });

    const after = await targets();
    expect(after.map((t) => [t.name, t.state, t.since])).toEqual(before.map((t) => [t.name, t.state, t.since]));
    expect(await metric('sstpwatch_probe_monitor_errors_total')).toBe(0);
    expect(await metric('sstpwatch_api_connections_refused_total{limit="per_client"}')).toBeGreaterThan(0);
    for (const server of servers) expect(server.requests).toBeGreaterThan(5);
    console.info(
      `held-connection attack on a service with ulimit -n ${OPEN_FILES}: ${few.length + many.length} connections attempted, ` +
        `${heldByFew} held by 4 clients, ${heldByAll} at most held by 24 (limit ${LIMITS.total}); during it /healthz ${healthz.ms.toFixed(0)} ms, ` +
        `/api/v1/status ${status.ms.toFixed(0)} ms; targets that changed state: ${after.filter((t, i) => t.since !== before[i]!.since).length}`,
    );
  }, 60_000);
});

/** Sends raw bytes on a new connection and reads until the service closes it. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: service.port });
    let received = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', (err) => (received ? resolve(received) : reject(err)));
    socket.on('close', () => resolve(received));
    socket.on('connect', () => socket.write(bytes));
  });
}

function parseResponse(text: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

describe('requests refused before any route', () => {
  it.each([
    { case: 'a request without Host', bytes: 'GET /api/v1/status HTTP/1.1\r\nConnection: close\r\n\r\n', status: 400, code: 'bad_request', message: /Host header is missing/ },
    { case: 'a malformed request line', bytes: 'GET /\x01 NOPE\r\n\r\n', status: 400, code: 'bad_request', message: /^malformed HTTP request/ },
    { case: 'a TLS handshake on the plain port', bytes: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', status: 400, code: 'bad_request', message: /^malformed HTTP request/ },
    { case: 'an invalid Content-Length', bytes: 'POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', status: 400, code: 'bad_request', message: /Content-Length/ },
    { case: 'headers over 16 KiB', bytes: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, status: 431, code: 'headers_too_large', message: /16 KiB/ },
    { case: 'a request target over 8 KiB', bytes: `GET /${'a'.repeat(9_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, status: 414, code: 'uri_too_long', message: /longer than 8192/ },
    { case: 'broken percent-encoding', bytes: 'GET /api/v1/targets/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', status: 400, code: 'bad_request', message: /URL is not valid/ },
  ])('$case: $status in the contract shape, with the security headers', async ({ bytes, status, code, message }) => {
    const response = parseResponse(await raw(bytes));
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { code, message: expect.stringMatching(message) } });
    expect(response.headers).toMatchObject({
      'content-type': expect.stringMatching(/^application\/json/),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
  });
});

describe('GET /probe on the real service', () => {
  it('answers 400 to a hostname carrying CR LF (header injection), and still probes with a clean one', async () => {
    const target = servers[0]!.url;
    const injected = new URLSearchParams({ target, hostname: `${VPN_HOSTNAME}\r\nContent-Length: 0\r\n\r\nDELETE /admin HTTP/1.1` });
    const refused = await api(`/probe?${injected}`);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).error.message).toMatch(/^hostname must be a DNS name or an IP address/);
    const clean = await api(`/probe?${new URLSearchParams({ target, hostname: VPN_HOSTNAME })}`);
    expect(clean.status).toBe(200);
    expect(clean.body).toContain('probe_success 1');
  });
});

// The real service (child process): the token from the variable auth.token_env names, maintenance kept across
// a restart, an incident open across a restart, probe now, uptime and rollup routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { groupLines, serviceSetup, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

const TOKEN = 'e2e-token-0123456789';

describe('history and write routes, end to end', () => {
  let setup: ServiceSetup;
  let rras: FakeRras;
  let service: RunningService | null = null;

  beforeAll(async () => {
    setup = await serviceSetup('e2e-history');
    rras = await startRras(setup.certs.valid);
    setup.writeConfig([
      'database: ./state/sstpwatch.db',
      'auth: { token_env: E2E_SSTPWATCH_TOKEN }',
      // The on-demand probe below must finish within the timeout while this machine may be loaded (the fake
      // answers from the test's own process): 1.9 s, the most an interval of 2 s allows, not a tight 800 ms.
      'defaults: { interval: 2s, timeout: 1900ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
      'groups:',
      ...groupLines('vpn-test', { 'rras-1': rras.url }),
    ]);
  });

  afterAll(() => setup?.close());

  const send = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`http://${setup.address}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    return { status: res.status, json: await res.json() };
  };
  const state = async () => (await service!.get('/api/v1/targets/rras-1')).json<{ state: string }>().state;

  it('refuses writes without the variable set, and tells a client only that a bearer token is required', async () => {
    service = await setup.start();
    try {
      const res = await send('PUT', '/api/v1/targets/rras-1/maintenance', { until: new Date(Date.now() + 60_000).toISOString() });
      expect(res.status).toBe(401);
      expect(res.json.error.message).toMatch(/bearer token/i);
      expect(res.json.error.message).not.toMatch(/E2E_SSTPWATCH_TOKEN/);
      // the operator learns where the token goes from the log
      expect(service.output()).toMatch(/no bearer token configured[^\n]*E2E_SSTPWATCH_TOKEN|E2E_SSTPWATCH_TOKEN[^\n]*no bearer token configured/);
    } finally {
      await service.stop();
      service = null;
    }
  }, 90_000); // a start on a loaded machine may take the fixture's whole 60 s for /healthz

  it('keeps maintenance and an open incident across restarts, and probes on demand', async () => {
    service = await setup.start({ E2E_SSTPWATCH_TOKEN: TOKEN });
    await waitFor('rras-1 up', async () => (await state()) === 'up');
    expect((await send('PUT', '/api/v1/targets/rras-1/maintenance', { until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'e2e' }, 'wrong')).status).toBe(401);
    const put = await send('PUT', '/api/v1/targets/rras-1/maintenance', { until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'e2e' });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ state: 'maintenance', maintenance: { reason: 'e2e' } });
    await service.stop();

    service = await setup.start({ E2E_SSTPWATCH_TOKEN: TOKEN });
    expect(await state()).toBe('maintenance');
    const deleted = await send('DELETE', '/api/v1/targets/rras-1/maintenance');
    expect(deleted.status).toBe(200);
    // up, or unknown if no probe has finished since the restart (maintenance hid the state before it)
    expect(deleted.json).toMatchObject({ state: expect.stringMatching(/^(up|unknown)$/), maintenance: null });
    await waitFor('rras-1 up after maintenance', async () => (await state()) === 'up');

    await rras.setBehavior('stopped');
    await waitFor('rras-1 down', async () => (await state()) === 'down');
    // the transition is written with the next batch (about a second)
    let opened: { started_at: string; ended_at: string | null }[] = [];
    await waitFor('the incident recorded', async () => {
      opened = (await service!.get('/api/v1/targets/rras-1/incidents')).json<{ items: typeof opened }>().items;
      return opened.length > 0;
    });
    expect(opened).toHaveLength(1);
    expect(opened[0]!.ended_at).toBeNull();
    await service.stop();

    service = await setup.start({ E2E_SSTPWATCH_TOKEN: TOKEN });
    expect(await state()).toBe('down');
    await rras.setBehavior('answer');
    const probed = await send('POST', '/api/v1/targets/rras-1/probe');
    expect(probed.status).toBe(200);
    expect(probed.json, 'the on-demand probe of the answering server').toMatchObject({ ok: true, error_kind: 'ok', status_code: 401 });
    await waitFor('rras-1 up again', async () => (await state()) === 'up');
    // the closing transition is written with the next batch (about a second)
    let incidents: { started_at: string; ended_at: string | null; cause: string }[] = [];
    await waitFor('the incident closed', async () => {
      incidents = (await service!.get('/api/v1/targets/rras-1/incidents')).json<{ items: typeof incidents }>().items;
      return incidents.some((incident) => incident.ended_at !== null);
    });
    expect(incidents).toHaveLength(1); // the down period spanning the restart is one incident
    expect(incidents[0]).toMatchObject({ started_at: opened[0]!.started_at, cause: 'connect_refused' });
    expect(incidents[0]!.ended_at).not.toBeNull();

    const uptime = (await service.get('/api/v1/targets/rras-1/uptime?window=1h')).json<{ probes: number; failures: number; ratio: number }>();
    expect(uptime.probes).toBeGreaterThan(0);
    expect(uptime.failures).toBeGreaterThan(0);
    expect((await service.get('/api/v1/targets/rras-1/history?resolution=1m')).status).toBe(200);
  }, 240_000); // three starts, each of which may take the fixture's 60 s on a loaded machine
});

// GET /metrics as a scraper sees it: Prometheus asks for gzip (Accept-Encoding: gzip) and gets the text compressed,
// as Go's promhttp serves it; a client that does not ask gets the text as it is.
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/api/app.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { renderExposition } from '../../../src/metrics/exposition.js';
import { StartGate } from '../../../src/start-gate.js';
import { buildTestApp } from '../../fixtures/app.js';
import { probeResult } from '../../fixtures/domain.js';
import { withCertificate } from '../../fixtures/metric-families.js';
import { runTool } from '../../fixtures/prometheus.js';
import { playScenario } from '../../metrics/scenario.js';

const T0 = 1_700_000_000_000;

/** A fleet large enough that its text is written in many chunks (256 KB, or 1 MB when gzipped). */
function largeFleet(targets: number): Registry {
  const registry = new Registry();
  const metrics = createMetrics(registry, { processMetrics: false });
  for (let i = 0; i < targets; i++) {
    const labels = { target: `rras-${i}.vpn.example.com`, group: `g${Math.floor(i / 10)}`, role: 'server' as const };
    metrics.setProbeInterval(labels, 30);
    metrics.observe('head', labels, withCertificate(probeResult(T0 + i, i % 13 !== 0), T0));
  }
  return registry;
}

describe('GET /metrics', () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('sends gzip to a scraper that accepts it, and the gzip holds the identity text byte for byte', async () => {
    const registry = largeFleet(2000);
    app = await buildTestApp({ registry });
    const identity = await app.inject({ method: 'GET', url: '/metrics' });
    const gzipped = await app.inject({ method: 'GET', url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.statusCode).toBe(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toMatch(/accept-encoding/i);
    expect(gzipped.headers['content-type']).toBe(registry.contentType);
    const text = gunzipSync(gzipped.rawPayload);
    expect(text.equals(identity.rawPayload)).toBe(true);
    expect(text.toString()).toBe(await renderExposition(registry));
    expect(gzipped.rawPayload.length).toBeLessThan(identity.rawPayload.length / 10);
  });

  it('sends gzip for the Accept-Encoding Prometheus 2.42 sends, and for x-gzip or * ', async () => {
    app = await buildTestApp({ registry: playScenario() });
    for (const accept of ['gzip', 'deflate, gzip', 'x-gzip', '*']) {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: { 'accept-encoding': accept } });
      expect(res.headers['content-encoding'], accept).toBe('gzip');
    }
  });

  it('sends the text as it is to a client that does not ask for gzip, or refuses it', async () => {
    const registry = playScenario();
    app = await buildTestApp({ registry });
    for (const headers of [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'gzip;q=0' }, { 'accept-encoding': 'br, deflate' }]) {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers });
      expect(res.headers['content-encoding'], JSON.stringify(headers)).toBeUndefined();
      expect(res.headers.vary).toMatch(/accept-encoding/i);
      expect(res.body).toBe(await renderExposition(registry));
    }
  });

  it('sends a gzipped text that promtool check metrics accepts once decompressed', async () => {
    app = await buildTestApp({ registry: playScenario() });
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    const run = runTool('promtool', ['check', 'metrics'], undefined, gunzipSync(res.rawPayload).toString());
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  describe('and the probes due meanwhile', () => {
    it('holds new probes back while the body is written, gzipped or not, and lets them go once it is', async () => {
      const registry = largeFleet(500);
      const gate = new StartGate();
      const seen: boolean[] = [];
      // prom-client runs a gauge's collect while its lines are written: in the middle of the body.
      new Gauge({ name: 'gate_seen_closed', help: 'test', registers: [registry], collect: () => void seen.push(gate.closed) });
      let opened = 0;
      gate.onOpen(() => opened++);
      app = await buildTestApp({ registry, startGate: gate });
      for (const headers of [{}, { 'accept-encoding': 'gzip' }]) {
        const res = await app.inject({ method: 'GET', url: '/metrics', headers });
        expect(res.statusCode).toBe(200);
        expect(gate.closed).toBe(false);
      }
      expect(seen).toEqual([true, true]);
      expect(opened).toBe(2);
    });

    it('lets the probes go when the scraper goes away in the middle of the body', async () => {
      const gate = new StartGate(60_000);
      app = await buildTestApp({ registry: largeFleet(5000), startGate: gate });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      // A reader that takes one piece and then stops reading: the body (~20 MB) waits on the socket.
      const req = request({ host: '127.0.0.1', port, path: '/metrics' });
      const firstPiece = new Promise<void>((resolve, reject) => {
        req.on('response', (res) => res.once('data', () => (res.pause(), resolve())));
        req.on('error', reject);
      });
      req.end();
      await firstPiece;
      await new Promise((r) => setTimeout(r, 200));
      expect(gate.closed).toBe(true);
      const opened = new Promise<void>((resolve) => gate.onOpen(resolve));
      req.destroy();
      await opened;
      expect(gate.closed).toBe(false);
    });
  });
});

// `metrics: { exclude: [...] }` seen by the real Prometheus: the excluded families are gone from what it stores,
// everything the alert rules need is still there, and promtool still accepts /metrics.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';
import { prometheusConfig, runTool, startPrometheus, stopAllDaemons, type RunningPrometheus } from '../../fixtures/prometheus.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';

describe('metrics.exclude with a real Prometheus scraping', () => {
  let dir: string;
  let service: RunningService;
  let prometheus: RunningPrometheus;
  let rras: FakeRras;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-exclude-'));
    const certs = await testCertificates();
    rras = await startRras(certs.valid);
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    const port = await freePort();
    writeFileSync(
      join(dir, 'sstpwatch.yml'),
      [
        `listen: "127.0.0.1:${port}"`,
        'database: ./sstpwatch.db',
        'defaults: { interval: 2s, timeout: 1s, tls: { ca_file: ./ca.pem } }',
        'metrics: { exclude: [duration_histogram, phases, cert_info] }',
        'groups:',
        `  - { name: vpn, hostname: ${VPN_HOSTNAME}, servers: [{ name: rras-1, url: "${rras.url}" }] }`,
      ].join('\n'),
    );
    service = await startService(join(dir, 'sstpwatch.yml'), port);
    prometheus = await startPrometheus({ config: prometheusConfig({ targets: [`127.0.0.1:${port}`] }) });
    await prometheus.waitForTargetsUp();
  });

  afterAll(async () => {
    await stopAllDaemons();
    await service?.stop();
    await closeAllRras();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores no series of the excluded families, and the rest as before', async () => {
    await waitFor('rras-1 up in Prometheus', async () => (await prometheus.query('sstp_target_up{target="rras-1"} == 1')).length === 1, 20_000);
    for (const name of ['sstp_probe_duration_seconds_bucket', 'sstp_probe_duration_seconds_count', 'sstp_probe_phase_seconds', 'sstp_cert_info']) {
      expect({ name, series: await prometheus.query(`{__name__="${name}"}`) }).toEqual({ name, series: [] });
    }
    for (const name of ['sstp_probe_success', 'sstp_target_state', 'sstp_probes_total', 'sstp_cert_not_after_timestamp_seconds', 'sstp_probe_http_status_code']) {
      expect((await prometheus.query(`${name}{target="rras-1"}`)).length, name).toBeGreaterThan(0);
    }
  });

  it('serves a /metrics that promtool still accepts', async () => {
    const text = (await service.get('/metrics')).body;
    expect(text).not.toMatch(/^sstp_probe_duration_seconds/m);
    const check = runTool('promtool', ['check', 'metrics'], undefined, text);
    expect(check.code, check.output).toBe(0);
  });
});

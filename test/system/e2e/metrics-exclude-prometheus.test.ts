// `metrics: { exclude: [...] }` seen by the real Prometheus: the excluded families are gone from what it stores,
// everything the alert rules need is still there, and promtool still accepts /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRras } from '../../fixtures/fake-rras.js';
import { runTool, type RunningPrometheus } from '../../fixtures/prometheus.js';
import { groupLines, serviceSetup, startScrapingPrometheus, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

describe('metrics.exclude with a real Prometheus scraping', () => {
  let setup: ServiceSetup | undefined;
  let service: RunningService;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    setup = await serviceSetup('exclude');
    const rras = await startRras(setup.certs.valid);
    setup.writeConfig([
      'database: ./sstpwatch.db',
      'defaults: { interval: 2s, timeout: 1s, tls: { ca_file: ./ca.pem } }',
      'metrics: { exclude: [duration_histogram, phases, cert_info] }',
      'groups:',
      ...groupLines('vpn', { 'rras-1': rras.url }),
    ]);
    service = await setup.start();
    prometheus = await startScrapingPrometheus({ targets: [setup.address] });
  });

  afterAll(() => setup?.close());

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

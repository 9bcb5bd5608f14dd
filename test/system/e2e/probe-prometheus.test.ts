// The real Prometheus schedules SSTP probes through sstpwatch's /probe, blackbox_exporter style: the scrape
// target is the RRAS server, relabelled into ?target= with sstpwatch as the address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { VPN_HOSTNAME } from '../../fixtures/certs.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { startPrometheus, type RunningPrometheus } from '../../fixtures/prometheus.js';
import { groupLines, serviceSetup, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

/** The README's scrape config, with this test's addresses. */
function scrapeConfig(sstpwatch: string, targets: string[]): string {
  return JSON.stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: 'sstp-probe',
        metrics_path: '/probe',
        params: { hostname: [VPN_HOSTNAME] },
        scrape_interval: '1s',
        scrape_timeout: '1s',
        static_configs: [{ targets }],
        relabel_configs: [
          { source_labels: ['__address__'], target_label: '__param_target' },
          { source_labels: ['__param_target'], target_label: 'instance' },
          { target_label: '__address__', replacement: sstpwatch },
        ],
      },
    ],
  });
}

describe('Prometheus scraping /probe', () => {
  let setup: ServiceSetup | undefined;
  let service: RunningService;
  let prometheus: RunningPrometheus;
  let healthy: FakeRras;
  let stopped: FakeRras;
  let hung: FakeRras;

  beforeAll(async () => {
    setup = await serviceSetup('probe-prometheus');
    const { valid } = setup.certs;
    [healthy, stopped, hung] = await Promise.all([startRras(valid), startRras(valid, 404), startRras(valid, 'tls-stall')]);
    setup.writeConfig([
      'database: ./sstpwatch.db',
      // The configured timeout is longer than Prometheus' 1 s scrape timeout: the header must win.
      'defaults: { interval: 1m, timeout: 5s, tls: { ca_file: ./ca.pem } }',
      'probe_endpoint: { enabled: true, allow: [127.0.0.0/8] }',
      'groups:',
      ...groupLines('vpn', { 'rras-1': healthy.url }),
    ]);
    service = await setup.start();
    prometheus = await startPrometheus({ config: scrapeConfig(setup.address, [healthy.url, stopped.url, hung.url]) });
  });

  afterAll(() => setup?.close());

  it('reads probe_success back per target: 1 for a healthy SSTP listener, 0 for a stopped one and a hung one', async () => {
    let last = '';
    await waitFor(
      'probe_success for all three targets',
      async () => {
        const samples = await prometheus.query('probe_success{job="sstp-probe"}');
        last = JSON.stringify(samples);
        return samples.length === 3;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer ${last}\nPrometheus:\n${prometheus.output().slice(-3000)}\nsstpwatch:\n${service.output().slice(-3000)}`);
    });

    const success = Object.fromEntries((await prometheus.query('probe_success{job="sstp-probe"}')).map((s) => [s.metric.instance, s.value]));
    expect(success).toEqual({ [healthy.url]: 1, [stopped.url]: 0, [hung.url]: 0 });

    // Every scrape succeeded (up 1), including the hung server's: the probe kept within the scrape timeout.
    const up = Object.fromEntries((await prometheus.query('up{job="sstp-probe"}')).map((s) => [s.metric.instance, s.value]));
    expect(up).toEqual({ [healthy.url]: 1, [stopped.url]: 1, [hung.url]: 1 });

    const kinds = await prometheus.query('probe_sstp_error_kind{job="sstp-probe"} == 1');
    expect(Object.fromEntries(kinds.map((s) => [s.metric.instance, s.metric.kind]))).toEqual({
      [healthy.url]: 'ok',
      [stopped.url]: 'unexpected_status',
      [hung.url]: 'timeout',
    });
    const status = await prometheus.query('probe_http_status_code{job="sstp-probe"}');
    expect(Object.fromEntries(status.map((s) => [s.metric.instance, s.value]))).toEqual({ [healthy.url]: 401, [stopped.url]: 404, [hung.url]: 0 });

    // The hostname parameter reached the probe: SNI and Host are the public name (Host with the port, not 443 here).
    expect(healthy.lastHandshake?.servername).toBe(VPN_HOSTNAME);
    expect(healthy.lastRequest?.headers['host']).toBe(`${VPN_HOSTNAME}:${healthy.port}`);
    const expiry = await prometheus.query(`probe_ssl_earliest_cert_expiry{instance="${healthy.url}"}`);
    expect(expiry[0]!.value).toBeGreaterThan(Date.now() / 1000);
  }, 60_000);
});

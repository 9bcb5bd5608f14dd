// One source for the certificate thresholds: `certificates.warn_days` in sstpwatch.yml moves the API's findings,
// the status page, `sstpwatch check` and the real Prometheus' SSTPCertificateExpiresSoon together. The real
// sstpwatch (child process) probes a fake RRAS server whose certificate expires in 10 days; the config first says
// warn_days 5 (nothing to say), then, reloaded with SIGHUP, warn_days 15 (a warning everywhere).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../../src/cli/check.js';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';
import { prometheusConfig, shortenForDurations, startPrometheus, stopAllDaemons, type RunningPrometheus } from '../../fixtures/prometheus.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';

const RULES = readFileSync(fileURLToPath(new URL('../../../prometheus/alerts.yml', import.meta.url)), 'utf8');
const DAY_S = 86_400;

interface StatusJson {
  groups: Array<{ name: string; findings?: Array<{ code: string; severity: string; targets: string[] }> }>;
}

describe('certificates.warn_days moves findings, page, check and the alert rule together', () => {
  let dir: string;
  let configPath: string;
  let port: number;
  let server: FakeRras;
  let service: RunningService;
  let prometheus: RunningPrometheus;

  const config = (warnDays: number): string =>
    [
      `listen: "127.0.0.1:${port}"`,
      'database: ./state/sstpwatch.db',
      'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 1, tls: { ca_file: ./ca.pem } }',
      'groups:',
      '  - name: vpn-test',
      `    hostname: ${VPN_HOSTNAME}`,
      `    certificates: { warn_days: ${warnDays}, critical_days: 2 }`,
      '    servers:',
      `      - { name: rras-1, url: "${server.url}" }`,
    ].join('\n');

  const findings = async () => ((await service.get('/api/v1/status')).json<StatusJson>().groups[0]!.findings ?? []).filter((f) => f.code === 'certificate_expires_soon');
  const pageCertClass = async () => /<tr[^>]*data-target="rras-1"[\s\S]*?class="(cert-days [^"]+)"/.exec((await service.get('/')).body)?.[1];
  const metric = async (name: string) => (await prometheus.query(`${name}{target="rras-1"}`))[0]?.value;
  const certAlerts = async () => (await prometheus.alerts()).filter((a) => a.labels.alertname === 'SSTPCertificateExpiresSoon');
  async function checkWithConfig(): Promise<string> {
    const out: string[] = [];
    await runCheck([server.url, '--hostname', VPN_HOSTNAME, '--ca', join(dir, 'ca.pem'), '--no-revocation', '--config', configPath], { out: (l) => out.push(l), err: () => {} });
    return out.join('\n');
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-thresholds-'));
    const certs = await testCertificates();
    server = await startRras(certs.expiringIn10Days);
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    port = await freePort();
    configPath = join(dir, 'sstpwatch.yml');
    writeFileSync(configPath, config(5));
    service = await startService(configPath, port);
    prometheus = await startPrometheus({
      config: prometheusConfig({ targets: [`127.0.0.1:${port}`], interval: '1s', ruleFiles: ['alerts.yml'] }),
      files: { 'alerts.yml': shortenForDurations(RULES, '1s') },
    });
    await prometheus.waitForTargetsUp();
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([service?.stop(), stopAllDaemons(), closeAllRras()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with warn_days 5, a certificate 10 days from expiry is fine: no finding, a plain page, a quiet check, no alert', async () => {
    await waitFor('Prometheus to scrape the certificate and the thresholds', async () => (await metric('sstp_cert_warning_threshold_seconds')) === 5 * DAY_S && (await metric('sstp_cert_not_after_timestamp_seconds')) !== undefined, 30_000);
    expect(await metric('sstp_cert_critical_threshold_seconds')).toBe(2 * DAY_S);
    // Several evaluations (every second, `for:` 1 s) with the certificate known: the rule would have fired.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await certAlerts()).toEqual([]);
    expect(await findings()).toEqual([]);
    expect(await pageCertClass()).toBe('cert-days cert-ok');
    const check = await checkWithConfig();
    expect(check).not.toMatch(/certificate expires in|certificate_expires_soon/);
    expect(check).toContain('certificate warning under 5 days, critical under 2 days');
  }, 60_000);

  it('reloaded with warn_days 15, the same certificate is a warning in the findings, on the page, in check, and the alert fires', async () => {
    writeFileSync(configPath, config(15));
    service.child.kill('SIGHUP');
    await waitFor('Prometheus to scrape warn_days 15', async () => (await metric('sstp_cert_warning_threshold_seconds')) === 15 * DAY_S, 30_000);
    await waitFor('SSTPCertificateExpiresSoon firing', async () => (await certAlerts()).some((a) => a.state === 'firing'), 30_000);
    const [alert] = await certAlerts();
    expect(alert!.labels).toMatchObject({ alertname: 'SSTPCertificateExpiresSoon', severity: 'warning', target: 'rras-1', group: 'vpn-test', role: 'server' });
    await waitFor('the finding after a probe under the new config', async () => (await findings()).length === 1, 15_000);
    expect(await findings()).toEqual([expect.objectContaining({ code: 'certificate_expires_soon', severity: 'warning', targets: ['rras-1'] })]);
    expect(await pageCertClass()).toBe('cert-days cert-warning');
    const check = await checkWithConfig();
    expect(check).toContain('(warning: under 15 days)');
    expect(check).toMatch(/WARNING certificate_expires_soon/);
  }, 90_000);
});

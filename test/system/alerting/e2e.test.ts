// The whole alerting chain with the real programs: fake RRAS servers <- sstpwatch (child process) <- the Debian
// prometheus (scrape + rules every 1 s) -> the Debian prometheus-alertmanager -> a webhook receiver.
//
// The rules are prometheus/alerts.yml with every `for:` shortened to 1s (shippedRulesAtTestSpeed): the production
// durations are minutes; the expressions are exactly the shipped ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { alertIs as is, RESEND_ALERTS_EVERY_SECOND, shippedRulesAtTestSpeed, webhookAlertmanagerConfig } from '../../fixtures/alerting.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { startAlertmanager, startWebhookReceiver, type RunningPrometheus, type WebhookReceiver } from '../../fixtures/prometheus.js';
import { groupLines, serviceSetup, startScrapingPrometheus, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

const GROUP = 'vpn-alerting';
const TOKEN = 'alerting-e2e-token';
const FALL = 2;

describe('alerting through the real Prometheus and Alertmanager', () => {
  let setup: ServiceSetup | undefined;
  let service: RunningService | undefined;
  let prometheus: RunningPrometheus;
  let webhook: WebhookReceiver | undefined;
  let rras1: FakeRras;
  let rras2: FakeRras;
  /** "server stops" -> "webhook received", per step, for the report. */
  const detection: Record<string, number> = {};

  const targetState = async (name: string): Promise<{ state: string; consecutive_failures: number }> =>
    (await service!.get(`/api/v1/targets/${name}`)).json();

  beforeAll(async () => {
    setup = await serviceSetup('alerting');
    [rras1, rras2] = await Promise.all([startRras(setup.certs.valid), startRras(setup.certs.valid)]);
    setup.writeConfig([
      'database: ./state/sstpwatch.db',
      'auth: { token_env: SSTPWATCH_TOKEN }',
      `defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: ${FALL}, tls: { ca_file: ./ca.pem } }`,
      'groups:',
      ...groupLines(GROUP, { 'rras-1': rras1.url, 'rras-2': rras2.url }),
    ]);
    // Every alert its own notification, flushed at once, resolved ones too.
    webhook = await startWebhookReceiver();
    const [started, alertmanager] = await Promise.all([
      setup.start({ SSTPWATCH_TOKEN: TOKEN }),
      startAlertmanager({ config: webhookAlertmanagerConfig(webhook.url, { group_by: ['alertname', 'group', 'target'], group_interval: '1s' }) }),
    ]);
    service = started;
    prometheus = await startScrapingPrometheus(
      { job: 'sstpwatch', targets: [setup.address], interval: '1s', ruleFiles: ['alerts.yml'], alertmanagers: [alertmanager.address] },
      { files: shippedRulesAtTestSpeed(['alerts.yml']), args: [RESEND_ALERTS_EVERY_SECOND] },
    );
    await waitFor(
      'Prometheus to see both servers up',
      async () => (await prometheus.query(`sstp_target_up{group="${GROUP}"} == 1`)).length === 2,
      30_000,
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([setup?.close(), webhook?.close()]);
    console.log(`alerting e2e, "server stops" -> "webhook received" (ms): ${JSON.stringify(detection)}`);
  });

  it('one server stops: SSTPServerDown reaches the webhook with target, group, role and severity', async () => {
    const stoppedAt = Date.now();
    await rras2.setBehavior('stopped');
    const alert = await webhook!.waitForAlert('SSTPServerDown rras-2', is('SSTPServerDown', 'firing', { target: 'rras-2' }), {
      since: stoppedAt,
      timeoutMs: 45_000,
    });
    detection.serverDown = alert.receivedAt - stoppedAt;
    expect(alert.labels).toMatchObject({ target: 'rras-2', group: GROUP, role: 'server', severity: 'warning', job: 'sstpwatch' });
    expect(alert.annotations.summary).toBe(`SSTP server rras-2 (${GROUP}) is down`);
    expect(alert.annotations.description).toContain('/api/v1/targets/rras-2');
    expect(webhook!.alerts().some(is('SSTPServerDown', 'firing', { target: 'rras-1' }))).toBe(false);
    expect(webhook!.alerts().some(is('SSTPServiceDown', 'firing'))).toBe(false);
  }, 60_000);

  it('the other server stops too: SSTPServiceDown, critical, for the group', async () => {
    const stoppedAt = Date.now();
    await rras1.setBehavior('stopped');
    const alert = await webhook!.waitForAlert('SSTPServiceDown', is('SSTPServiceDown', 'firing', { group: GROUP }), {
      since: stoppedAt,
      timeoutMs: 45_000,
    });
    detection.serviceDown = alert.receivedAt - stoppedAt;
    expect(alert.labels).toMatchObject({ group: GROUP, severity: 'critical', scope: 'servers' });
    expect(alert.labels.target).toBeUndefined();
    expect(alert.annotations.description).toContain(`2 RRAS server(s) of ${GROUP} are down and none is up`);
  }, 60_000);

  it('both servers back: resolved notifications for SSTPServerDown of each and for SSTPServiceDown', async () => {
    const restoredAt = Date.now();
    await Promise.all([rras1.setBehavior('answer'), rras2.setBehavior('answer')]);
    const resolved = await Promise.all([
      webhook!.waitForAlert('resolved SSTPServiceDown', is('SSTPServiceDown', 'resolved', { group: GROUP }), { since: restoredAt, timeoutMs: 45_000 }),
      webhook!.waitForAlert('resolved SSTPServerDown rras-1', is('SSTPServerDown', 'resolved', { target: 'rras-1' }), { since: restoredAt, timeoutMs: 45_000 }),
      webhook!.waitForAlert('resolved SSTPServerDown rras-2', is('SSTPServerDown', 'resolved', { target: 'rras-2' }), { since: restoredAt, timeoutMs: 45_000 }),
    ]);
    detection.resolved = Math.max(...resolved.map((a) => a.receivedAt)) - restoredAt;
    const outage = ['SSTPServerDown', 'SSTPServiceDown', 'SSTPRedundancyLost'];
    await waitFor(
      'Prometheus to have no outage alert left',
      async () => (await prometheus.alerts()).every((a) => !outage.includes(a.labels.alertname!)),
      30_000,
    );
  }, 60_000);

  it('a server in maintenance that stops is not paged for; when the maintenance ends, it is', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const put = await fetch(`${service!.baseUrl}/api/v1/targets/rras-1/maintenance`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ until, reason: 'alerting e2e: planned patching' }),
    });
    expect(put.status, await put.text()).toBe(200);
    expect((await targetState('rras-1')).state).toBe('maintenance');

    const stoppedAt = Date.now();
    await rras1.setBehavior('stopped');
    // sstpwatch sees the failures and Prometheus has them, with the target in maintenance...
    await waitFor('rras-1 failing under maintenance', async () => (await targetState('rras-1')).consecutive_failures >= FALL + 1, 20_000);
    await waitFor(
      'Prometheus to see rras-1 failing in maintenance',
      async () =>
        (await prometheus.query('sstp_target_state{target="rras-1",state="maintenance"} == 1')).length === 1 &&
        (await prometheus.query(`sstp_target_consecutive_failures{target="rras-1"} >= ${FALL + 1}`)).length === 1,
      20_000,
    );
    // ...and for longer than the unmaintained server took to page, no rule even goes pending for it.
    const quietUntil = Date.now() + Math.max(8_000, 2 * (detection.serverDown ?? 0) - (Date.now() - stoppedAt));
    while (Date.now() < quietUntil) {
      expect(await prometheus.query('ALERTS{target="rras-1"}')).toEqual([]);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(webhook!.alerts().filter((a) => a.receivedAt >= stoppedAt && a.labels.target === 'rras-1')).toEqual([]);
    const groupPages = webhook!.alerts().filter(
      (a) => a.receivedAt >= stoppedAt && a.status === 'firing' && ['SSTPServiceDown', 'SSTPRedundancyLost'].includes(a.labels.alertname!),
    );
    expect(groupPages).toEqual([]);

    // Positive control: the same stopped server, out of maintenance, pages.
    const endedAt = Date.now();
    const del = await fetch(`${service!.baseUrl}/api/v1/targets/rras-1/maintenance`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(del.status, await del.text()).toBe(200);
    const alert = await webhook!.waitForAlert('SSTPServerDown rras-1 after maintenance', is('SSTPServerDown', 'firing', { target: 'rras-1' }), {
      since: endedAt,
      timeoutMs: 45_000,
    });
    detection.afterMaintenance = alert.receivedAt - endedAt;
    expect(alert.labels).toMatchObject({ group: GROUP, role: 'server', severity: 'warning' });
  }, 90_000);
});

// Alerting stays single with several sstpwatch instances, through the real programs on loopback: two sstpwatch
// processes on static shards (`shard: 1/2` and `2/2`, each its own SQLite file) <- the HA Prometheus pair of
// prometheus/ha/ (both replicas scrape both instances, the shipped rules with every `for:` shortened to 1s) ->
// the two-node Alertmanager cluster of prometheus/ha/ (--cluster.listen-address/--cluster.peer) -> a webhook.
// One fake RRAS server stops: one notification per alert arrives, although two Prometheus replicas send it to two
// Alertmanagers, and the group its shard sees alone is not declared down.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inShard } from '../../../src/config/sharding.js';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';
import { alertmanagerClusterArgs, haPrometheusConfig, PROMETHEUS_DIR } from '../../fixtures/ha-examples.js';
import {
  shortenForDurations,
  startAlertmanager,
  startPrometheus,
  startWebhookReceiver,
  stopAllDaemons,
  type ReceivedAlert,
  type RunningAlertmanager,
  type RunningPrometheus,
  type WebhookReceiver,
} from '../../fixtures/prometheus.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';

const SITE = 'dc1';
/** vpn-split's two servers fall to different shards (the stable hash is pinned: docs/sharding.md). */
const GROUPS = { 'vpn-split': ['rras-1', 'rras-2'], 'vpn-other': ['rras-3', 'rras-4'] } as const;
const SHARDS = [1, 2] as const;
/** The second Alertmanager waits this long for the first to send (15 s in the example). */
const PEER_TIMEOUT_S = 2;

/** Every alert its own notification, sent at once, never repeated during the test; resolved ones too. */
function alertmanagerConfig(webhookUrl: string): string {
  return JSON.stringify({
    route: { receiver: 'webhook', group_by: ['alertname', 'group', 'target', 'site'], group_wait: '1s', group_interval: '10m', repeat_interval: '1h' },
    receivers: [{ name: 'webhook', webhook_configs: [{ url: webhookUrl, send_resolved: true }] }],
  });
}

describe('two static shards behind an HA Prometheus pair and a two-node Alertmanager cluster', () => {
  let dir: string;
  const services: RunningService[] = [];
  const prometheus: RunningPrometheus[] = [];
  const alertmanagers: RunningAlertmanager[] = [];
  let webhook: WebhookReceiver | undefined;
  const rras = new Map<string, FakeRras>();

  const firing = (alertname: string, labels: Record<string, string> = {}) => (a: ReceivedAlert): boolean =>
    a.status === 'firing' && a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-multi-alerting-'));
    const certs = await testCertificates();
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    for (const name of Object.values(GROUPS).flat()) rras.set(name, await startRras(certs.valid));

    // One config for both instances but for listen, database and shard.
    const ports = await Promise.all(SHARDS.map(() => freePort()));
    for (const shard of SHARDS) {
      const lines = [
        `listen: "127.0.0.1:${ports[shard - 1]}"`,
        `database: ./shard-${shard}.db`,
        `site: ${SITE}`,
        `shard: "${shard}/${SHARDS.length}"`,
        'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
        'groups:',
        ...Object.entries(GROUPS).flatMap(([group, servers]) => [
          `  - name: ${group}`,
          `    hostname: ${VPN_HOSTNAME}`,
          '    servers:',
          ...servers.map((name) => `      - { name: ${name}, url: "${rras.get(name)!.url}" }`),
        ]),
      ];
      writeFileSync(join(dir, `shard-${shard}.yml`), `${lines.join('\n')}\n`);
    }
    services.push(...(await Promise.all(SHARDS.map((shard) => startService(join(dir, `shard-${shard}.yml`), ports[shard - 1]!)))));

    webhook = await startWebhookReceiver();
    const clusterPorts = await Promise.all([freePort(), freePort()]);
    const cluster: [string, string] = [`127.0.0.1:${clusterPorts[0]}`, `127.0.0.1:${clusterPorts[1]}`];
    alertmanagers.push(
      ...(await Promise.all(
        ([1, 2] as const).map((node) =>
          startAlertmanager({ config: alertmanagerConfig(webhook!.url), cluster: alertmanagerClusterArgs(node, cluster, `${PEER_TIMEOUT_S}s`) }),
        ),
      )),
    );
    const rules = {
      'alerts.yml': shortenForDurations(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8'), '1s'),
      'alerts-certificates.yml': shortenForDurations(readFileSync(join(PROMETHEUS_DIR, 'alerts-certificates.yml'), 'utf8'), '1s'),
    };
    const targets = services.map((s) => `127.0.0.1:${s.port}`);
    prometheus.push(
      ...(await Promise.all(
        (['a', 'b'] as const).map((replica) =>
          startPrometheus({
            config: haPrometheusConfig(replica, { targets, alertmanagers: alertmanagers.map((am) => am.address), interval: '1s' }),
            files: rules,
            // resend firing alerts every second so Alertmanager never times them out between evaluations
            args: ['--rules.alert.resend-delay=1s'],
          }),
        ),
      )),
    );
    await Promise.all(prometheus.map((p) => p.waitForTargetsUp()));
    await waitFor(
      'both replicas to see every server up',
      async () => (await Promise.all(prometheus.map(async (p) => (await p.query('count by (target) (sstp_target_up == 1)')).length))).every((n) => n === 4),
      45_000,
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.allSettled([...services.map((s) => s.stop()), stopAllDaemons(), webhook?.close(), closeAllRras()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('splits the targets: each shard exports exactly the servers its stable hash holds, labelled with the site', async () => {
    const exported = await prometheus[0]!.query('sstp_target_up');
    for (const [index, service] of services.entries()) {
      const mine = exported.filter((s) => s.metric.instance === `127.0.0.1:${service.port}`).map((s) => s.metric.target).sort();
      const expected = Object.values(GROUPS).flat().filter((name) => inShard(name, { index: index + 1, count: SHARDS.length })).sort();
      expect(mine, `shard ${index + 1}/${SHARDS.length}`).toEqual(expected);
    }
    // the group under test is split: each shard sees one of its two servers
    expect(inShard('rras-1', { index: 1, count: 2 })).not.toBe(inShard('rras-2', { index: 1, count: 2 }));
    expect(new Set(exported.map((s) => s.metric.site))).toEqual(new Set([SITE]));
  });

  it('both Alertmanagers are one cluster: each lists both peers', async () => {
    for (const am of alertmanagers) {
      const status = (await (await fetch(`${am.url}/api/v2/status`)).json()) as { cluster: { peers: unknown[] } };
      expect(status.cluster.peers, am.address).toHaveLength(2);
    }
  });

  it('one server stops: one SSTPServerDown and one SSTPRedundancyLost notification, no SSTPServiceDown for the half its shard sees', async () => {
    const stoppedAt = Date.now();
    await rras.get('rras-1')!.setBehavior('stopped');
    const serverDown = await webhook!.waitForAlert('SSTPServerDown rras-1', firing('SSTPServerDown', { target: 'rras-1' }), { since: stoppedAt, timeoutMs: 45_000 });
    await webhook!.waitForAlert('SSTPRedundancyLost vpn-split', firing('SSTPRedundancyLost', { group: 'vpn-split' }), { since: stoppedAt, timeoutMs: 45_000 });
    expect(serverDown.labels).toMatchObject({ target: 'rras-1', group: 'vpn-split', role: 'server', site: SITE, job: 'sstpwatch' });
    expect(serverDown.labels.instance, 'the scrape target is aggregated away').toBeUndefined();
    expect(serverDown.labels.replica, 'the replica label is dropped from alerts').toBeUndefined();

    // The second Alertmanager would have sent after its peer timeout, and each replica resends every second:
    // wait well past both before counting.
    await new Promise((r) => setTimeout(r, (3 * PEER_TIMEOUT_S + 5) * 1000));
    const received = webhook!.alerts().filter((a) => a.receivedAt >= stoppedAt && a.status === 'firing');
    const summary = received.map((a) => `${a.labels.alertname} ${a.labels.target ?? a.labels.group}`);
    expect(received.filter(firing('SSTPServerDown')), summary.join('\n')).toHaveLength(1);
    expect(received.filter(firing('SSTPRedundancyLost')), summary.join('\n')).toHaveLength(1);
    expect(received.filter(firing('SSTPServiceDown')), summary.join('\n')).toHaveLength(0);
    // Both replicas do fire it: the deduplication is Alertmanager's, not one replica being silent.
    for (const p of prometheus) {
      const alerts = (await p.alerts()).filter((a) => a.state === 'firing' && a.labels.alertname === 'SSTPServerDown');
      expect(alerts.map((a) => a.labels.target)).toEqual(['rras-1']);
    }
  }, 90_000);
});

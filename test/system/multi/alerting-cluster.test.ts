// Alerting stays single with several sstpwatch instances, through the real programs on loopback: two sstpwatch
// processes on static shards (`shard: 1/2` and `2/2`, each its own SQLite file) <- the HA Prometheus pair of
// prometheus/ha/ (both replicas scrape both instances, the shipped rules with every `for:` shortened to 1s) ->
// the two-node Alertmanager cluster of prometheus/ha/ (--cluster.listen-address/--cluster.peer) -> a webhook.
// One fake RRAS server stops: one notification per alert arrives, although two Prometheus replicas send it to two
// Alertmanagers, and the group its shard sees alone is not declared down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inShard } from '../../../src/config/sharding.js';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { alertIs, RESEND_ALERTS_EVERY_SECOND, shippedRulesAtTestSpeed, webhookAlertmanagerConfig } from '../../fixtures/alerting.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { alertmanagerClusterArgs, haPrometheusConfig } from '../../fixtures/ha-examples.js';
import { startAlertmanager, startPrometheus, startWebhookReceiver, type RunningAlertmanager, type RunningPrometheus, type WebhookReceiver } from '../../fixtures/prometheus.js';
import { groupLines, serviceSetup, type ServiceSetup } from '../../fixtures/service-setup.js';
import { freePort, waitFor, type RunningService } from '../../fixtures/service.js';

const SITE = 'dc1';
/** vpn-split's two servers fall to different shards (the stable hash is pinned: docs/sharding.md). */
const GROUPS = { 'vpn-split': ['rras-1', 'rras-2'], 'vpn-other': ['rras-3', 'rras-4'] } as const;
const SHARDS = [1, 2] as const;
/** The second Alertmanager waits this long for the first to send (15 s in the example). */
const PEER_TIMEOUT_S = 2;

describe('two static shards behind an HA Prometheus pair and a two-node Alertmanager cluster', () => {
  /** One set-up (temp dir, port, sstpwatch) per shard. */
  const setups: ServiceSetup[] = [];
  const services: RunningService[] = [];
  const prometheus: RunningPrometheus[] = [];
  const alertmanagers: RunningAlertmanager[] = [];
  let webhook: WebhookReceiver | undefined;
  const rras = new Map<string, FakeRras>();

  const firing = (alertname: string, labels: Record<string, string> = {}) => alertIs(alertname, 'firing', labels);

  beforeAll(async () => {
    setups.push(...(await Promise.all(SHARDS.map((shard) => serviceSetup(`multi-alerting-${shard}`)))));
    const certs = setups[0]!.certs;
    const names = Object.values(GROUPS).flat();
    const servers = await Promise.all(names.map(() => startRras(certs.valid)));
    names.forEach((name, i) => rras.set(name, servers[i]!));

    // One config for both instances but for listen, database and shard.
    for (const [index, setup] of setups.entries()) {
      setup.writeConfig([
        `database: ./shard-${SHARDS[index]}.db`,
        `site: ${SITE}`,
        `shard: "${SHARDS[index]}/${SHARDS.length}"`,
        'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
        'groups:',
        ...Object.entries(GROUPS).flatMap(([group, members]) => groupLines(group, Object.fromEntries(members.map((name) => [name, rras.get(name)!.url])))),
      ]);
    }

    // Every alert its own notification, sent at once, never repeated during the test; resolved ones too.
    webhook = await startWebhookReceiver();
    const amConfig = webhookAlertmanagerConfig(webhook.url, { group_by: ['alertname', 'group', 'target', 'site'], group_interval: '10m' });
    const clusterPorts = await Promise.all([freePort(), freePort()]);
    const cluster: [string, string] = [`127.0.0.1:${clusterPorts[0]}`, `127.0.0.1:${clusterPorts[1]}`];
    const [started, nodes] = await Promise.all([
      Promise.all(setups.map((setup) => setup.start())),
      Promise.all(([1, 2] as const).map((node) => startAlertmanager({ config: amConfig, cluster: alertmanagerClusterArgs(node, cluster, `${PEER_TIMEOUT_S}s`) }))),
    ]);
    services.push(...started);
    alertmanagers.push(...nodes);
    const rules = shippedRulesAtTestSpeed(['alerts.yml', 'alerts-certificates.yml']);
    const targets = setups.map((setup) => setup.address);
    prometheus.push(
      ...(await Promise.all(
        (['a', 'b'] as const).map((replica) =>
          startPrometheus({
            config: haPrometheusConfig(replica, { targets, alertmanagers: alertmanagers.map((am) => am.address), interval: '1s' }),
            files: rules,
            args: [RESEND_ALERTS_EVERY_SECOND],
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
    await Promise.allSettled([...setups.map((setup) => setup.close()), webhook?.close()]);
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

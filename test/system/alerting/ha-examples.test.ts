// prometheus/ha/: the HA Prometheus pair and the two-node Alertmanager cluster, checked by the real promtool and
// amtool, and the cluster formed by the real Alertmanager with the shipped flags (on loopback addresses).
// test/system/multi/alerting-cluster.test.ts runs the whole chain with them.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  alertmanagerClusterArgs,
  alertmanagerExampleArgs,
  EXAMPLE_CLUSTER_ADDRESSES,
  HA_DIR,
  haPrometheusExample,
  PROMETHEUS_DIR,
} from '../../fixtures/ha-examples.js';
import { runTool, startAlertmanager, stopAllDaemons } from '../../fixtures/prometheus.js';
import { freePort } from '../../fixtures/service.js';

afterAll(stopAllDaemons);

describe('the HA Prometheus pair (prometheus/ha/prometheus-{a,b}.yml)', () => {
  it.each(['a', 'b'])('replica %s passes promtool check config, both rule files included', (replica) => {
    const run = runTool('promtool', ['check', 'config', join(HA_DIR, `prometheus-${replica}.yml`)]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS: 2 rule files found');
  });

  it('the replicas differ in their replica label only', () => {
    const [a, b] = [haPrometheusExample('a'), haPrometheusExample('b')];
    expect(a.global.external_labels.replica).toBe('a');
    expect(b.global.external_labels.replica).toBe('b');
    const withoutReplica = (c: ReturnType<typeof haPrometheusExample>) => ({ ...c, global: { ...c.global, external_labels: {} } });
    expect(withoutReplica(a)).toEqual(withoutReplica(b));
  });

  it('each drops the replica label from its alerts and sends them to every Alertmanager of the cluster', () => {
    const config = haPrometheusExample('a');
    expect(config.alerting.alert_relabel_configs).toEqual([{ action: 'labeldrop', regex: 'replica' }]);
    const alertmanagers = config.alerting.alertmanagers.flatMap((am) => am.static_configs.flatMap((s) => s.targets));
    expect(alertmanagers).toEqual(EXAMPLE_CLUSTER_ADDRESSES.map((address) => address.replace(':9094', ':9093')));
  });

  it('scrapes every sstpwatch instance in one job and loads the shipped rule files', () => {
    const config = haPrometheusExample('a');
    expect(config.scrape_configs).toHaveLength(1);
    expect(config.scrape_configs[0]!.static_configs[0]!.targets.length).toBeGreaterThanOrEqual(3);
    expect(config.rule_files).toEqual(['../alerts.yml', '../alerts-certificates.yml']);
  });
});

describe('the two-node Alertmanager cluster (prometheus/ha/alertmanager-{1,2}.default)', () => {
  it('each node listens on its own address and names the other as its peer', () => {
    const [one, two] = [alertmanagerExampleArgs(1), alertmanagerExampleArgs(2)];
    expect(one).toContain(`--cluster.listen-address=${EXAMPLE_CLUSTER_ADDRESSES[0]}`);
    expect(one).toContain(`--cluster.peer=${EXAMPLE_CLUSTER_ADDRESSES[1]}`);
    expect(two).toContain(`--cluster.listen-address=${EXAMPLE_CLUSTER_ADDRESSES[1]}`);
    expect(two).toContain(`--cluster.peer=${EXAMPLE_CLUSTER_ADDRESSES[0]}`);
  });

  it('both nodes run the shipped alertmanager.example.yml, which amtool accepts', () => {
    const run = runTool('amtool', ['check-config', join(PROMETHEUS_DIR, 'alertmanager.example.yml')]);
    expect(run.code, run.output).toBe(0);
  });

  it('the real Alertmanager, started with those flags, forms one cluster of two: amtool cluster show on each node lists both', async () => {
    const ports = await Promise.all([freePort(), freePort()]);
    const cluster: [string, string] = [`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`];
    const config = JSON.stringify({ route: { receiver: 'none' }, receivers: [{ name: 'none' }] });
    const nodes = await Promise.all(([1, 2] as const).map((node) => startAlertmanager({ config, cluster: alertmanagerClusterArgs(node, cluster) })));
    for (const node of nodes) {
      let peers: string[] = [];
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && peers.length < 2) {
        const run = runTool('amtool', ['cluster', 'show', '-o', 'json', `--alertmanager.url=${node.url}`]);
        expect(run.code, run.output).toBe(0);
        peers = (JSON.parse(run.stdout) as { peers: Array<{ address: string }> }).peers.map((p) => p.address).sort();
        if (peers.length < 2) await new Promise((r) => setTimeout(r, 250));
      }
      expect(peers, node.address).toEqual([...cluster].sort());
    }
  }, 60_000);
});

// Metric naming: what `promtool check metrics` and Prometheus' conventions ask of every family sstpwatch
// exports.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCertificateMetrics } from '../../src/metrics/certificates.js';
import { DROPPED_PROCESS_GAUGES, createMetrics } from '../../src/metrics/metrics.js';
import { createReloadMetrics } from '../../src/metrics/reload.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { probeResult } from '../fixtures/domain.js';
import { runTool } from '../fixtures/prometheus.js';

const labels = { target: 'rras-1', group: 'vpn-eu', role: 'server' as const };
const DAY = 86_400_000;

function withCertificate(result: ProbeResult, at: number): ProbeResult {
  return {
    ...result,
    phasesMs: { dns: 0.1, connect: 0.4, tls: 6.2, processing: 5.7 },
    certificate: { subject: 'CN=vpn.example.test', issuer: 'CN=Test CA', san: ['vpn.example.test'], notBefore: at - DAY, notAfter: at + 30 * DAY, sha256: 'AB12', keyType: 'RSA', keyBits: 2048 },
  };
}

/** A registry holding every family sstpwatch's service registers, each with at least one sample. */
async function everyFamily(): Promise<string> {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const certificates = createCertificateMetrics(registry);
  const reload = createReloadMetrics(registry);
  const now = Date.now();
  const result = withCertificate(probeResult(now, true), now);
  metrics.observe('head', labels, result);
  metrics.setHealth(labels, { state: 'up', since: now, consecutiveFailures: 0, consecutiveSuccesses: 2, lastResult: result, maintenance: null, underlying: 'up' });
  metrics.setGroup('vpn-eu', { state: 'ok', serversUp: 1, serversTotal: 1 });
  metrics.setProbeInterval(labels, 30);
  metrics.observe('sstp', labels, { ...result, sstp: undefined });
  metrics.observeLag(0.002);
  metrics.trackStoreWrites(() => ({ failedWrites: 1, pending: 3, dropped: 1 }));
  certificates.setChain(labels, { serverAuthEku: true, nameMatchesHostname: true, chainTrusted: true, chainError: null, earliestExpiry: { notAfter: now + 30 * DAY, position: 'leaf', subject: 'CN=vpn.example.test', sha256: 'AB12' } }, false);
  certificates.setRevocation(labels, [{ key: 'http://127.0.0.1/ca.crl', url: 'http://127.0.0.1/ca.crl', kind: 'crl', position: 'leaf', subject: 'CN=vpn.example.test', serialNumber: '01', status: { url: 'http://127.0.0.1/ca.crl', kind: 'crl', checkedAt: now, reachable: true, error: null, httpStatus: 200, thisUpdate: now, nextUpdate: now + DAY, signature: 'valid' } as never }]);
  certificates.setGroup('vpn-eu', { servers: true, vip: null, offloadHash: null });
  reload.succeeded(now);
  return registry.metrics();
}

function families(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

describe('metric names', () => {
  it('pass promtool check metrics, process metrics included', async () => {
    const text = await everyFamily();
    const run = runTool('promtool', ['check', 'metrics'], undefined, text);
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  it('end in _total only for counters', async () => {
    const gaugesNamedTotal = [...families(await everyFamily())].filter(([name, type]) => name.endsWith('_total') && type !== 'counter');
    expect(gaugesNamedTotal).toEqual([]);
  });

  it('leave out the process collector gauges that promtool rejects', async () => {
    const types = families(await everyFamily());
    for (const name of DROPPED_PROCESS_GAUGES) expect(types.has(name), name).toBe(false);
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
  });

  it('say sstpwatch_ for facts about sstpwatch itself and sstp_ for facts about targets and groups', async () => {
    const own = [...families(await everyFamily()).keys()].filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
    const selfMetrics = own.filter((name) => name.startsWith('sstpwatch_'));
    expect(selfMetrics).toEqual(expect.arrayContaining([
      'sstpwatch_config_last_reload_success_timestamp_seconds',
      'sstpwatch_config_last_reload_successful',
      'sstpwatch_scheduler_lag_seconds',
      'sstpwatch_store_dropped_results_total',
      'sstpwatch_store_pending_results',
      'sstpwatch_store_write_failures_total',
    ]));
    expect(own.filter((name) => !name.startsWith('sstpwatch_') && !name.startsWith('sstp_'))).toEqual([]);
    expect(own).toContain('sstp_group_servers');
    expect(own).not.toContain('sstp_group_servers_total');
  });
});

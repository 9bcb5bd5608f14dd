// A fleet's life in metrics: results, failures, a certificate replaced, a chain position moved, a deep check
// accepted then refused, maintenance, a cron schedule, a target and a group removed. The golden text beside it
// (golden/scenario.prom) is what prom-client's own gauges, counters and histograms wrote for it: the exposition must
// keep every family, HELP, TYPE and series of it.
import { Registry } from 'prom-client';
import { createCertificateMetrics } from '../../src/metrics/certificates.js';
import { createMetrics, type MetricsOptions } from '../../src/metrics/metrics.js';
import type { TargetHealth, TargetState } from '../../src/health/types.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { probeResult } from '../fixtures/domain.js';
import { DAY, withCertificate } from '../fixtures/metric-families.js';

const T0 = 1_700_000_000_000;

function health(state: TargetState, consecutiveFailures: number): TargetHealth {
  return { state, since: T0, consecutiveFailures, consecutiveSuccesses: 0, lastResult: null, maintenance: null, underlying: state === 'maintenance' ? 'up' : state };
}

function deep(at: number, reply: 'ack' | 'nak', hashBitmask: number | null): ProbeResult {
  return {
    ...probeResult(at, reply === 'ack', { kind: 'sstp_nak', message: 'nak' }),
    phasesMs: { dns: 0, connect: 0.5, tls: 2 },
    sstp: { reply, stagesMs: reply === 'ack' ? { http: 1, call: 1.5, disconnect: 0.5 } : { http: 1 }, hashBitmask } as never,
  };
}

const chain = (position: 'leaf' | 'intermediate', notAfter: number) => ({
  serverAuthEku: true, nameMatchesHostname: position === 'leaf', chainTrusted: true, chainError: null,
  earliestExpiry: { notAfter, position, subject: 'CN=x', sha256: 'AB' },
});

function crl(url: string, reachable: boolean) {
  return { key: url, url, kind: 'crl' as const, position: 'leaf' as const, subject: 'CN=x', serialNumber: '01', status: { url, kind: 'crl', checkedAt: T0, reachable, error: null, httpStatus: 200, thisUpdate: T0, nextUpdate: T0 + DAY, signature: reachable ? 'valid' : null } as never };
}
function ocsp(url: string, status: 'good' | 'revoked') {
  return { key: url, url, kind: 'ocsp' as const, position: 'leaf' as const, subject: 'CN=x', serialNumber: '01', status: { url, kind: 'ocsp', checkedAt: T0, reachable: true, error: null, httpStatus: 200, thisUpdate: T0, nextUpdate: null, signature: 'invalid', ocspStatus: status } as never };
}

/** Plays the scenario into a new registry (no process metrics) and returns it. */
export function playScenario(options: Omit<MetricsOptions, 'processMetrics'> = {}): Registry {
  const registry = new Registry();
  const metrics = createMetrics(registry, { ...options, processMetrics: false });
  const certificates = createCertificateMetrics(registry, { constantLabels: options.constantLabels });
  const t1 = { target: 'rras-1', group: 'vpn-a', role: 'server' as const };
  const t2 = { target: 'rras "2"', group: 'vpn-a', role: 'server' as const };
  const t3 = { target: 'vip-b', group: 'vpn-b', role: 'vip' as const };
  const t4 = { target: 'rras-gone', group: 'vpn-c', role: 'server' as const };
  const thresholds = { certificates: { warnDays: 21, criticalDays: 7 }, slowThresholdMs: 1500 };
  for (const t of [t1, t2, t3, t4]) {
    metrics.setThresholds(t, thresholds);
    metrics.setProbeInterval(t, 30);
    metrics.setHealth(t, health('unknown', 0));
  }
  metrics.observe('head', t1, withCertificate(probeResult(T0, true, undefined, 42), T0));
  metrics.observe('head', t1, { ...probeResult(T0 + 30_000, false, { kind: 'connect_refused', message: 'refused', durationMs: 3 }), phasesMs: { dns: 0, connect: 2.5 } });
  metrics.observe('head', t1, { ...probeResult(T0 + 60_000, false, { kind: 'timeout', message: 'timeout', durationMs: 10_000 }), phasesMs: { dns: 0 } });
  metrics.setHealth(t1, health('down', 2));
  metrics.observe('head', t2, withCertificate(probeResult(T0, true, undefined, 7), T0));
  const renewed = withCertificate(probeResult(T0 + 30_000, true, undefined, 0.3), T0 + 30_000);
  metrics.observe('head', t2, { ...renewed, certificate: { ...renewed.certificate!, sha256: 'CD34', subject: 'CN=vpn.example.test, O="Back\\slash"', notAfter: T0 + 90 * DAY } });
  metrics.setHealth(t2, health('up', 0));
  metrics.observe('head', t3, withCertificate(probeResult(T0, true, undefined, 2_600), T0));
  metrics.observe('sstp', t3, deep(T0 + 1_000, 'ack', 0x03));
  metrics.observe('sstp', t3, deep(T0 + 2_000, 'nak', null));
  metrics.setHealth(t3, health('maintenance', 0));
  metrics.setProbeInterval(t3, null);
  metrics.observe('head', t4, withCertificate(probeResult(T0, true), T0));
  metrics.setHealth(t4, health('up', 0));
  metrics.setGroup('vpn-a', { state: 'degraded', serversUp: 1, serversTotal: 2 } as never);
  metrics.setGroup('vpn-b', { state: 'ok', serversUp: 0, serversTotal: 0 } as never);
  metrics.setGroup('vpn-c', { state: 'ok', serversUp: 1, serversTotal: 1 } as never);

  certificates.setChain(t1, chain('leaf', T0 + 30 * DAY), null);
  certificates.setRevocation(t1, [crl('http://127.0.0.1/a.crl', true), ocsp('http://127.0.0.1/ocsp', 'good')]);
  certificates.setChain(t2, chain('leaf', T0 + 30 * DAY), false);
  certificates.setChain(t2, chain('intermediate', T0 + 20 * DAY), true);
  certificates.setRevocation(t2, [crl('http://127.0.0.1/old.crl', true)]);
  certificates.setRevocation(t2, [crl('http://127.0.0.1/b.crl', false), ocsp('http://127.0.0.1/ocsp', 'revoked')]);
  certificates.setChain(t4, chain('leaf', T0 + DAY), false);
  certificates.setRevocation(t4, [crl('http://127.0.0.1/a.crl', true)]);
  certificates.setGroup('vpn-a', { servers: false, vip: null, offloadHash: null });
  certificates.setGroup('vpn-b', { servers: true, vip: true, offloadHash: false });
  certificates.setGroup('vpn-c', { servers: true, vip: null, offloadHash: null });

  metrics.forgetTarget(t4);
  certificates.forgetTarget(t4);
  metrics.forgetGroup('vpn-c');
  certificates.forgetGroup('vpn-c');
  metrics.observeLag(0.002);
  metrics.observeLag(1.2);
  metrics.observeMonitorError();
  metrics.trackStoreWrites(() => ({ failedWrites: 2, pending: 5, dropped: 1 }));
  return registry;
}

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';

// sstp_probe_interval_seconds feeds the SSTPProbesStale alert rule (prometheus/alerts.yml).
describe('sstp_probe_interval_seconds', () => {
  const labels = { target: 'rras-1', group: 'vpn-eu', role: 'server' as const };

  it('is the configured interval, absent for a cron schedule, and forgotten with the target', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { processMetrics: false });
    metrics.setProbeInterval(labels, 30);
    expect(await registry.metrics()).toContain('sstp_probe_interval_seconds{target="rras-1",group="vpn-eu",role="server"} 30');

    metrics.setProbeInterval(labels, null);
    expect(await registry.metrics()).not.toContain('sstp_probe_interval_seconds{');

    metrics.setProbeInterval(labels, 10);
    metrics.forgetTarget(labels);
    expect(await registry.metrics()).not.toContain('sstp_probe_interval_seconds{');
  });
});

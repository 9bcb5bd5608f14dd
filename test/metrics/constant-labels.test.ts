// Constant labels (config `site`): every per-target and per-group series carries them; sstpwatch's own series and
// the process metrics do not; without them the text is what it always was.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCertificateMetrics } from '../../src/metrics/certificates.js';
import { renderExposition } from '../../src/metrics/exposition.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { everyFamily } from '../fixtures/metric-families.js';
import { runTool } from '../fixtures/prometheus.js';

const samples = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#'));
const NOW = 1_700_000_000_000;

describe('constant labels', () => {
  it('are carried by every sstp_ series and by no sstpwatch_, process_ or nodejs_ series', async () => {
    const text = await renderExposition(everyFamily({ constantLabels: { site: 'lan' }, now: NOW }).registry);
    const lines = samples(text);
    const perTarget = lines.filter((line) => line.startsWith('sstp_'));
    expect(perTarget.length).toBeGreaterThan(40);
    for (const line of perTarget) expect(line, line).toContain('site="lan"');
    for (const line of lines.filter((l) => !l.startsWith('sstp_'))) expect(line, line).not.toContain('site=');
    expect(lines).toContain('sstp_target_up{target="rras-1",group="vpn-eu",role="server",site="lan"} 1');
    expect(lines).toContain('sstp_group_servers{group="vpn-eu",site="lan"} 1');
    expect(lines).toContain('sstp_target_state{target="rras-1",group="vpn-eu",role="server",site="lan",state="down"} 0');
  });

  it('pass promtool check metrics', async () => {
    const run = runTool('promtool', ['check', 'metrics'], undefined, await renderExposition(everyFamily({ constantLabels: { site: 'lan' } }).registry));
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  it('leave the text exactly as without them when none are given', async () => {
    const none = await renderExposition(everyFamily({ processMetrics: false, now: NOW }).registry);
    const empty = await renderExposition(everyFamily({ processMetrics: false, now: NOW, constantLabels: {} }).registry);
    expect(empty).toBe(none);
    expect(none).not.toContain('site=');
  });

  it('go away with the target and group they were set with', async () => {
    const { registry, metrics, certificates } = everyFamily({ constantLabels: { site: 'lan' }, processMetrics: false, now: NOW });
    const labels = { target: 'rras-1', group: 'vpn-eu', role: 'server' as const };
    metrics.forgetTarget(labels);
    certificates.forgetTarget(labels);
    metrics.forgetGroup('vpn-eu');
    certificates.forgetGroup('vpn-eu');
    expect(samples(await renderExposition(registry)).filter((line) => line.startsWith('sstp_'))).toEqual([]);
  });

  it('refuse a name that is no Prometheus label name or that a series sets itself', () => {
    expect(() => createMetrics(new Registry(), { processMetrics: false, constantLabels: { 'si-te': 'lan' } })).toThrow(/not a valid Prometheus label name/);
    expect(() => createMetrics(new Registry(), { processMetrics: false, constantLabels: { __site: 'lan' } })).toThrow(/not a valid Prometheus label name/);
    expect(() => createCertificateMetrics(new Registry(), { constantLabels: { group: 'x' } })).toThrow(/set themselves/);
  });
});

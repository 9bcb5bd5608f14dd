// /metrics is written by exposition.ts, not prom-client: the text must be what prom-client writes, series for series.
import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { expositionChunks, renderExposition } from '../../src/metrics/exposition.js';
import { TimeSlicer } from '../../src/time-slice.js';
import { probeResult } from '../fixtures/domain.js';
import { runTool } from '../fixtures/prometheus.js';
import { playScenario } from './scenario.js';

/** Each family's HELP and TYPE lines and its samples, sorted: the order of series within a family carries no meaning. */
function families(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const block of text.trimEnd().split('\n\n')) {
    const [help, type, ...samples] = block.split('\n');
    byName.set(type!.split(' ')[2]!, [help!, type!, ...samples.sort()]);
  }
  return byName;
}

const golden = (name: string) => readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8');

describe('the metrics exposition', () => {
  it("keeps every family, HELP, TYPE and series prom-client's gauges, counters and histograms wrote for a fleet's life", async () => {
    const text = await renderExposition(playScenario());
    expect(families(text)).toEqual(families(golden('scenario.prom')));
    expect([...families(text).keys()]).toEqual([...families(golden('scenario.prom')).keys()]);
  });

  it('keeps them with families excluded, and leaves the excluded ones out entirely', async () => {
    const registry = playScenario({ exclude: ['duration_histogram', 'phases', 'cert_info', 'result_counters'] });
    expect(families(await renderExposition(registry))).toEqual(families(golden('scenario-excluded.prom')));
    for (const name of ['sstp_probe_duration_seconds', 'sstp_probe_phase_seconds', 'sstp_handshake_stage_seconds', 'sstp_cert_info', 'sstp_probes_total']) {
      expect(registry.getSingleMetric(name), `${name} is never created`).toBeUndefined();
    }
  });

  it('passes promtool check metrics for that fleet', async () => {
    const run = runTool('promtool', ['check', 'metrics'], undefined, await renderExposition(playScenario()));
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  it("writes exactly prom-client's text for the contract's metrics of a fleet", async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { processMetrics: false });
    // Enough targets for many chunks, with names of 2- and 3-byte UTF-8 characters across their boundaries.
    for (let i = 0; i < 1000; i++) {
      const labels = { target: i % 3 ? `rras-${i}` : `rras-zürich-€-${i}`, group: `vpn-${i % 5}`, role: 'server' as const };
      metrics.observe('head', labels, { ...probeResult(1_700_000_000_000 + i, i % 7 !== 0), phasesMs: { dns: 0, connect: 0.4, tls: 6.1, processing: 2 } });
      metrics.setProbeInterval(labels, 30);
    }
    metrics.observeLag(0.002);
    expect(await renderExposition(registry)).toBe(await registry.metrics());
  });

  it('escapes label values and help text, and writes NaN and infinities, as prom-client does', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'odd_gauge', help: 'back\\slash and\nnewline', labelNames: ['v'], registers: [registry] });
    gauge.set({ v: 'quote " back\\slash \n newline' }, Number.NaN);
    gauge.set({ v: 'plain' }, Number.POSITIVE_INFINITY);
    gauge.set({ v: 'minus' }, Number.NEGATIVE_INFINITY);
    new Counter({ name: 'plain_total', help: 'no labels', registers: [registry] }).inc(3);
    const histogram = new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
    histogram.observe(0.5);
    new Histogram({ name: 'empty_seconds', help: 'never observed', labelNames: ['x'], buckets: [1], registers: [registry] });
    expect(await renderExposition(registry)).toBe(await registry.metrics());
  });

  it('lets timers run while a large registry is written, once a slice has had its time', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'many', help: 'many series', labelNames: ['i'], registers: [registry] });
    for (let i = 0; i < 20_000; i++) gauge.set({ i: String(i) }, i);
    createMetrics(registry, { processMetrics: false }).observe('head', { target: 'a', group: 'g', role: 'server' }, probeResult(0, true));
    // A clock that moves 1 ms each time it is read: every few reads a slice of 5 ms is over.
    let now = 0;
    const slicer = new TimeSlicer(5, () => now++, nextTurn);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const chunks: Buffer[] = [];
    for await (const chunk of expositionChunks(registry, slicer)) chunks.push(chunk);
    clearInterval(timer);
    expect(slicer.pauses).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(0); // prom-client's registry.metrics() gives none: it never yields
    expect(Buffer.concat(chunks).toString('utf8')).toBe(await renderExposition(registry));
  });
});

describe('metrics.exclude', () => {
  it('leaves each excluded family out of the exposition and keeps every other series', async () => {
    const fleet = (exclude: Parameters<typeof createMetrics>[1] extends infer O ? O extends { exclude?: infer E } ? E : never : never) => {
      const registry = new Registry();
      const metrics = createMetrics(registry, { processMetrics: false, exclude });
      const labels = { target: 'rras-1', group: 'vpn', role: 'server' as const };
      metrics.observe('head', labels, { ...probeResult(1_700_000_000_000, true), phasesMs: { dns: 0, connect: 0.4, tls: 6.1, processing: 2 } });
      metrics.setThresholds(labels, { certificates: { warnDays: 21, criticalDays: 7 }, slowThresholdMs: 1000 });
      return renderExposition(registry);
    };
    const names = (text: string) => new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));
    const all = names(await fleet([]));
    const trimmed = names(await fleet(['duration_histogram', 'phases', 'thresholds']));
    const gone = [...all].filter((n) => !trimmed.has(n)).sort();
    expect(gone).toEqual([
      'sstp_cert_critical_threshold_seconds', 'sstp_cert_warning_threshold_seconds',
      'sstp_probe_duration_seconds_bucket', 'sstp_probe_duration_seconds_count', 'sstp_probe_duration_seconds_sum',
      'sstp_probe_phase_seconds', 'sstp_probe_slow_threshold_seconds',
    ]);
    expect([...trimmed].every((n) => all.has(n))).toBe(true);
  });
});

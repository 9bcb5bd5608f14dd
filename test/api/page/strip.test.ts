import { describe, expect, it } from 'vitest';
import { describeStrip, minuteStrip, renderStrip, summarizeStrip } from '../../../src/api/page/strip.js';
import type { RollupPoint } from '../../../src/store/store.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 21, 0, 0);
const rollup = (minute: number, probes: number, failures: number, avgMs: number, maxMs = avgMs): RollupPoint => ({
  at: T0 + minute * MIN,
  probes,
  failures,
  avgMs,
  maxMs,
  p95Ms: maxMs,
});

describe('minuteStrip', () => {
  it('gives one bucket per minute, oldest first, ending with the minute holding now', () => {
    const strip = minuteStrip([], [], T0 + 4 * MIN + 30_000, 5);
    expect(strip.map((b) => b.at)).toEqual([0, 1, 2, 3, 4].map((m) => T0 + m * MIN));
    expect(strip.every((b) => b.probes === 0 && b.avgMs === null)).toBe(true);
  });

  it('takes rolled-up minutes from the rollups and the rest from raw results', () => {
    const now = T0 + 4 * MIN + 10_000;
    const raw = [
      { at: T0 + 3 * MIN + 1000, ok: true, durationMs: 10 },
      { at: T0 + 3 * MIN + 31_000, ok: false, durationMs: 30 },
      { at: T0 + 4 * MIN + 1000, ok: true, durationMs: 5 },
      // Inside a rolled-up minute: the rollup wins.
      { at: T0 + 2 * MIN + 1000, ok: false, durationMs: 999 },
      // Before the strip.
      { at: T0 - MIN, ok: false, durationMs: 1 },
    ];
    const strip = minuteStrip([rollup(2, 2, 0, 12, 14), rollup(1, 2, 2, 50)], raw, now, 5);
    expect(strip).toEqual([
      { at: T0, probes: 0, failures: 0, avgMs: null, maxMs: null },
      { at: T0 + MIN, probes: 2, failures: 2, avgMs: 50, maxMs: 50 },
      { at: T0 + 2 * MIN, probes: 2, failures: 0, avgMs: 12, maxMs: 14 },
      { at: T0 + 3 * MIN, probes: 2, failures: 1, avgMs: 20, maxMs: 30 },
      { at: T0 + 4 * MIN, probes: 1, failures: 0, avgMs: 5, maxMs: 5 },
    ]);
    expect(summarizeStrip(strip)).toEqual({ probes: 7, failures: 3, minutesWithData: 4, minutesDown: 1, avgMs: (100 + 24 + 40 + 5) / 7, maxMs: 50 });
    expect(describeStrip(strip)).toBe('7 probes, 3 failed · avg 24 ms, max 50 ms');
  });

  it('says so when nothing was probed', () => {
    expect(describeStrip(minuteStrip([], [], T0, 60))).toBe('no probes in the last 60 minutes');
  });
});

describe('renderStrip', () => {
  it('draws a full-height failed bar, latency-scaled ok and partial bars, and nothing for empty minutes', () => {
    const strip = minuteStrip([rollup(0, 2, 2, 40), rollup(1, 2, 0, 40), rollup(2, 2, 1, 10)], [], T0 + 3 * MIN, 4);
    const svg = renderStrip(strip).value;
    expect(svg).toContain('<rect class="bar failed" x="0" y="0" width="3" height="24"/>');
    expect(svg).toContain('<rect class="bar ok" x="4" y="0" width="3" height="24"/>');
    expect(svg).toContain('<rect class="bar partial" x="8" y="12" width="3" height="12"/>');
    expect(svg.match(/class="bar /g)).toHaveLength(4); // three bars and the baseline
    expect(svg).toContain('aria-hidden="true"');
    expect(svg).toContain('<title>6 probes, 3 failed · avg 30 ms, max 40 ms</title>');
  });
});

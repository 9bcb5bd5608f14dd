// The bench's summaries of a long run: a 75-minute steady run at 10,000 targets logs ~1.3 million probe lags, and
// its report must still be written.
import { describe, expect, it } from 'vitest';
import { maxOf, minOf, summarizeLag } from '../../bench/lib/stats.js';

describe('maxOf and minOf', () => {
  it.each([
    { values: [], max: NaN, min: NaN },
    { values: [3], max: 3, min: 3 },
    { values: [0.5, -2, 7, 7, 1], max: 7, min: -2 },
  ])('$values -> max $max, min $min', ({ values, max, min }) => {
    expect(maxOf(values)).toBe(max);
    expect(minOf(values)).toBe(min);
  });

  it('take arrays far longer than a call may have arguments', () => {
    const values = Array.from({ length: 2_000_000 }, (_, i) => (i * 7919) % 1_000_003);
    expect(maxOf(values)).toBe(1_000_002);
    expect(minOf(values)).toBe(0);
  });
});

describe('summarizeLag', () => {
  it('summarizes the lag of 1.5 million probes, those in the window only', () => {
    const samples = Array.from({ length: 1_500_000 }, (_, i) => ({ at: i, seconds: (i % 1000) / 1000 }));
    const summary = summarizeLag(samples, 1000, Infinity);
    expect(summary.samples).toBe(1_499_000);
    expect(summary.max).toBe(0.999);
    expect(summary.p50).toBeCloseTo(0.5, 2);
  });
});

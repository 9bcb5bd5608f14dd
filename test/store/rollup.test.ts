import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS, aggregate, nearestRank, packMinutes, unpackMinutes, uptimeSegments } from '../../src/store/rollup.js';
import { HOUR, MINUTES, SAMPLES, T0 } from '../fixtures/rollup-table.js';

describe('rollup maths', () => {
  it('aggregates minutes as the hand-computed table says, including a bucket with only failures', () => {
    expect(aggregate(SAMPLES, MINUTE_MS)).toEqual(MINUTES);
  });

  it('aggregates the hour from the raw samples, so its p95 is exact (not a mean of minute p95s)', () => {
    expect(aggregate(SAMPLES, HOUR_MS)).toEqual([HOUR]);
  });

  it('does not depend on the order of the samples', () => {
    expect(aggregate([...SAMPLES].reverse(), MINUTE_MS)).toEqual(MINUTES);
  });

  it('takes the nearest-rank percentile', () => {
    expect(nearestRank([], 0.95)).toBe(0);
    expect(nearestRank([7], 0.95)).toBe(7);
    expect(nearestRank(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(nearestRank(Array.from({ length: 101 }, (_, i) => i + 1), 0.95)).toBe(96);
  });
});

describe('uptime segments', () => {
  const cover = (segments: { from: number; to: number }[]) => segments.reduce((n, seg) => n + (seg.to - seg.from), 0);

  it('reads whole rolled-up hours from hour rollups, the edges from minutes, the partial minute and the tail from raw', () => {
    const from = T0 + 90_500; // 21:01:30.5
    const to = T0 + 3 * HOUR_MS + 25 * MINUTE_MS + 12_000; // 00:25:12
    const minuteRolled = T0 + 3 * HOUR_MS + 24 * MINUTE_MS; // 00:24
    const hourRolled = T0 + 3 * HOUR_MS; // 00:00
    expect(uptimeSegments(from, to, minuteRolled, hourRolled)).toEqual([
      { source: 'raw', from, to: T0 + 2 * MINUTE_MS },
      { source: 'minute', from: T0 + 2 * MINUTE_MS, to: T0 + HOUR_MS },
      { source: 'hour', from: T0 + HOUR_MS, to: T0 + 3 * HOUR_MS },
      { source: 'minute', from: T0 + 3 * HOUR_MS, to: minuteRolled },
      { source: 'raw', from: minuteRolled, to },
    ]);
  });

  it('falls back to raw where nothing is rolled up, and always covers [from, to) exactly once', () => {
    const cases: [number, number, number, number][] = [
      [T0, T0 + 5 * HOUR_MS, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      [T0 + 1, T0 + 2, T0 + HOUR_MS, T0 + HOUR_MS],
      [T0, T0 + 5 * HOUR_MS, T0 + 10 * HOUR_MS, T0 + 2 * HOUR_MS],
      [T0 + 59_999, T0 + 30 * 24 * HOUR_MS + 1, T0 + 30 * 24 * HOUR_MS - MINUTE_MS, T0 + 29 * 24 * HOUR_MS],
    ];
    for (const [from, to, m, h] of cases) {
      const segments = uptimeSegments(from, to, m, h);
      expect(cover(segments)).toBe(to - from);
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.from).toBe(segments[i - 1]!.to);
      expect(segments[0]!.from).toBe(from);
      expect(segments.at(-1)!.to).toBe(to);
    }
    expect(uptimeSegments(T0, T0 + 5 * HOUR_MS, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY)).toEqual([{ source: 'raw', from: T0, to: T0 + 5 * HOUR_MS }]);
  });
});

describe('packed minutes', () => {
  it('round-trip the minutes of an hour, leaving out empty minutes, in about 11 bytes a minute', () => {
    expect(unpackMinutes(T0, packMinutes(T0, MINUTES))).toEqual(MINUTES);
    expect(unpackMinutes(T0, packMinutes(T0, []))).toEqual([]);
    const big = { bucket: T0 + 59 * MINUTE_MS, probes: 3600, failures: 1800, counted: 1000, countedFailures: 900, sumUs: 3600 * 5_000_000, maxUs: 2 ** 40, p95Us: 5_000_000 };
    expect(unpackMinutes(T0, packMinutes(T0, [big]))).toEqual([big]);
    const everyMinute = aggregate(
      Array.from({ length: 120 }, (_, i) => ({ at: T0 + i * 30_000, errorKind: 0, excluded: 0, durationUs: 2000 + i * 37 })),
      MINUTE_MS,
    );
    expect(packMinutes(T0, everyMinute).length).toBeLessThanOrEqual(60 * 11);
  });

  it('refuses a bucket outside the hour, and a truncated blob', () => {
    expect(() => packMinutes(T0, [{ ...MINUTES[0]!, bucket: T0 + HOUR_MS }])).toThrow(RangeError);
    expect(() => unpackMinutes(T0, packMinutes(T0, MINUTES).subarray(0, 5))).toThrow(/truncated/);
  });
});

import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS, MinutePacker, aggregate, nearestRank, unpackMinutes, uptimeSegments, type Bucket } from '../../src/store/rollup.js';
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
  const packer = new MinutePacker();

  it('round-trip the minutes of an hour, leaving out empty minutes, in about 11 bytes a minute', () => {
    expect(unpackMinutes(T0, packer.pack(T0, MINUTES))).toEqual(MINUTES);
    expect(unpackMinutes(T0, packer.pack(T0, []))).toEqual([]);
    const big = { bucket: T0 + 59 * MINUTE_MS, probes: 3600, failures: 1800, counted: 1000, countedFailures: 900, sumUs: 3600 * 5_000_000, maxUs: 2 ** 40, p95Us: 5_000_000 };
    expect(unpackMinutes(T0, packer.pack(T0, [big]))).toEqual([big]);
    const everyMinute = aggregate(
      Array.from({ length: 120 }, (_, i) => ({ at: T0 + i * 30_000, errorKind: 0, excluded: 0, durationUs: 2000 + i * 37 })),
      MINUTE_MS,
    );
    expect(packer.pack(T0, everyMinute).length).toBeLessThanOrEqual(60 * 11);
  });

  it('merge fresh minutes of a window into a stored hour to the same bytes as packing the stored minutes outside it with the fresh ones', () => {
    const minute = (m: number, scale: number): Bucket => ({
      bucket: T0 + m * MINUTE_MS, probes: 2 + (m % 3), failures: m % 2, counted: 2, countedFailures: 0, sumUs: scale * (m + 1) * 1_000, maxUs: scale * 900 + m, p95Us: scale * 800,
    });
    const storedBuckets = [0, 1, 5, 17, 30, 31, 58, 59].map((m) => minute(m, 1));
    const stored = packer.pack(T0, storedBuckets);
    const cases: [number, number, number[]][] = [
      [0, 60, []], // the whole hour, nothing fresh: empty
      [31, 32, [31]], // one minute rolled up again
      [32, 33, [32]], // the next minute, appended
      [10, 40, [12, 30, 39]], // a late window over stored and empty minutes
      [-HOUR_MS / MINUTE_MS, 120, [0, 59]], // a window wider than the hour
      [59, 60, [59]],
    ];
    for (const [from, to, freshMinutes] of cases) {
      const windowStart = T0 + from * MINUTE_MS;
      const windowEnd = T0 + to * MINUTE_MS;
      const fresh = freshMinutes.map((m) => minute(m, 1_000));
      const kept = storedBuckets.filter((b) => b.bucket < windowStart || b.bucket >= windowEnd);
      const merged = packer.merge(T0, stored, fresh, windowStart, windowEnd);
      expect(merged).toEqual(packer.pack(T0, [...kept, ...fresh]));
      expect(unpackMinutes(T0, merged)).toEqual([...kept, ...fresh].sort((a, b) => a.bucket - b.bucket));
      expect(packer.merge(T0, undefined, fresh, windowStart, windowEnd)).toEqual(packer.pack(T0, fresh));
    }
    // a blob cut short after its last minute with probes (older writers never did, but a reader accepts it)
    expect(unpackMinutes(T0, packer.merge(T0, packer.pack(T0, [minute(2, 1)]).subarray(0, 12), [minute(4, 1)], T0 + 4 * MINUTE_MS, T0 + 5 * MINUTE_MS))).toEqual([minute(2, 1), minute(4, 1)]);
    expect(() => packer.merge(T0, stored.subarray(0, 5), [], T0, T0 + MINUTE_MS)).toThrow(/truncated/);
  });

  it('keep the bytes of an hour already packed while the packer packs the next ones', () => {
    const first = packer.pack(T0, MINUTES);
    const copy = Buffer.from(first);
    packer.pack(T0, []);
    packer.merge(T0, first, [{ ...MINUTES[0]!, probes: 99 }], T0, T0 + HOUR_MS);
    expect(first).toEqual(copy);
    expect(new MinutePacker().pack(T0, MINUTES)).toEqual(copy);
  });

  it('refuses a bucket outside the hour, and a truncated blob', () => {
    expect(() => packer.pack(T0, [{ ...MINUTES[0]!, bucket: T0 + HOUR_MS }])).toThrow(RangeError);
    expect(() => unpackMinutes(T0, packer.pack(T0, MINUTES).subarray(0, 5))).toThrow(/truncated/);
  });
});

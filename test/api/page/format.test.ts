import { describe, expect, it } from 'vitest';
import { formatDaysLeft, formatLatency, formatRatio, formatSpan, formatUtc } from '../../../src/api/page/format.js';

describe('status page formatting', () => {
  it.each([
    [0, '0 s'],
    [999, '0 s'],
    [45_000, '45 s'],
    [60_000, '1 min'],
    [3_599_000, '59 min'],
    [3_600_000, '1 h'],
    [3_600_000 + 5 * 60_000, '1 h 5 min'],
    [86_400_000, '1 d'],
    [2 * 86_400_000 + 4 * 3_600_000 + 59_000, '2 d 4 h'],
    [-5000, '0 s'],
  ])('a span of %d ms reads %j', (ms, text) => expect(formatSpan(ms)).toBe(text));

  it.each([
    [0.42, '0.4 ms'],
    [9.96, '10 ms'],
    [12.4, '12 ms'],
    [999.4, '999 ms'],
    [1250, '1.25 s'],
  ])('a latency of %d ms reads %j', (ms, text) => expect(formatLatency(ms)).toBe(text));

  it.each([
    [null, 'no data'],
    [1, '100 %'],
    [0.99996, '99.99 %'],
    [0.999, '99.9 %'],
    [0.875, '87.5 %'],
    [0.5, '50 %'],
    [0, '0 %'],
  ])('an uptime ratio of %j reads %j (never rounded up to 100 %%)', (ratio, text) => expect(formatRatio(ratio)).toBe(text));

  it.each([
    [64.7, '64 days left'],
    [1.2, '1 day left'],
    [0.5, 'less than a day left'],
    [-3.2, 'expired 3 days ago'],
    [-0.2, 'expired today'],
  ])('%d days left reads %j', (days, text) => expect(formatDaysLeft(days)).toBe(text));

  it('prints UTC times', () => {
    expect(formatUtc(Date.UTC(2026, 10, 26, 21, 0, 5, 900))).toBe('2026-11-26 21:00:05 UTC');
  });
});

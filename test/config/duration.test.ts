// Durations as config files write them ("1h30m", "14d"): parsing, refusing and formatting back. A pure
// value syntax every duration key relies on, so it is tested on its own.
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/index.js';
import { DAY } from './load-helpers.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['14d', 14 * DAY],
    ['2w', 14 * DAY],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['0s', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '1.5s', '-1s', '10 s', '30m1h', '1s1s', '5 minutes'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });

  it('explains units out of order', () => {
    expect(() => parseDuration('30m1h')).toThrow(
      '"30m1h" is not a duration: units must go from the largest down, each at most once, e.g. "1h30m"',
    );
  });

  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [14 * DAY, '14d'],
    [5_400_000, '1h30m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

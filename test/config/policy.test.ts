import { describe, expect, it } from 'vitest';
import { certLevel, isSlow, thresholdsOf } from '../../src/config/policy.js';

const DAY = 86_400_000;
const NOW = 1_000 * DAY;

describe('the threshold policy', () => {
  it.each([
    [400, 'ok'],
    [21, 'ok'],
    [20.9, 'warning'],
    [7, 'warning'],
    [6.9, 'critical'],
    [0.1, 'critical'],
    [0, 'expired'],
    [-3, 'expired'],
  ])('with the defaults (21 and 7 days), a certificate with %d days left is %s', (days, level) => {
    expect(certLevel(NOW + days * DAY, NOW, thresholdsOf({}).certificates)).toBe(level);
  });

  it.each([
    [{ warnDays: 45, criticalDays: 14 }, 30, 'warning'],
    [{ warnDays: 45, criticalDays: 14 }, 13, 'critical'],
    [{ warnDays: 10, criticalDays: 0 }, 0.5, 'warning'],
    [{ warnDays: 0, criticalDays: 0 }, 0.5, 'ok'],
  ] as const)('with %j, a certificate with %d days left is %s', (thresholds, days, level) => {
    expect(certLevel(NOW + days * DAY, NOW, thresholds)).toBe(level);
  });

  it('calls a probe slow only above the slow threshold (default 1 s)', () => {
    expect(isSlow(1_000, thresholdsOf({}))).toBe(false);
    expect(isSlow(1_001, thresholdsOf({}))).toBe(true);
    expect(isSlow(1_001, thresholdsOf({ slowThresholdMs: 2_000 }))).toBe(false);
  });

  it('takes the settings a target resolved to, and copies them', () => {
    const settings = { certificates: { warnDays: 30, criticalDays: 10 }, slowThresholdMs: 250 };
    const thresholds = thresholdsOf(settings);
    expect(thresholds).toEqual({ certificates: { warnDays: 30, criticalDays: 10 }, slowThresholdMs: 250 });
    thresholds.certificates.warnDays = 1;
    expect(settings.certificates.warnDays).toBe(30);
  });
});

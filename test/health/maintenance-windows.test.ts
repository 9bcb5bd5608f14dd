// The recurrence of configured maintenance windows, checked against instants worked out by hand from the IANA
// rules: Europe/Berlin goes to summer time on 2026-03-29 at 01:00Z (02:00 -> 03:00) and back on 2026-10-25 at
// 01:00Z (03:00 -> 02:00); America/New_York on 2026-03-08 at 07:00Z (02:00 -> 03:00) and 2026-11-01 at 06:00Z
// (02:00 -> 01:00).
import { describe, expect, it } from 'vitest';
import type { MaintenanceRecurrence, MaintenanceWindowConfig } from '../../src/config/types.js';
import { MaintenanceCalendar } from '../../src/health/maintenance-calendar.js';
import { describeWindow, occurrenceAt, occurrencesAfter } from '../../src/health/maintenance-windows.js';
import { formatLocal, instantOf, offsetAt } from '../../src/health/zoned-time.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const day = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

function window(every: MaintenanceRecurrence, start: string, duration: string, timezone: string, over: Partial<MaintenanceWindowConfig> = {}): MaintenanceWindowConfig {
  const [hour, minute] = start.split(':').map(Number) as [number, number];
  const hours = /^(\d+)h$/.exec(duration);
  const minutes = /^(\d+)m$/.exec(duration);
  const durationMs = hours ? Number(hours[1]) * 3_600_000 : Number(minutes![1]) * 60_000;
  return { name: 'w', groups: ['vpn-eu'], targets: [], every, start: { hour, minute }, durationMs, timezone, ...over };
}

const TUESDAY = 2;
const FRIDAY = 5;
const SATURDAY = 6;
const SUNDAY = 0;
const daily = { kind: 'daily' } as const;

describe('a local time becomes an instant', () => {
  it.each([
    { zone: 'Europe/Berlin', date: '2026-01-13', time: '22:00', expected: '2026-01-13T21:00Z', why: 'winter, +01:00' },
    { zone: 'Europe/Berlin', date: '2026-07-14', time: '22:00', expected: '2026-07-14T20:00Z', why: 'summer, +02:00' },
    { zone: 'Europe/Berlin', date: '2026-03-29', time: '01:59', expected: '2026-03-29T00:59Z', why: 'just before the jump' },
    { zone: 'Europe/Berlin', date: '2026-03-29', time: '02:30', expected: '2026-03-29T01:30Z', why: 'does not exist: moved forward by the jump, 03:30 summer time' },
    { zone: 'Europe/Berlin', date: '2026-03-29', time: '03:00', expected: '2026-03-29T01:00Z', why: 'the first summer-time minute' },
    { zone: 'Europe/Berlin', date: '2026-10-25', time: '02:30', expected: '2026-10-25T00:30Z', why: 'occurs twice: the first, in summer time' },
    { zone: 'Europe/Berlin', date: '2026-10-25', time: '03:00', expected: '2026-10-25T02:00Z', why: 'after the repeated hour, winter time' },
    { zone: 'America/New_York', date: '2026-03-08', time: '02:30', expected: '2026-03-08T07:30Z', why: 'does not exist: 03:30 EDT' },
    { zone: 'America/New_York', date: '2026-03-08', time: '01:59', expected: '2026-03-08T06:59Z', why: 'EST, before the jump' },
    { zone: 'America/New_York', date: '2026-11-01', time: '01:30', expected: '2026-11-01T05:30Z', why: 'occurs twice: the first, 01:30 EDT' },
    { zone: 'America/New_York', date: '2026-11-01', time: '02:00', expected: '2026-11-01T07:00Z', why: 'after the repeated hour, EST' },
    { zone: 'UTC', date: '2026-03-29', time: '02:30', expected: '2026-03-29T02:30Z', why: 'UTC has no clock changes' },
  ])('$zone $date $time is $expected ($why)', ({ zone, date, time, expected }) => {
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    expect(iso(instantOf(zone, day(date), hour, minute))).toBe(expected);
  });

  it('prints the local time with the offset in force', () => {
    expect(formatLocal('Europe/Berlin', at('2026-03-29T01:30:00Z'))).toBe('2026-03-29 03:30 +02:00');
    expect(formatLocal('America/New_York', at('2026-11-01T06:30:00Z'))).toBe('2026-11-01 01:30 -05:00');
    expect(offsetAt('Asia/Kolkata', at('2026-01-01T00:00:00Z'))).toBe(5.5 * 3_600_000);
  });
});

describe('which days a window recurs on', () => {
  it.each([
    {
      what: '2nd tuesday in Berlin winter (Dec 1 2026 is a Tuesday; Jan 2027 starts on a Friday)',
      w: window({ kind: 'monthly', nth: 2, day: TUESDAY }, '22:00', '3h', 'Europe/Berlin'),
      from: '2026-11-29T12:00:00Z',
      starts: ['2026-12-08T21:00Z', '2027-01-12T21:00Z', '2027-02-09T21:00Z'],
    },
    {
      what: '2nd tuesday across the spring change: March 10 in winter time, April 14 in summer time',
      w: window({ kind: 'monthly', nth: 2, day: TUESDAY }, '22:00', '3h', 'Europe/Berlin'),
      from: '2027-03-01T00:00:00Z',
      starts: ['2027-03-09T21:00Z', '2027-04-13T20:00Z', '2027-05-11T20:00Z'],
    },
    {
      what: 'last friday (Jan 29, Feb 26, Mar 26 2027) in New York, EST then EDT',
      w: window({ kind: 'monthly', nth: -1, day: FRIDAY }, '23:00', '2h', 'America/New_York'),
      from: '2027-01-01T00:00:00Z',
      starts: ['2027-01-30T04:00Z', '2027-02-27T04:00Z', '2027-03-27T03:00Z'],
    },
    {
      what: 'mon and wed at 08:00 UTC',
      w: window({ kind: 'weekly', days: [1, 3] }, '08:00', '1h', 'UTC'),
      from: '2026-11-29T00:00:00Z',
      starts: ['2026-11-30T08:00Z', '2026-12-02T08:00Z', '2026-12-07T08:00Z'],
    },
    {
      what: 'daily 02:30 in Berlin over the spring night: the nonexistent 02:30 is 03:30 summer time',
      w: window(daily, '02:30', '1h', 'Europe/Berlin'),
      from: '2026-03-28T00:00:00Z',
      starts: ['2026-03-28T01:30Z', '2026-03-29T01:30Z', '2026-03-30T00:30Z'],
    },
    {
      what: 'daily 02:30 in Berlin over the autumn night: the first of the two 02:30s',
      w: window(daily, '02:30', '1h', 'Europe/Berlin'),
      from: '2026-10-24T00:00:00Z',
      starts: ['2026-10-24T00:30Z', '2026-10-25T00:30Z', '2026-10-26T01:30Z'],
    },
  ])('$what', ({ w, from, starts }) => {
    expect(occurrencesAfter(w, at(from), 3).map((o) => iso(o.start))).toEqual(starts);
  });

  it('does not count the occurrence in progress as a next one', () => {
    const w = window(daily, '22:00', '3h', 'UTC');
    expect(iso(occurrencesAfter(w, at('2026-12-08T23:00:00Z'), 1)[0]!.start)).toBe('2026-12-09T22:00Z');
  });
});

describe('whether an instant is inside a window', () => {
  const springBerlin = window({ kind: 'monthly', nth: -1, day: SUNDAY }, '01:30', '3h', 'Europe/Berlin');
  // Saturday 2026-10-24 is not the last Saturday of October (the 31st is): a weekly window.
  const autumnBerlin = window({ kind: 'weekly', days: [SATURDAY] }, '22:00', '6h', 'Europe/Berlin');
  const springNewYork = window({ kind: 'monthly', nth: 2, day: SUNDAY }, '01:00', '3h', 'America/New_York');
  const autumnNewYork = window({ kind: 'weekly', days: [SUNDAY] }, '00:30', '2h', 'America/New_York');
  it.each([
    // Berlin, spring: 01:30 CET = 00:30Z, three hours of elapsed time end at 03:30Z = 05:30 CEST on the wall clock.
    { w: springBerlin, t: '2026-03-29T00:29:59Z', inside: false },
    { w: springBerlin, t: '2026-03-29T00:30:00Z', inside: true, end: '2026-03-29T03:30Z' },
    { w: springBerlin, t: '2026-03-29T01:00:00Z', inside: true, end: '2026-03-29T03:30Z' },
    { w: springBerlin, t: '2026-03-29T03:29:59Z', inside: true, end: '2026-03-29T03:30Z' },
    { w: springBerlin, t: '2026-03-29T03:30:00Z', inside: false },
    // Berlin, autumn: Saturday 22:00 CEST = 20:00Z; six hours end at 02:00Z = 03:00 CET, through the repeated hour.
    { w: autumnBerlin, t: '2026-10-24T19:59:59Z', inside: false },
    { w: autumnBerlin, t: '2026-10-24T20:00:00Z', inside: true, end: '2026-10-25T02:00Z' },
    { w: autumnBerlin, t: '2026-10-25T00:30:00Z', inside: true, end: '2026-10-25T02:00Z', why: 'the first 02:30' },
    { w: autumnBerlin, t: '2026-10-25T01:30:00Z', inside: true, end: '2026-10-25T02:00Z', why: 'the second 02:30' },
    { w: autumnBerlin, t: '2026-10-25T02:00:00Z', inside: false },
    // New York, spring: 01:00 EST = 06:00Z, ends 09:00Z = 05:00 EDT.
    { w: springNewYork, t: '2026-03-08T05:59:59Z', inside: false },
    { w: springNewYork, t: '2026-03-08T07:00:00Z', inside: true, end: '2026-03-08T09:00Z', why: 'the jump itself' },
    { w: springNewYork, t: '2026-03-08T09:00:00Z', inside: false },
    // New York, autumn: Sunday 00:30 EDT = 04:30Z, two hours end at 06:30Z = 01:30 EST, the second 01:30.
    { w: autumnNewYork, t: '2026-11-01T04:30:00Z', inside: true, end: '2026-11-01T06:30Z' },
    { w: autumnNewYork, t: '2026-11-01T06:15:00Z', inside: true, end: '2026-11-01T06:30Z', why: 'the second 01:15' },
    { w: autumnNewYork, t: '2026-11-01T06:30:00Z', inside: false },
    // The window that began yesterday evening is still in progress after midnight.
    { w: window(daily, '23:00', '3h', 'UTC'), t: '2026-12-09T01:00:00Z', inside: true, end: '2026-12-09T02:00Z' },
    { w: window({ kind: 'weekly', days: [TUESDAY] }, '23:00', '3h', 'UTC'), t: '2026-12-09T01:00:00Z', inside: true, end: '2026-12-09T02:00Z', why: 'a Tuesday window, asked on Wednesday' },
    { w: window({ kind: 'weekly', days: [TUESDAY] }, '23:00', '3h', 'UTC'), t: '2026-12-10T01:00:00Z', inside: false },
  ])('$t in a $w.every.kind window in $w.timezone: inside $inside $why', ({ w, t, inside, end }) => {
    const occurrence = occurrenceAt(w, at(t));
    expect(occurrence !== null).toBe(inside);
    if (end !== undefined) expect(iso(occurrence!.end)).toBe(end);
  });

  it('reads overlapping occurrences as one window: a 23h30m daily window over the spring night', () => {
    // 03:00 Berlin daily for 23h30m: on March 29 the next start comes 23h later, inside the running one.
    const w = window(daily, '03:00', '1410m', 'Europe/Berlin');
    const overlap = occurrenceAt(w, at('2026-03-30T01:15:00Z'))!;
    expect(iso(overlap.start)).toBe('2026-03-30T01:00Z');
    expect(iso(overlap.end)).toBe('2026-03-31T00:30Z');
  });
});

describe('the calendar of targets and groups', () => {
  const patchNight = window({ kind: 'monthly', nth: 2, day: TUESDAY }, '22:00', '3h', 'Europe/Berlin', { name: 'patch-night', groups: ['vpn-eu'] });
  const rras3 = window({ kind: 'weekly', days: [SATURDAY] }, '06:00', '1h', 'UTC', { name: 'rras-3-backup', groups: [], targets: ['rras-3'] });
  const calendar = new MaintenanceCalendar([patchNight, rras3]);

  it('gives a group target the group window and a named target its own too', () => {
    const t = at('2026-12-08T22:00:00Z');
    expect(calendar.forTarget({ name: 'rras-1', group: 'vpn-eu' }, t).current?.window).toBe('patch-night');
    expect(calendar.activeFor({ name: 'rras-1', group: 'vpn-eu' }, t)).toEqual({ until: at('2026-12-09T00:00:00Z'), reason: 'maintenance window "patch-night"' });
    expect(calendar.forTarget({ name: 'rras-3', group: 'vpn-us' }, t)).toMatchObject({ current: null, next: { window: 'rras-3-backup', start: at('2026-12-12T06:00:00Z') } });
    expect(calendar.forTarget({ name: 'rras-9', group: 'vpn-us' }, t)).toEqual({ current: null, next: null });
    expect(calendar.forGroup('vpn-eu', t).next?.start).toBe(at('2027-01-12T21:00:00Z'));
  });

  it('answers from its cache only while nothing changed, also when the clock goes back', () => {
    const target = { name: 'rras-1', group: 'vpn-eu' };
    expect(calendar.activeFor(target, at('2026-12-08T20:59:59Z'))).toBeNull();
    expect(calendar.activeFor(target, at('2026-12-08T21:00:00Z'))?.until).toBe(at('2026-12-09T00:00:00Z'));
    expect(calendar.activeFor(target, at('2026-12-09T00:00:00Z'))).toBeNull();
    expect(calendar.activeFor(target, at('2026-12-08T23:00:00Z'))).not.toBeNull();
  });

  it('describes a window the way the config writes it', () => {
    expect(describeWindow(patchNight)).toBe('2nd tuesday 22:00 Europe/Berlin, 3h');
    expect(describeWindow(rras3)).toBe('sat 06:00 UTC, 1h');
  });
});

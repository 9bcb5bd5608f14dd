// Wall-clock times in an IANA time zone, with nothing but Intl (Node's ICU time zone data). Pure.
//
// A local time is turned into an instant the way RFC 5545 and Temporal's "compatible" disambiguation do:
// - a local time that does not exist (the clocks jump forward over it) is moved forward by the jump:
//   02:30 on the night Europe/Berlin goes from 02:00 to 03:00 is 03:30 summer time;
// - a local time that occurs twice (the clocks go back) is the first of the two: 02:30 on the night
//   Europe/Berlin goes from 03:00 back to 02:00 is 02:30 summer time (00:30 UTC).

export const DAY_MS = 86_400_000;

/** A date on the local calendar, counted in days since 1970-01-01 (the same count for every zone). */
export type CivilDay = number;

export interface CivilDateTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall-clock date and time in `zone` at instant `t` (ms). */
export function civilAt(zone: string, t: number): CivilDateTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(t)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return {
    year: parts['year']!,
    month: parts['month']!,
    day: parts['day']!,
    hour: parts['hour']!,
    minute: parts['minute']!,
    second: parts['second']!,
  };
}

/** How far `zone`'s wall clock is ahead of UTC at instant `t`, ms (Berlin in summer: 7,200,000). */
export function offsetAt(zone: string, t: number): number {
  const c = civilAt(zone, t);
  const wall = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second);
  return wall - Math.floor(t / 1000) * 1000;
}

/** The local calendar day of instant `t` in `zone`. */
export function civilDayAt(zone: string, t: number): CivilDay {
  const c = civilAt(zone, t);
  return Date.UTC(c.year, c.month - 1, c.day) / DAY_MS;
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekdayOf(day: CivilDay): number {
  return new Date(day * DAY_MS).getUTCDay();
}

/** The day of the month (1-31) and the number of days in that month. */
export function dayOfMonth(day: CivilDay): { date: number; daysInMonth: number } {
  const d = new Date(day * DAY_MS);
  const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  return { date: d.getUTCDate(), daysInMonth };
}

/**
 * The instant at which `zone`'s wall clock shows `hour:minute` on `day`. Nonexistent times move forward by the
 * gap, repeated times take the first occurrence (see the top of this file). Zones change their offset at most
 * once within two days, which every zone in the IANA database does.
 */
export function instantOf(zone: string, day: CivilDay, hour: number, minute: number): number {
  const wall = day * DAY_MS + hour * 3_600_000 + minute * 60_000;
  const before = offsetAt(zone, wall - DAY_MS);
  const after = offsetAt(zone, wall + DAY_MS);
  const candidates = (before === after ? [wall - before] : [wall - before, wall - after])
    .filter((t) => offsetAt(zone, t) === wall - t)
    .sort((a, b) => a - b);
  return candidates[0] ?? wall - before;
}

/** `2026-03-29 03:30 +02:00`: the wall clock in `zone` at `t`, with its offset, to the minute. */
export function formatLocal(zone: string, t: number): string {
  const c = civilAt(zone, t);
  const offset = offsetAt(zone, t) / 60_000;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${c.year}-${pad(c.month)}-${pad(c.day)} ${pad(c.hour)}:${pad(c.minute)} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

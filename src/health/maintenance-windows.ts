// Recurring maintenance windows (`maintenance_windows:` in the config): when each occurrence starts and ends.
// Pure: the time is always passed in.
//
// Days are counted on the window's own local calendar and its start is a wall-clock time there, turned into an
// instant as zoned-time.ts documents (a start the clocks jump over moves forward by the jump; a start that occurs
// twice is the first one). The duration is elapsed time: a 3h window that starts at 01:00 on the night the
// clocks go forward ends at 05:00 on the wall clock, on the night they go back at 03:00.

import type { MaintenanceRecurrence, MaintenanceWindowConfig } from '../config/types.js';
import { formatDuration } from '../config/duration.js';
import { civilDayAt, DAY_MS, dayOfMonth, instantOf, weekdayOf, type CivilDay } from './zoned-time.js';

/** One occurrence of a window: [start, end), ms. */
export interface Occurrence {
  window: string;
  start: number;
  end: number;
}

export const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const ORDINALS: Record<number, string> = { 1: '1st', 2: '2nd', 3: '3rd', 4: '4th', [-1]: 'last' };

/** Does the window start on this local day? */
export function startsOn(every: MaintenanceRecurrence, day: CivilDay): boolean {
  if (every.kind === 'daily') return true;
  const weekday = weekdayOf(day);
  if (every.kind === 'weekly') return (every.days as number[]).includes(weekday);
  if (weekday !== every.day) return false;
  const { date, daysInMonth } = dayOfMonth(day);
  return every.nth === -1 ? date + 7 > daysInMonth : Math.ceil(date / 7) === every.nth;
}

function occurrenceOn(window: MaintenanceWindowConfig, day: CivilDay): Occurrence {
  const start = instantOf(window.timezone, day, window.start.hour, window.start.minute);
  return { window: window.name, start, end: start + window.durationMs };
}

/**
 * The occurrence that `t` falls in, or null. Where two occurrences overlap (a daily window of nearly 24h on the
 * night the clocks go forward) the one that ends later is returned, so the window reads as one.
 */
export function occurrenceAt(window: MaintenanceWindowConfig, t: number): Occurrence | null {
  const today = civilDayAt(window.timezone, t);
  const reach = Math.ceil(window.durationMs / DAY_MS) + 1;
  let found: Occurrence | null = null;
  for (let day = today - reach; day <= today; day++) {
    if (!startsOn(window.every, day)) continue;
    const occurrence = occurrenceOn(window, day);
    if (occurrence.start <= t && t < occurrence.end && (found === null || occurrence.end > found.end)) found = occurrence;
  }
  return found;
}

/** The next `count` occurrences that start after `t` (an occurrence in progress at `t` is not among them). */
export function occurrencesAfter(window: MaintenanceWindowConfig, t: number, count: number): Occurrence[] {
  const found: Occurrence[] = [];
  const first = civilDayAt(window.timezone, t);
  // A monthly window recurs within 35 days; 400 bounds the walk for any count a caller asks.
  for (let day = first; found.length < count && day < first + 400 + count * 35; day++) {
    if (!startsOn(window.every, day)) continue;
    const occurrence = occurrenceOn(window, day);
    if (occurrence.start > t) found.push(occurrence);
  }
  return found;
}

/** "2nd tuesday", "mon, wed", "daily": how the recurrence reads in messages and on the page. */
export function describeRecurrence(every: MaintenanceRecurrence): string {
  if (every.kind === 'daily') return 'daily';
  if (every.kind === 'weekly') return every.days.map((d) => WEEKDAY_NAMES[d].slice(0, 3)).join(', ');
  return `${ORDINALS[every.nth]} ${WEEKDAY_NAMES[every.day]}`;
}

/** "2nd tuesday 22:00 Europe/Berlin, 3h". */
export function describeWindow(window: MaintenanceWindowConfig): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const at = `${pad(window.start.hour)}:${pad(window.start.minute)}`;
  return `${describeRecurrence(window.every)} ${at} ${window.timezone}, ${formatDuration(window.durationMs)}`;
}

// `maintenance_windows:`: recurring windows during which targets are in state maintenance, read and checked
// like the rest of the config (every problem with its path, "did you mean" for near misses).
//
//   maintenance_windows:
//     - name: patch-night
//       groups: [vpn-eu]            # every target of these groups (servers and VIP)
//       targets: [rras-us-1]        # and/or these targets
//       every: "2nd tuesday"        # "last friday", [mon, thu], sunday, weekdays, daily
//       start: "22:00"              # local time in `timezone`
//       duration: 3h
//       timezone: Europe/Berlin     # IANA name; "UTC" for none
//
// Read after the groups, because its groups and targets must name configured ones.

import { formatDuration } from './duration.js';
import {
  editDistance,
  indexPath,
  keyPath,
  readDuration,
  readMapping,
  readName,
  required,
  show,
  type Issues,
} from './readers.js';
import type { MaintenanceRecurrence, MaintenanceWindowConfig, Weekday } from './types.js';

const DAY_MS = 86_400_000;
const WINDOW_KEYS = ['name', 'groups', 'targets', 'every', 'start', 'duration', 'timezone'] as const;
const MIN_DURATION_MS = 60_000;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const ORDINAL_WORDS: Record<string, 1 | 2 | 3 | 4 | -1> = {
  '1st': 1,
  first: 1,
  '2nd': 2,
  second: 2,
  '3rd': 3,
  third: 3,
  '4th': 4,
  fourth: 4,
  last: -1,
};
const EVERY_FORMS = 'daily, weekdays, a day or a list of days like [mon, thu], or a weekday of the month like "2nd tuesday" or "last friday"';

/** Names the config declares, to check that a window's groups and targets exist. */
export interface KnownNames {
  groups: string[];
  targets: string[];
}

/** Reads `maintenance_windows` (absent or empty: none). */
export function readMaintenanceWindows(value: unknown, known: KnownNames, issues: Issues): MaintenanceWindowConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.add('maintenance_windows', `must be a list of windows, each with name, every, start, duration and timezone (got ${show(value)})`);
    return [];
  }
  const windows: MaintenanceWindowConfig[] = [];
  const seen = new Map<string, string>();
  value.forEach((entry, i) => {
    const path = indexPath('maintenance_windows', i);
    const window = readWindow(entry, path, known, issues);
    if (window === undefined) return;
    const first = seen.get(window.name);
    if (first !== undefined) issues.add(keyPath(path, 'name'), `duplicate window name ${JSON.stringify(window.name)} (also ${first})`);
    else {
      seen.set(window.name, keyPath(path, 'name'));
      windows.push(window);
    }
  });
  return windows;
}

function readWindow(value: unknown, path: string, known: KnownNames, issues: Issues): MaintenanceWindowConfig | undefined {
  const entry = readMapping(value, path, WINDOW_KEYS, issues);
  if (entry === undefined) return undefined;
  const before = issues.list.length;
  const name = readName(entry['name'], keyPath(path, 'name'), issues);
  const groups = readNames(entry['groups'], keyPath(path, 'groups'), 'group', known.groups, issues);
  const targets = readNames(entry['targets'], keyPath(path, 'targets'), 'target', known.targets, issues);
  if (entry['groups'] === undefined && entry['targets'] === undefined) {
    issues.add(path, 'names no groups and no targets: add "groups: [...]" or "targets: [...]" (or both)');
  }
  const everyPath = keyPath(path, 'every');
  const every = required(entry['every'], everyPath, issues) ? readEvery(entry['every'], everyPath, issues) : undefined;
  const start = readStart(entry['start'], keyPath(path, 'start'), issues);
  const durationPath = keyPath(path, 'duration');
  const durationMs = required(entry['duration'], durationPath, issues)
    ? readDuration(entry['duration'], durationPath, MIN_DURATION_MS, issues)
    : undefined;
  const timezone = readTimeZone(entry['timezone'], keyPath(path, 'timezone'), issues);
  if (every !== undefined && durationMs !== undefined && durationMs >= shortestRecurrenceMs(every)) {
    const gap = formatDuration(shortestRecurrenceMs(every));
    issues.add(durationPath, `must be shorter than the ${gap} between two starts, or the window never ends (got ${show(entry['duration'])})`);
  }
  if (issues.list.length > before || name === undefined || every === undefined || start === undefined) return undefined;
  if (durationMs === undefined || timezone === undefined) return undefined;
  return { name, groups, targets, every, start, durationMs, timezone };
}

/** `groups: [vpn-eu]` or `targets: [rras-1]`: configured names, a single name allowed without brackets. */
function readNames(value: unknown, path: string, what: 'group' | 'target', known: string[], issues: Issues): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    issues.add(path, `must be a list of ${what} names, like [${known[0] ?? `my-${what}`}] (got ${show(value)})`);
    return [];
  }
  const names: string[] = [];
  list.forEach((name: unknown, i) => {
    const itemPath = typeof value === 'string' ? path : indexPath(path, i);
    if (typeof name !== 'string' || !known.includes(name)) {
      const suggestion = typeof name === 'string' ? closest(name, known, 2) : undefined;
      const hint = suggestion === undefined ? `the configured ${what}s are ${listNames(known)}` : `did you mean "${suggestion}"?`;
      issues.add(itemPath, `no ${what} named ${show(name)} (${hint})`);
    } else if (!names.includes(name)) names.push(name);
  });
  return names;
}

function listNames(names: string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ');
  return names.length > 5 ? `${shown}, ...` : shown;
}

/** A weekday by its full name or any start of it of three letters or more ("tue", "tues", "tuesday"). */
function weekdayOf(word: string): Weekday | undefined {
  if (word.length < 3) return undefined;
  const index = WEEKDAYS.findIndex((day) => day.startsWith(word));
  return index === -1 ? undefined : (index as Weekday);
}

function unknownDay(word: string): string {
  const suggestion = closest(word, WEEKDAYS, 2);
  return `${JSON.stringify(word)} is not a day of the week${suggestion === undefined ? ' (write monday ... sunday, or mon ... sun)' : ` (did you mean "${suggestion}"?)`}`;
}

export function readEvery(value: unknown, path: string, issues: Issues): MaintenanceRecurrence | undefined {
  const fail = (why: string): undefined => {
    issues.add(path, `${why} (got ${show(value)})`);
    return undefined;
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return fail(`must name at least one day`);
    return readDays(value, path, true, issues, fail);
  }
  if (typeof value !== 'string') return fail(`must be ${EVERY_FORMS}`);
  const text = value.trim().toLowerCase().replace(/\s+/g, ' ');
  if (text === 'daily' || text === 'every day') return { kind: 'daily' };
  if (text === 'weekdays') return { kind: 'weekly', days: [1, 2, 3, 4, 5] };
  if (text === 'weekly') return fail('name the days it recurs on, like every: [tue] or every: [mon, thu]');
  if (text === 'monthly') return fail('name the weekday of the month, like "2nd tuesday" or "last friday"');
  const monthly = /^(\S+) (\S+)$/.exec(text);
  if (monthly !== null && !text.includes(',')) {
    const [, ordinal = '', dayWord = ''] = monthly;
    const nth = ORDINAL_WORDS[ordinal];
    if (nth === undefined) {
      if (/^(5th|fifth)$/.test(ordinal)) return fail('a month does not always have a 5th one: use "last" instead');
      return fail(`${JSON.stringify(ordinal)} is not 1st, 2nd, 3rd, 4th or last; write it like "2nd tuesday" or "last friday"`);
    }
    const day = weekdayOf(dayWord);
    if (day === undefined) return fail(unknownDay(dayWord));
    return { kind: 'monthly', nth, day };
  }
  return readDays(text.split(','), path, false, issues, fail);
}

function readDays(
  words: unknown[],
  path: string,
  isList: boolean,
  issues: Issues,
  fail: (why: string) => undefined,
): MaintenanceRecurrence | undefined {
  const days = new Set<Weekday>();
  for (const [i, word] of words.entries()) {
    const text = typeof word === 'string' ? word.trim().toLowerCase() : '';
    const day = weekdayOf(text);
    if (day !== undefined) {
      days.add(day);
      continue;
    }
    if (typeof word !== 'string') {
      issues.add(indexPath(path, i), `must be a day of the week, like mon or monday (got ${show(word)})`);
      return undefined;
    }
    if (isList) issues.add(indexPath(path, i), unknownDay(text));
    else if (/^[a-z]+$/.test(text)) fail(unknownDay(text));
    else fail(`must be ${EVERY_FORMS}`);
    return undefined;
  }
  return { kind: 'weekly', days: [...days].sort((a, b) => a - b) };
}

function readStart(value: unknown, path: string, issues: Issues): { hour: number; minute: number } | undefined {
  if (!required(value, path, issues)) return undefined;
  const match = typeof value === 'string' ? /^(\d{1,2}):(\d{2})$/.exec(value.trim()) : null;
  const hour = Number(match?.[1]);
  const minute = Number(match?.[2]);
  if (match === null || hour > 23 || minute > 59) {
    const quote = typeof value === 'number' ? ', in quotes' : '';
    issues.add(path, `must be a local time from "00:00" to "23:59"${quote}, like "22:00" (got ${show(value)})`);
    return undefined;
  }
  return { hour, minute };
}

function readTimeZone(value: unknown, path: string, issues: Issues): string | undefined {
  if (value === undefined) {
    issues.add(path, 'required key is missing: the IANA time zone "start" is in, like "Europe/Berlin", or "UTC"');
    return undefined;
  }
  const zone = typeof value === 'string' ? canonicalTimeZone(value.trim()) : null;
  if (zone !== null) return zone;
  const suggestion = typeof value === 'string' ? closestTimeZone(value.trim()) : undefined;
  const hint = suggestion === undefined ? 'an IANA name like "Europe/Berlin", "America/New_York" or "UTC"' : `did you mean "${suggestion}"?`;
  issues.add(path, `unknown time zone (${hint}) (got ${show(value)})`);
  return undefined;
}

function closestTimeZone(text: string): string | undefined {
  return closest(text.replaceAll(' ', '_'), ['UTC', ...Intl.supportedValuesOf('timeZone')], 3);
}

/** The candidate a typo most likely meant (case ignored), at most `maxDistance` edits away and less than half of it. */
function closest(word: string, candidates: readonly string[], maxDistance: number): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance && distance < candidate.length / 2) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The canonical name of an IANA time zone ("europe/berlin" -> "Europe/Berlin"), or null when Intl does not know it. */
export function canonicalTimeZone(name: string): string | null {
  if (name === '') return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The shortest time between two starts, on a calendar without clock changes: a duration must stay below it. */
export function shortestRecurrenceMs(every: MaintenanceRecurrence): number {
  if (every.kind === 'daily') return DAY_MS;
  if (every.kind === 'monthly') return 28 * DAY_MS;
  const days = [...every.days].sort((a, b) => a - b);
  const gaps = days.map((d, i) => ((days[(i + 1) % days.length] ?? d) - d + 7) % 7 || 7);
  return Math.min(...gaps) * DAY_MS;
}

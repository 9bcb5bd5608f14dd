import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type Config } from '../../src/config/index.js';

const FLEET = `
groups:
  - name: vpn-eu
    hostname: vpn.example.com
    vip: https://10.0.0.10
    servers:
      - { name: rras-eu-1, url: "https://10.0.0.11" }
      - { name: rras-eu-2, url: "https://10.0.0.12" }
  - name: vpn-us
    hostname: vpn-us.example.com
    servers:
      - { name: rras-us-1, url: "https://10.0.1.11" }
`;

function parse(windows: string): Config {
  return parseConfig(`${FLEET}maintenance_windows:\n${windows}`, { baseDir: '/etc/sstpwatch' });
}

function errorsOf(windows: string): string[] {
  try {
    parse(windows);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

/** One window with the given keys over a valid base (each key of `over` replaces the base's; null removes it). */
function one(over: Record<string, string | null | undefined>): string {
  const keys: Record<string, string | null | undefined> = {
    name: 'patch-night',
    groups: '[vpn-eu]',
    every: '"2nd tuesday"',
    start: '"22:00"',
    duration: '3h',
    timezone: 'Europe/Berlin',
    ...over,
  };
  const body = Object.entries(keys)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `  - { ${body} }\n`;
}

describe('maintenance windows in the config', () => {
  it('reads a monthly patch night on a group', () => {
    expect(parse(one({})).maintenanceWindows).toEqual([
      {
        name: 'patch-night',
        groups: ['vpn-eu'],
        targets: [],
        every: { kind: 'monthly', nth: 2, day: 2 },
        start: { hour: 22, minute: 0 },
        durationMs: 3 * 3_600_000,
        timezone: 'Europe/Berlin',
      },
    ]);
  });

  it.each([
    { every: 'daily', expected: { kind: 'daily' } },
    { every: '"every day"', expected: { kind: 'daily' } },
    { every: 'weekdays', expected: { kind: 'weekly', days: [1, 2, 3, 4, 5] } },
    { every: '[mon, wed]', expected: { kind: 'weekly', days: [1, 3] } },
    { every: '[Wednesday, monday, mon]', expected: { kind: 'weekly', days: [1, 3] } },
    { every: '"tue, thurs"', expected: { kind: 'weekly', days: [2, 4] } },
    { every: 'sunday', expected: { kind: 'weekly', days: [0] } },
    { every: '"last friday"', expected: { kind: 'monthly', nth: -1, day: 5 } },
    { every: '"first Monday"', expected: { kind: 'monthly', nth: 1, day: 1 } },
    { every: '"4th sat"', expected: { kind: 'monthly', nth: 4, day: 6 } },
  ])('every: $every', ({ every, expected }) => {
    expect(parse(one({ every, duration: '1h' })).maintenanceWindows[0]!.every).toEqual(expected);
  });

  it('takes targets by name, alone or beside groups, and a time zone in any case', () => {
    const [w] = parse(one({ groups: null, targets: '[rras-us-1, rras-eu-1]', timezone: 'america/new_york' })).maintenanceWindows;
    expect(w).toMatchObject({ groups: [], targets: ['rras-us-1', 'rras-eu-1'], timezone: 'America/New_York' });
    expect(parse(one({ targets: 'vpn-eu-vip', timezone: 'UTC' })).maintenanceWindows[0]).toMatchObject({ groups: ['vpn-eu'], targets: ['vpn-eu-vip'] });
  });

  it.each([
    { over: { every: '"2nd tuesdy"' }, error: 'maintenance_windows[0].every: "tuesdy" is not a day of the week (did you mean "tuesday"?) (got "2nd tuesdy")' },
    { over: { every: '[mon, wendsday]' }, error: 'maintenance_windows[0].every[1]: "wendsday" is not a day of the week (did you mean "wednesday"?)' },
    { over: { every: '"5th friday"' }, error: 'maintenance_windows[0].every: a month does not always have a 5th one: use "last" instead (got "5th friday")' },
    { over: { every: 'weekly' }, error: 'maintenance_windows[0].every: name the days it recurs on, like every: [tue] or every: [mon, thu] (got "weekly")' },
    { over: { every: 'monthly' }, error: 'maintenance_windows[0].every: name the weekday of the month, like "2nd tuesday" or "last friday" (got "monthly")' },
    { over: { every: '"second to last friday"' }, error: 'maintenance_windows[0].every: must be daily, weekdays, a day or a list of days like [mon, thu], or a weekday of the month like "2nd tuesday" or "last friday" (got "second to last friday")' },
    { over: { every: 'tuesdy' }, error: 'maintenance_windows[0].every: "tuesdy" is not a day of the week (did you mean "tuesday"?) (got "tuesdy")' },
    { over: { every: '"mon, fridy"' }, error: 'maintenance_windows[0].every: "fridy" is not a day of the week (did you mean "friday"?) (got "mon, fridy")' },
    { over: { every: '[]' }, error: 'maintenance_windows[0].every: must name at least one day (got [])' },
    { over: { every: null }, error: 'maintenance_windows[0].every: required key is missing' },
    { over: { start: '"25:00"' }, error: 'maintenance_windows[0].start: must be a local time from "00:00" to "23:59", like "22:00" (got "25:00")' },
    { over: { start: '2200' }, error: 'maintenance_windows[0].start: must be a local time from "00:00" to "23:59", in quotes, like "22:00" (got 2200)' },
    { over: { start: null }, error: 'maintenance_windows[0].start: required key is missing' },
    { over: { duration: '30s' }, error: 'maintenance_windows[0].duration: must be at least 1m (got "30s")' },
    { over: { duration: null }, error: 'maintenance_windows[0].duration: required key is missing' },
    { over: { every: 'daily', duration: '24h' }, error: 'maintenance_windows[0].duration: must be shorter than the 1d between two starts, or the window never ends (got "24h")' },
    { over: { every: '[mon, tue]', duration: '1d1h' }, error: 'maintenance_windows[0].duration: must be shorter than the 1d between two starts, or the window never ends (got "1d1h")' },
    { over: { timezone: 'Europe/Berln' }, error: 'maintenance_windows[0].timezone: unknown time zone (did you mean "Europe/Berlin"?) (got "Europe/Berln")' },
    { over: { timezone: 'CEST+2' }, error: 'maintenance_windows[0].timezone: unknown time zone (an IANA name like "Europe/Berlin", "America/New_York" or "UTC") (got "CEST+2")' },
    { over: { timezone: null }, error: 'maintenance_windows[0].timezone: required key is missing: the IANA time zone "start" is in, like "Europe/Berlin", or "UTC"' },
    { over: { groups: '[vpn-euu]' }, error: 'maintenance_windows[0].groups[0]: no group named "vpn-euu" (did you mean "vpn-eu"?)' },
    { over: { groups: '[emea]' }, error: 'maintenance_windows[0].groups[0]: no group named "emea" (the configured groups are "vpn-eu", "vpn-us")' },
    { over: { groups: null, targets: '[rras-eu-3]' }, error: 'maintenance_windows[0].targets[0]: no target named "rras-eu-3" (did you mean "rras-eu-1"?)' },
    { over: { groups: null }, error: 'maintenance_windows[0]: names no groups and no targets: add "groups: [...]" or "targets: [...]" (or both)' },
    { over: { group: '[vpn-eu]' }, error: 'maintenance_windows[0].group: unknown key (did you mean "groups"?)' },
    { over: { name: 'Patch Night' }, error: 'maintenance_windows[0].name: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "Patch Night")' },
  ])('refuses $over with the path and a fix', ({ over, error }) => {
    expect(errorsOf(one(over))).toContain(error);
  });

  it('refuses a window name given twice and a list that is not one', () => {
    expect(errorsOf(one({}) + one({ every: 'daily', duration: '1h' }))).toEqual([
      'maintenance_windows[1].name: duplicate window name "patch-night" (also maintenance_windows[0].name)',
    ]);
    expect(errorsOf('  patch-night\n')).toEqual([
      'maintenance_windows: must be a list of windows, each with name, every, start, duration and timezone (got "patch-night")',
    ]);
  });

  it('is empty when absent', () => {
    expect(parseConfig(FLEET, { baseDir: '/' }).maintenanceWindows).toEqual([]);
  });
});

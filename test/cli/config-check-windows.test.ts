import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfigCheck } from '../../src/cli/config-check.js';

const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-cfg-windows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `config check` on `yaml` as if it were `now`. */
async function check(yaml: string, now: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const file = join(dir, 'sstpwatch.yml');
  writeFileSync(file, yaml);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCheck(file, { out: (line) => out.push(line), err: (line) => err.push(line) }, {}, Date.parse(now));
  return { code, out, err };
}

const FLEET = [
  'groups:',
  '  - name: vpn-eu',
  '    hostname: vpn.example.com',
  '    servers:',
  '      - { name: rras-eu-1, url: "https://10.0.0.11" }',
  '      - { name: rras-eu-2, url: "https://10.0.0.12" }',
].join('\n');

describe('sstpwatch config check with maintenance windows', () => {
  it('prints the occurrence in progress and the next three, in local time and UTC, across the autumn DST change', async () => {
    const yaml = `${FLEET}\nmaintenance_windows:\n  - { name: sat-night, groups: [vpn-eu], targets: [rras-eu-2], every: saturday, start: "22:00", duration: 6h, timezone: Europe/Berlin }\n`;
    const { code, out, err } = await check(yaml, '2026-10-24T23:00:00Z');
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out.slice(1)).toEqual([
      'maintenance window sat-night: sat 22:00 Europe/Berlin, 6h; covers group vpn-eu, target rras-eu-2',
      '  now:  2026-10-24 22:00 +02:00 to 2026-10-25 03:00 +01:00 (2026-10-24T20:00:00.000Z to 2026-10-25T02:00:00.000Z)',
      '  next: 2026-10-31 22:00 +01:00 to 2026-11-01 04:00 +01:00 (2026-10-31T21:00:00.000Z to 2026-11-01T03:00:00.000Z)',
      '  next: 2026-11-07 22:00 +01:00 to 2026-11-08 04:00 +01:00 (2026-11-07T21:00:00.000Z to 2026-11-08T03:00:00.000Z)',
      '  next: 2026-11-14 22:00 +01:00 to 2026-11-15 04:00 +01:00 (2026-11-14T21:00:00.000Z to 2026-11-15T03:00:00.000Z)',
    ]);
  });

  it('shows where a start the clocks skip really begins (New York, spring forward)', async () => {
    const yaml = `${FLEET}\nmaintenance_windows:\n  - { name: early, targets: [rras-eu-1], every: daily, start: "02:30", duration: 1h, timezone: America/New_York }\n`;
    const { code, out } = await check(yaml, '2026-03-07T12:00:00Z');
    expect(code).toBe(0);
    expect(out.slice(2)).toEqual([
      '  next: 2026-03-08 03:30 -04:00 to 2026-03-08 04:30 -04:00 (2026-03-08T07:30:00.000Z to 2026-03-08T08:30:00.000Z)',
      '  next: 2026-03-09 02:30 -04:00 to 2026-03-09 03:30 -04:00 (2026-03-09T06:30:00.000Z to 2026-03-09T07:30:00.000Z)',
      '  next: 2026-03-10 02:30 -04:00 to 2026-03-10 03:30 -04:00 (2026-03-10T06:30:00.000Z to 2026-03-10T07:30:00.000Z)',
    ]);
  });

  it('exits 1 with the path of a bad window', async () => {
    const yaml = `${FLEET}\nmaintenance_windows:\n  - { name: w, groups: [vpn-eu], every: "2nd tuesdy", start: "22:00", duration: 3h, timezone: Europe/Berln }\n`;
    const { code, err } = await check(yaml, '2026-10-24T23:00:00Z');
    expect(code).toBe(1);
    expect(err.slice(1)).toEqual([
      '  maintenance_windows[0].every: "tuesdy" is not a day of the week (did you mean "tuesday"?) (got "2nd tuesdy")',
      '  maintenance_windows[0].timezone: unknown time zone (did you mean "Europe/Berlin"?) (got "Europe/Berln")',
    ]);
  });
});

// The full status list's gzip kept in runs between versions: whatever changed, it must gunzip to the body as
// status-list.ts assembles it, byte for byte, in Node and in the gzip program, and deflate again only what changed.
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipRuns } from '../../src/api/status-gzip.js';
import { assemble } from '../../src/api/status-list.js';

const entry = (i: number, at: number) => JSON.stringify({ name: `rras-${i}`, group: `vpn-${i % 7}`, state: i % 5 ? 'up' : 'down', last_result: { at, ms: (i * 7) % 13 } });
const OPEN = '{"generated_at":"2026-11-30T09:00:00.000Z","targets":[';
const CLOSE = '],"next_cursor":null}';

async function gzipOf(runs: GzipRuns, fragments: string[], open = OPEN): Promise<Buffer> {
  const gz = await runs.gzip(open, fragments, CLOSE, async () => undefined);
  const plain = assemble({ open, fragments, indices: null, close: CLOSE });
  expect(gunzipSync(gz).equals(plain)).toBe(true);
  return gz;
}

describe('the full list gzipped from kept runs', () => {
  it('decompresses to the assembled body, in Node and in the gzip program, CRC and length checked', async () => {
    const fragments = Array.from({ length: 1001 }, (_, i) => entry(i, 1)); // not a multiple of the run
    fragments[3] = JSON.stringify({ name: 'zürich-€-𝄞', state: 'up' });
    const gz = await gzipOf(new GzipRuns(8), fragments);
    const gunzip = spawnSync('gzip', ['-dc'], { input: gz });
    expect(gunzip.stderr.toString()).toBe('');
    expect(gunzip.stdout.equals(assemble({ open: OPEN, fragments, indices: null, close: CLOSE }))).toBe(true);
    expect(spawnSync('gzip', ['-t'], { input: gz }).status).toBe(0);
  });

  it('writes a valid gzip for an empty list and for a single entry', async () => {
    await gzipOf(new GzipRuns(8), []);
    await gzipOf(new GzipRuns(8), [entry(0, 1)]);
  });

  it('deflates again only the runs holding a changed entry (and the run after it, which refers back into it)', async () => {
    const runs = new GzipRuns(8);
    const fragments = Array.from({ length: 80 }, (_, i) => entry(i, 1));
    await gzipOf(runs, fragments);
    expect(runs.deflatedRuns).toBe(10);
    await gzipOf(runs, fragments, OPEN.replace('09:00:00', '09:00:01')); // a new head alone
    expect(runs.deflatedRuns).toBe(10);
    fragments[20] = entry(20, 2); // inside run 2
    fragments[39] = entry(39, 2); // the last of run 4: run 5 starts right after it
    await gzipOf(runs, fragments);
    expect(runs.deflatedRuns).toBe(10 + 3);
    fragments[20] = entry(20, 2); // the same characters in a new string
    await gzipOf(runs, fragments);
    expect(runs.deflatedRuns).toBe(13);
  });

  it('follows a list that grew or shrank (a reload)', async () => {
    const runs = new GzipRuns(8);
    const fragments = Array.from({ length: 30 }, (_, i) => entry(i, 1));
    await gzipOf(runs, fragments);
    await gzipOf(runs, fragments.slice(0, 13));
    await gzipOf(runs, [...fragments, entry(30, 1), entry(31, 1)]);
    await gzipOf(runs, fragments.slice(5));
  });

  it('compresses alike entries within twice the size of the whole body compressed at once', async () => {
    const fragments = Array.from({ length: 2000 }, (_, i) => entry(i, 1_700_000_000_000 + i * 37));
    const gz = await gzipOf(new GzipRuns(8), fragments);
    const whole = (await import('node:zlib')).gzipSync(assemble({ open: OPEN, fragments, indices: null, close: CLOSE }), { level: 1 });
    expect(gz.length).toBeLessThan(whole.length * 2);
  });
});

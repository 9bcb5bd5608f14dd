import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLagLog } from '../../src/scheduler/lag-log.js';

const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-laglog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the benchmark lag log', () => {
  it('writes one "<epoch ms> <seconds>" line per sample, buffered until close', () => {
    const path = join(dir, 'lag.log');
    let t = 1_700_000_000_000;
    const log = createLagLog(path, () => t, 60_000);
    log.record(0.0012);
    t += 5;
    log.record(1.5);
    expect(existsSync(path)).toBe(false);
    log.close();
    expect(readFileSync(path, 'utf8')).toBe('1700000000000 0.0012\n1700000000005 1.5\n');
  });

  it('appends on every flush and writes nothing when there is nothing new', async () => {
    const path = join(dir, 'lag2.log');
    const log = createLagLog(path, () => 1, 20);
    log.record(0.5);
    await new Promise((r) => setTimeout(r, 120));
    log.record(0.25);
    log.close();
    log.close();
    expect(readFileSync(path, 'utf8')).toBe('1 0.5\n1 0.25\n');
  });
});

// The in-memory store: the store contract, and exactly the SQLite store's answers for the same three days of
// history (rollups, p95, retention, cursors), read by every method the API uses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { expectSameAnswers, writeHistory } from '../fixtures/store-history.js';
import { RANDOM_RETENTION, expectSameReads, playRandomLife } from '../fixtures/store-random.js';
import { describeStoreContract } from './contract.js';
import { quiet } from './contract-support.js';

const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const PROBES = 3 * 24 * 120; // three days every 30 s
const NOW = T0 + PROBES * 30_000 + 5 * 60_000;
const RETENTION = { rawMs: 2 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-memory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('in-memory', {
  open: async (options) => new MemoryStore({ log: quiet, ...options }),
});

describe('the in-memory store', () => {
  it('answers exactly as the SQLite store for the same three days of history', { timeout: 60_000 }, async () => {
    const now = () => NOW;
    const sqlite = openSqliteStore({ path: join(dir, 'same.db'), log: quiet, now, retention: RETENTION });
    const memory = new MemoryStore({ log: quiet, now, retention: RETENTION });
    try {
      await writeHistory(sqlite, T0, PROBES, NOW);
      await writeHistory(memory, T0, PROBES, NOW);
      await expectSameAnswers(sqlite, memory, T0, NOW);
    } finally {
      await sqlite.close();
      await memory.close();
    }
  });

  it.each([1, 2, 3])('answers as the SQLite store after a random life of late results, same-millisecond rows and housekeeping (seed %i)', { timeout: 120_000 }, async (seed) => {
    let clock = T0;
    const now = () => clock;
    const sqlite = openSqliteStore({ path: join(dir, `random-${seed}.db`), log: quiet, now, retention: RANDOM_RETENTION, maxPending: 1_000_000 });
    const memory = new MemoryStore({ log: quiet, now, retention: RANDOM_RETENTION, maxPending: 1_000_000 });
    try {
      const end = await playRandomLife(sqlite, seed, T0, 5_000, (at) => (clock = at));
      expect(await playRandomLife(memory, seed, T0, 5_000, (at) => (clock = at))).toBe(end);
      await expectSameReads(sqlite, memory, seed, T0, end);
    } finally {
      await sqlite.close();
      await memory.close();
    }
  });
});

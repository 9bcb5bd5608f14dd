// `sstpwatch migrate-store` from a week of SQLite history into a real PostgreSQL: every table's count equal, and
// the PostgreSQL store answers every read the API makes exactly as the SQLite store did.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrateStore } from '../../src/cli/migrate-store.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../fixtures/postgres.js';
import { expectSameAnswers, writeHistory } from '../fixtures/store-history.js';

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const WEEK_OF_PROBES = 7 * 24 * 120;
const NOW = T0 + WEEK_OF_PROBES * 30_000 + 5 * 60_000;
const RETENTION = { rawMs: 3 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 };
const quiet = pino({ level: 'silent' });

let server: TestPostgres;
let dir: string;

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-migrate-store-'));
});

afterAll(() => {
  server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function migrateStore(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMigrateStore(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, { PGPASSWORD: TEST_PG_PASSWORD });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sstpwatch migrate-store', () => {
  it('copies a week of history, verifies the counts, and PostgreSQL then answers as SQLite did', { timeout: 180_000 }, async () => {
    const file = join(dir, 'week.db');
    const sqlite = openSqliteStore({ path: file, log: quiet, now: () => NOW, retention: RETENTION });
    await writeHistory(sqlite, T0, WEEK_OF_PROBES, NOW);
    await sqlite.close();

    const database = await server.createDatabase();
    const result = await migrateStore('--from', file, '--to', server.url(database));
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('verified: the row counts are equal');
    for (const table of ['targets', 'results', 'state_transitions', 'rollups_minute', 'rollups_hour', 'maintenance', 'housekeeping_marks', 'sstp_checks']) {
      const line = new RegExp(`^  ${table} +(\\d+) sqlite +(\\d+) postgres$`, 'm').exec(result.out);
      expect(line, `${table} in:\n${result.out}`).not.toBeNull();
      expect(line![1]).toBe(line![2]);
      expect(Number(line![1]), table).toBeGreaterThan(0);
    }
    expect(result.out).not.toContain(TEST_PG_PASSWORD);

    const before = openSqliteStore({ path: file, log: quiet, now: () => NOW, retention: RETENTION });
    const after = await openPostgresStore({ url: server.urlWithPassword(database), log: quiet, now: () => NOW, retention: RETENTION });
    try {
      await expectSameAnswers(before, after, T0, NOW);
      // New rows continue after the copied ones (identity sequences moved past the copied ids).
      await after.syncTargets([{ name: 'rras-new', group: 'vpn-eu', role: 'server', url: 'https://rras-new.example' }]);
      expect(await after.lastResult('rras-new', 'head')).toBeNull();
    } finally {
      await before.close();
      await after.close();
    }

    const again = await migrateStore('--from', file, '--to', server.url(database));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds 3 target\(s\): migrate-store copies into an empty database only/);
  });

  it('refuses a --to that is not a PostgreSQL URL, and a missing --from', async () => {
    expect(await migrateStore('--from', join(dir, 'x.db'), '--to', '/var/lib/other.db')).toMatchObject({ code: 2, err: expect.stringContaining('--to is not a postgres:// or postgresql:// URL') });
    expect(await migrateStore('--from', join(dir, 'missing.db'), '--to', server.url('x'))).toMatchObject({ code: 1, err: expect.stringContaining('no such file') });
    expect(await migrateStore('--to', server.url('x'))).toMatchObject({ code: 2, err: expect.stringContaining('--from and --to are both required') });
  });
});

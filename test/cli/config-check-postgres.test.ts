// `sstpwatch config check` with `database: postgres://...` against a real PostgreSQL: it connects and says so,
// or says why it cannot, and never prints the password.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConfigCheck } from '../../src/cli/config-check.js';
import { PostgresConnection } from '../../src/store/postgres/connection.js';
import { migratePostgres } from '../../src/store/postgres/migrate.js';
import { pino } from 'pino';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../fixtures/postgres.js';

let server: TestPostgres;
let dir: string;

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-config-pg-'));
});

afterAll(() => {
  server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const GROUPS = 'groups:\n  - name: vpn-eu\n    hostname: vpn.example.com\n    servers: [{ name: rras-1, url: "https://127.0.0.1:1" }]\n';

async function check(database: string, extra = '', env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, `database: "${database}"\n${extra}${GROUPS}`);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigCheck(path, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function passwordFile(password: string, mode = 0o600): string {
  const file = join(dir, `pw-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${password}\n`);
  chmodSync(file, mode);
  return file;
}

describe('sstpwatch config check with a PostgreSQL database', () => {
  it('connects with the password file and says the database is empty', async () => {
    const database = await server.createDatabase();
    const result = await check(server.url(database), `database_password_file: ${passwordFile(TEST_PG_PASSWORD)}\n`);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/database: postgres:\/\/sstpwatch@127\.0\.0\.1:\d+\/\w+: connected to PostgreSQL 15\.\d+.*, empty database: sstpwatch will create its tables \(schema version \d+\)/);
  });

  it('connects with PGPASSWORD and reports the schema version of a migrated database', async () => {
    const database = await server.createDatabase();
    const db = new PostgresConnection({ url: server.urlWithPassword(database), log: pino({ level: 'silent' }) });
    await migratePostgres(db);
    await db.close();
    const result = await check(server.url(database), '', { PGPASSWORD: TEST_PG_PASSWORD });
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/schema version \d+ \(current\)/);
  });

  it('fails with the reason for a wrong password, printing neither password', async () => {
    const database = await server.createDatabase();
    const result = await check(server.url(database), `database_password_file: ${passwordFile('not-the-password', 0o644)}\n`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/cannot connect: 28P01: password authentication failed for user "sstpwatch"/);
    expect(result.err).toMatch(/warning: database_password_file: password file .* is open to other users \(mode 644\); chmod 600 it/);
    expect(`${result.out}${result.err}`).not.toContain('not-the-password');
  });

  it('warns when the URL holds the password, and shows it masked', async () => {
    const database = await server.createDatabase();
    const result = await check(server.urlWithPassword(database));
    expect(result.code).toBe(0);
    expect(result.err).toContain('the URL holds the password, so the config file is a secret');
    expect(result.out).toContain('postgres://sstpwatch:***@127.0.0.1');
    expect(`${result.out}${result.err}`).not.toContain(TEST_PG_PASSWORD);
  });

  it('fails when nothing listens at the address', async () => {
    const result = await check('postgres://sstpwatch@127.0.0.1:1/sstpwatch', '', { PGPASSWORD: 'x' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/cannot connect: .*connect ECONNREFUSED 127\.0\.0\.1:1/);
  });
});

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationError, migrate, readMigrations } from '../../src/store/migrate.js';
import { DEFAULT_MIGRATIONS_DIR, openDatabase } from '../../src/store/database.js';

let dir: string;
const open: Database.Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-migrate-'));
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function database(file = 'test.db'): Database.Database {
  const db = new Database(join(dir, file));
  db.pragma('journal_mode = WAL');
  open.push(db);
  return db;
}

function migrationsDir(files: Record<string, string>): string {
  const path = join(dir, `migrations-${Object.keys(files).join('-')}`);
  mkdirSync(path, { recursive: true });
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(path, name), sql);
  return path;
}

function tables(db: Database.Database): string[] {
  const rows = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  return rows.map((row) => row.name);
}

/** The migrations this package ships: later issues add files, so tests read them rather than hard-code them. */
const SHIPPED = readMigrations(DEFAULT_MIGRATIONS_DIR);
const SHIPPED_VERSIONS = SHIPPED.map((m) => m.version);
const NEWEST = SHIPPED_VERSIONS.at(-1)!;

function versions(db: Database.Database): number[] {
  return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
}

describe('migrate', () => {
  it('brings an empty database to the current schema and records the version', () => {
    const db = database();
    expect(migrate(db, DEFAULT_MIGRATIONS_DIR)).toEqual(SHIPPED.map(({ version, name }) => ({ version, name })));
    expect(SHIPPED[0]).toMatchObject({ version: 1, name: 'init' });
    expect(tables(db)).toEqual(expect.arrayContaining(['certificates', 'results', 'schema_migrations', 'state_transitions', 'targets']));
    expect(versions(db)).toEqual(SHIPPED_VERSIONS);
  });

  it('chooses incremental auto_vacuum for a new database, even one already in WAL mode', () => {
    const db = database();
    expect(db.pragma('page_count', { simple: true })).toBe(1); // WAL mode has written the first page
    migrate(db, DEFAULT_MIGRATIONS_DIR);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
  });

  it('leaves auto_vacuum alone on a database that already has tables', () => {
    const db = database();
    db.exec('CREATE TABLE other (x INTEGER)');
    migrate(db, DEFAULT_MIGRATIONS_DIR);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
  });

  it('never re-runs a migration when the database is opened again', () => {
    const path = join(dir, 'reopen.db');
    openDatabase(path).close();
    const db = openDatabase(path); // 0001 has plain CREATE TABLEs: a re-run would throw
    open.push(db);
    expect(migrate(db, DEFAULT_MIGRATIONS_DIR)).toEqual([]);
    expect(versions(db)).toEqual(SHIPPED_VERSIONS);
  });

  it('applies only the migrations added since the last run, in numeric order', () => {
    const db = database();
    const first = migrationsDir({
      '0002_b.sql': 'CREATE TABLE b (x INTEGER);',
      '0001_a.sql': 'CREATE TABLE a (x INTEGER);',
    });
    expect(migrate(db, first).map((m) => m.version)).toEqual([1, 2]);
    const second = migrationsDir({
      '0010_d.sql': 'CREATE TABLE d (x INTEGER REFERENCES c (x));',
      '0001_a.sql': 'CREATE TABLE a (x INTEGER);',
      '0009_c.sql': 'CREATE TABLE c (x INTEGER PRIMARY KEY);',
      '0002_b.sql': 'CREATE TABLE b (x INTEGER);',
      'README.md': 'not a migration',
    });
    expect(migrate(db, second)).toEqual([
      { version: 9, name: 'c' },
      { version: 10, name: 'd' },
    ]);
    expect(versions(db)).toEqual([1, 2, 9, 10]);
  });

  it('refuses a database written by a newer sstpwatch, with a clear error', () => {
    const db = database();
    migrate(db, DEFAULT_MIGRATIONS_DIR);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, ?, 0)').run('future');
    expect(() => migrate(db, DEFAULT_MIGRATIONS_DIR)).toThrow(MigrationError);
    expect(() => migrate(db, DEFAULT_MIGRATIONS_DIR)).toThrow(new RegExp(`schema version 9999, newer than this sstpwatch knows \\(${NEWEST}\\)`));
  });

  it('refuses to open such a database through openDatabase too', () => {
    const path = join(dir, 'future.db');
    const db = openDatabase(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(NEWEST + 1, 'future');
    db.close();
    expect(() => openDatabase(path)).toThrow(/newer than this sstpwatch knows/);
  });

  it('rolls a failing migration back entirely and does not record it', () => {
    const db = database();
    const migrations = migrationsDir({
      '0001_a.sql': 'CREATE TABLE a (x INTEGER);',
      '0002_bad.sql': 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);',
    });
    expect(() => migrate(db, migrations)).toThrow(/0002_bad\.sql failed: no such table: nowhere/);
    expect(tables(db)).not.toContain('b');
    expect(versions(db)).toEqual([1]);
  });

  it('rejects a .sql file that is not named NNNN_name.sql, and duplicate versions', () => {
    expect(() => readMigrations(migrationsDir({ '1_init.sql': '' }))).toThrow(/"1_init.sql" .* is not named NNNN_name.sql/);
    expect(() => readMigrations(migrationsDir({ '0001_a.sql': '', '0001_b.sql': '' }))).toThrow(/two migration files have version 1/);
  });

  it('keys the minute rollups hour first (0006) and keeps every row a database had before', () => {
    const db = database();
    db.pragma('foreign_keys = ON');
    const before = join(dir, 'migrations-before-0006');
    mkdirSync(before);
    for (const m of SHIPPED.filter((m) => m.version < 6)) copyFileSync(m.file, join(before, `${String(m.version).padStart(4, '0')}_${m.name}.sql`));
    migrate(db, before);
    const insertTarget = db.prepare("INSERT INTO targets (target_id, name, group_name, role, url, created_at) VALUES (?, ?, 'g', 'server', 'https://x', 0)");
    const insertHour = db.prepare('INSERT INTO rollups_minute (target_id, hour, minutes) VALUES (?, ?, ?)');
    const HOUR = 3_600_000;
    for (const id of [1, 2, 3]) {
      insertTarget.run(id, `t${id}`);
      for (let h = 0; h < 4; h++) insertHour.run(id, h * HOUR, Buffer.from([id, h, 0, 7]));
    }
    const rows = () => db.prepare('SELECT target_id, hour, minutes FROM rollups_minute ORDER BY target_id, hour').all();
    const kept = rows();

    expect(migrate(db, DEFAULT_MIGRATIONS_DIR).map((m) => m.version)).toEqual(SHIPPED_VERSIONS.filter((v) => v >= 6));
    expect(rows()).toEqual(kept);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan('SELECT minutes FROM rollups_minute WHERE target_id = 1 AND hour = 0')).toMatch(/PRIMARY KEY \(hour=\? AND target_id=\?\)/);
    expect(plan('SELECT hour FROM rollups_minute WHERE target_id = 1 AND hour < 5')).toMatch(/rollups_minute_by_target/);
    db.prepare('DELETE FROM targets WHERE target_id = 2').run();
    expect(rows()).toEqual(kept.filter((r) => (r as { target_id: number }).target_id !== 2));
  });

  it('refuses a database with a version that no file defines', () => {
    const db = database();
    migrate(db, migrationsDir({ '0001_a.sql': 'CREATE TABLE a (x INTEGER);', '0002_b.sql': 'CREATE TABLE b (x INTEGER);' }));
    expect(() => migrate(db, migrationsDir({ '0001_a.sql': '', '0003_c.sql': '' }))).toThrow(/version\(s\) 2 that no migration file defines/);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';

/** One migration file: `NNNN_name.sql`. */
export interface Migration {
  version: number;
  name: string;
  file: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
}

/** The migrations cannot be applied: a malformed directory, a database from the future, a failing file. */
export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * Applies the migrations of `dir` the database has not seen yet, in numeric order, each in its own
 * transaction, and records them in `schema_migrations`. Refuses a database that has versions the files do
 * not know (it was written by a newer sstpwatch). Returns what it applied, oldest first.
 */
export function migrate(db: Database.Database, dir: string, log?: Logger): AppliedMigration[] {
  const migrations = readMigrations(dir);
  prepareFreshDatabase(db);
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  );
  assertKnownVersions(appliedVersions(db), migrations);
  const applied: AppliedMigration[] = [];
  for (const migration of migrations) {
    if (applyOne(db, migration)) {
      applied.push({ version: migration.version, name: migration.name });
      log?.info({ version: migration.version, name: migration.name }, 'migration applied');
    }
  }
  return applied;
}

/** The migration files of `dir`, ordered by version. Every `.sql` file must be named `NNNN_name.sql`. */
export function readMigrations(dir: string): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_NAME.exec(file);
    if (!match?.[1] || !match[2]) {
      throw new MigrationError(`migration file ${JSON.stringify(file)} in ${dir} is not named NNNN_name.sql`);
    }
    migrations.push({ version: Number(match[1]), name: match[2], file: join(dir, file) });
  }
  migrations.sort((a, b) => a.version - b.version);
  assertUniqueVersions(migrations);
  return migrations;
}

function assertUniqueVersions(migrations: Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    const previous = migrations[i - 1];
    const current = migrations[i];
    if (previous && current && previous.version === current.version) {
      throw new MigrationError(`two migration files have version ${current.version}: ${previous.file}, ${current.file}`);
    }
  }
}

/**
 * auto_vacuum can only be chosen before the first table exists, and not inside a transaction: so here, on a
 * database without any schema object. `journal_mode = WAL` already writes the first page of an empty file, after
 * which the setting only takes effect through a VACUUM (instant on an empty database).
 */
function prepareFreshDatabase(db: Database.Database): void {
  const objects = db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number };
  if (objects.n > 0) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  if (db.pragma('auto_vacuum', { simple: true }) !== 2) db.exec('VACUUM');
}

function appliedVersions(db: Database.Database): number[] {
  const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
  return rows.map((row) => row.version);
}

export function assertKnownVersions(applied: number[], migrations: Migration[]): void {
  const known = new Set(migrations.map((m) => m.version));
  const newest = migrations.at(-1)?.version ?? 0;
  const unknown = applied.filter((version) => !known.has(version));
  if (unknown.length === 0) return;
  const newer = unknown.filter((version) => version > newest);
  if (newer.length > 0) {
    throw new MigrationError(
      `the database has schema version ${Math.max(...newer)}, newer than this sstpwatch knows (${newest}): ` +
        'it was written by a newer sstpwatch; upgrade sstpwatch or use another database file',
    );
  }
  throw new MigrationError(`the database has schema version(s) ${unknown.join(', ')} that no migration file defines`);
}

/** Applies one migration unless it is already recorded (another process may have just applied it). */
function applyOne(db: Database.Database, migration: Migration): boolean {
  const sql = readFileSync(migration.file, 'utf8');
  const apply = db.transaction((): boolean => {
    const done = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
    if (done) return false;
    db.exec(sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      migration.version,
      migration.name,
      Date.now(),
    );
    return true;
  });
  try {
    return apply.immediate();
  } catch (err) {
    throw new MigrationError(`migration ${migration.file} failed: ${(err as Error).message}`, { cause: err });
  }
}

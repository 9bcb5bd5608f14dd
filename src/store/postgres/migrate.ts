// Migrations on PostgreSQL: the files of migrations/postgres/ (same numbers and meaning as the SQLite ones), each in
// its own transaction, all under an advisory lock so that instances starting at once migrate once.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { MigrationError, readMigrations, assertKnownVersions, type AppliedMigration } from '../migrate.js';
import { ADVISORY_LOCKS, type PostgresConnection } from './connection.js';

/** migrations/postgres/ of this package, whether run from src/ (tsx) or from a build next to it. */
export const POSTGRES_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/postgres/', import.meta.url));

/**
 * Applies the migrations the database has not seen yet, in order, each in its own transaction, and records them in
 * `schema_migrations`. Refuses a database with versions the files do not know (written by a newer sstpwatch).
 */
export async function migratePostgres(db: PostgresConnection, dir: string = POSTGRES_MIGRATIONS_DIR, log?: Logger): Promise<AppliedMigration[]> {
  const migrations = readMigrations(dir);
  return db.withAdvisoryLock(ADVISORY_LOCKS.migrate, async (client) => {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
    );
    const rows = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    const done = new Set(rows.rows.map((row) => row.version));
    assertKnownVersions([...done], migrations);
    const applied: AppliedMigration[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      const sql = readFileSync(migration.file, 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new MigrationError(`migration ${migration.file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push({ version: migration.version, name: migration.name });
      log?.info({ version: migration.version, name: migration.name }, 'migration applied');
    }
    return applied;
  });
}

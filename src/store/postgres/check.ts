// `sstpwatch config check` on a PostgreSQL database: can it connect, and which schema version does it hold.
import { pino } from 'pino';
import { readMigrations } from '../migrate.js';
import { PostgresConnection, describePgError, redactUrl } from './connection.js';
import { POSTGRES_MIGRATIONS_DIR } from './migrate.js';

export interface PostgresCheck {
  ok: boolean;
  /** One line for the terminal; never the password. */
  message: string;
}

export async function checkPostgres(url: string, password: string | null, timeoutMs = 5_000): Promise<PostgresCheck> {
  const db = new PostgresConnection({ url, password, log: pino({ level: 'silent' }), connectTimeoutMs: timeoutMs, maxConnections: 1 });
  const newest = readMigrations(POSTGRES_MIGRATIONS_DIR).at(-1)?.version ?? 0;
  try {
    const server = await db.query<{ version: string }>("SELECT current_setting('server_version') AS version");
    const table = await db.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    let schema = `empty database: sstpwatch will create its tables (schema version ${newest})`;
    if (table.rows[0]?.present) {
      const { rows } = await db.query<{ version: number | null }>('SELECT max(version)::int8 AS version FROM schema_migrations');
      const version = rows[0]?.version ?? 0;
      if (version > newest) {
        return { ok: false, message: `${redactUrl(url)}: schema version ${version} is newer than this sstpwatch knows (${newest}): upgrade sstpwatch` };
      }
      schema = version === newest ? `schema version ${version} (current)` : `schema version ${version}: sstpwatch will migrate it to ${newest}`;
    }
    return { ok: true, message: `${redactUrl(url)}: connected to PostgreSQL ${server.rows[0]?.version ?? '?'}, ${schema}` };
  } catch (err) {
    return { ok: false, message: `${redactUrl(url)}: cannot connect: ${describePgError(err)}` };
  } finally {
    await db.close().catch(() => undefined);
  }
}

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { migrate } from './migrate.js';

/** migrations/ of this package, whether run from src/ (tsx) or from a build next to it. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface OpenDatabaseOptions {
  /** Default: the package's migrations/. */
  migrationsDir?: string;
  log?: Logger;
}

/**
 * Opens (creating the file and its directory if needed) the SQLite database sstpwatch uses, configured
 * (WAL, synchronous=NORMAL, busy timeout, foreign keys) and migrated.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  if (path !== '' && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    configure(db, options.log);
    migrate(db, options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR, options.log);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function configure(db: Database.Database, log: Logger | undefined): void {
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal' && journalMode !== 'memory') log?.warn({ journalMode }, 'database is not in WAL mode');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // One write touches about one leaf page per target that has results in it (10,000 targets: ~40 MB).
  db.pragma('cache_size = -32768');
  db.pragma('journal_size_limit = 67108864');
}

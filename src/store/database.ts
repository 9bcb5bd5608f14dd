import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { migrate } from './migrate.js';

/** migrations/ of this package, whether run from src/ (tsx) or from a build next to it. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * SQLite's page cache: each write touches about one leaf page of `results` per target (10,000 targets: ~40 MB),
 * so a smaller cache reads those pages back from the OS on every flush. Measured at 10,000 targets with 30-60 min of
 * history (bench/store.ts --prefill 30 --cache-kib ...): 8 or 16 MiB cost ~40% more CPU per result written than
 * 32 MiB, for 16-24 MiB less resident memory that the kernel's page cache then holds instead.
 */
export const DEFAULT_CACHE_KIB = 32768;

export interface OpenDatabaseOptions {
  /** Default: the package's migrations/. */
  migrationsDir?: string;
  log?: Logger;
  /** SQLite's page cache of this connection, in KiB (default DEFAULT_CACHE_KIB). */
  cacheKiB?: number;
}

/**
 * Opens (creating the file and its directory if needed) the SQLite database sstpwatch uses, configured
 * (WAL, synchronous=NORMAL, busy timeout, foreign keys) and migrated.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database.Database {
  if (path !== '' && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    configure(db, options.log, options.cacheKiB ?? DEFAULT_CACHE_KIB);
    migrate(db, options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR, options.log);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function configure(db: Database.Database, log: Logger | undefined, cacheKiB: number): void {
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal' && journalMode !== 'memory') log?.warn({ journalMode }, 'database is not in WAL mode');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = ${-Math.max(64, Math.round(cacheKiB))}`);
  db.pragma('journal_size_limit = 67108864');
}

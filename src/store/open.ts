// Which store a config asks for: a PostgreSQL URL opens the PostgreSQL store, anything else the SQLite file. Each
// store (and its driver) loads only when it is the one asked for.
import type { Logger } from 'pino';
import { isPostgresUrl, readDatabasePassword } from '../config/database.js';
import { DEFAULT_SITE as DEFAULT_SITE_NAME } from '../config/sharding.js';
import type { Config } from '../config/types.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  log: Logger;
  /** Where PGPASSWORD is read from when no password file is configured. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Opens (and migrates) the configured store. Rejects when it cannot: a startup error, with the reason. */
export async function openStore(
  config: Pick<Config, 'database' | 'databasePasswordFile' | 'retention'> & { site?: string | null },
  options: OpenStoreOptions,
): Promise<Store> {
  const { log } = options;
  // The unnamed site is stored as '' (what rows written before sites exist have); `site: default` is that site too.
  const site = config.site === undefined || config.site === null || config.site === DEFAULT_SITE_NAME ? '' : config.site;
  if (!isPostgresUrl(config.database)) return (await import('./sqlite.js')).openSqliteStore({ path: config.database, log, retention: config.retention, site });
  const file = readDatabasePassword(config.databasePasswordFile);
  for (const warning of file.warnings) log.warn({ warning }, 'database password file warning');
  const env = options.env ?? process.env;
  const { openPostgresStore } = await import('./postgres/store.js');
  return openPostgresStore({ url: config.database, password: file.password ?? env['PGPASSWORD'] ?? null, log, retention: config.retention, site });
}

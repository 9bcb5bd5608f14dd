// `sstpwatch migrate-store --from FILE --to URL`: moves an SQLite history to PostgreSQL and verifies the counts.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isPostgresUrl, postgresUrlProblem, readDatabasePassword } from '../config/database.js';
import { ConfigError } from '../config/types.js';
import type { CopiedTable } from '../store/postgres/copy.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Output } from './output.js';

export const MIGRATE_STORE_USAGE = 'usage: sstpwatch migrate-store --from FILE.db --to postgres://USER@HOST:PORT/DB [--password-file FILE]';

export async function runMigrateStore(args: string[], io: Output, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let values: { from?: string; to?: string; 'password-file'?: string };
  try {
    ({ values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, 'password-file': { type: 'string' } }, strict: true }));
  } catch (err) {
    io.err(`sstpwatch migrate-store: ${(err as Error).message}\n${MIGRATE_STORE_USAGE}`);
    return EXIT_USAGE;
  }
  const { from, to } = values;
  if (!from || !to) {
    io.err(`sstpwatch migrate-store: --from and --to are both required\n${MIGRATE_STORE_USAGE}`);
    return EXIT_USAGE;
  }
  const problem = isPostgresUrl(to) ? postgresUrlProblem(to) : 'is not a postgres:// or postgresql:// URL';
  if (problem !== null) {
    io.err(`sstpwatch migrate-store: --to ${problem}\n${MIGRATE_STORE_USAGE}`);
    return EXIT_USAGE;
  }
  if (!existsSync(from)) {
    io.err(`sstpwatch migrate-store: --from ${JSON.stringify(from)}: no such file`);
    return EXIT_FAILED;
  }
  let password: string | null;
  try {
    password = readDatabasePassword(values['password-file'] ?? null).password ?? env['PGPASSWORD'] ?? null;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`sstpwatch migrate-store: --password-file: ${err.issues[0]?.message ?? err.message}`);
    return EXIT_FAILED;
  }
  // The drivers (SQLite, PostgreSQL) load once the arguments are known good: a usage error answers at once.
  const [{ pino }, { redactUrl }, { CopyRefusedError, copySqliteToPostgres }] = await Promise.all([
    import('pino'),
    import('../store/postgres/connection.js'),
    import('../store/postgres/copy.js'),
  ]);
  io.out(`copying ${from} to ${redactUrl(to)} (stop sstpwatch first: results it writes meanwhile are not copied)`);
  let lastTable: CopiedTable | null = null;
  let lastRows = 0;
  const started = performance.now();
  try {
    const counts = await copySqliteToPostgres({
      from,
      to,
      password,
      log: pino({ level: 'silent' }),
      onProgress: (table, rows) => {
        if (table !== lastTable && lastTable !== null) io.out(`  ${lastTable}: ${lastRows} rows`);
        lastTable = table;
        lastRows = rows;
      },
    });
    io.out('verified: the row counts are equal');
    for (const c of counts) io.out(`  ${c.table.padEnd(20)} ${String(c.sqlite).padStart(12)} sqlite  ${String(c.postgres).padStart(12)} postgres`);
    io.out(`done in ${((performance.now() - started) / 1000).toFixed(1)} s: set database: ${redactUrl(to)} in the config and start sstpwatch`);
    return EXIT_OK;
  } catch (err) {
    const message = err instanceof CopyRefusedError ? err.message : `the copy failed and was rolled back: ${(err as Error).message}`;
    io.err(`sstpwatch migrate-store: ${message}`);
    return EXIT_FAILED;
  }
}

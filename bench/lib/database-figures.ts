// What the fleet bench reads of sstpwatch's database after a run: the results table's rows and bytes (SQLite's
// dbstat, PostgreSQL's pg_total_relation_size), the commits a run made, and the CPU of a PostgreSQL server.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { TestPostgres } from '../../test/fixtures/postgres.js';
import { processTreeCpuSeconds } from './proc.js';
import type { DatabaseFigures } from './report.js';

/** Commits by sstpwatch seen by a reader polling PRAGMA data_version every 50 ms (a lower bound). */
export function watchCommits(path: string): { stop(): number } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  let last = db.pragma('data_version', { simple: true }) as number;
  let commits = 0;
  const timer = setInterval(() => {
    const v = db.pragma('data_version', { simple: true }) as number;
    if (v !== last) commits++;
    last = v;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      db.close();
      return commits;
    },
  };
}

export function databaseFigures(path: string): DatabaseFigures {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const results = (db.prepare('SELECT count(*) AS c FROM results').get() as { c: number }).c;
    const failed = (db.prepare('SELECT count(*) AS c FROM results WHERE error_kind <> 0').get() as { c: number }).c;
    const withMessage = (db.prepare('SELECT count(*) AS c FROM results WHERE message IS NOT NULL').get() as { c: number }).c;
    const table = db.prepare("SELECT sum(pgsize) AS bytes, sum(payload) AS payload FROM dbstat WHERE name = 'results'").get() as { bytes: number; payload: number };
    const fileBytes = statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    return {
      results,
      failedResults: failed,
      resultsWithMessage: withMessage,
      resultsTableBytes: table.bytes,
      bytesPerResult: oneDecimal(table.bytes / results),
      payloadBytesPerResult: oneDecimal(table.payload / results),
      fileBytes,
    };
  } finally {
    db.close();
  }
}

/** CPU of the postmaster and every process it started (backends, checkpointer, walwriter, autovacuum...). */
export function postgresCpu(server: TestPostgres): number {
  return processTreeCpuSeconds(Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]));
}

/** The results table of a PostgreSQL database: rows, and its bytes with index and TOAST (pg_total_relation_size). */
export async function postgresFigures(server: TestPostgres, url: string): Promise<DatabaseFigures> {
  const client = await server.client(new URL(url).pathname.slice(1));
  try {
    const { rows } = await client.query<{ results: string; failed: string; with_message: string; bytes: string; database_bytes: string }>(
      `SELECT count(*) AS results, count(*) FILTER (WHERE error_kind <> 0) AS failed, count(message) AS with_message,
              pg_total_relation_size('results') AS bytes, pg_database_size(current_database()) AS database_bytes FROM results`,
    );
    const r = rows[0]!;
    const results = Number(r.results);
    return {
      results,
      failedResults: Number(r.failed),
      resultsWithMessage: Number(r.with_message),
      resultsTableBytes: Number(r.bytes),
      bytesPerResult: oneDecimal(Number(r.bytes) / results),
      payloadBytesPerResult: NaN,
      fileBytes: Number(r.database_bytes),
    };
  } finally {
    await client.end();
  }
}

const oneDecimal = (value: number): number => Math.round(value * 10) / 10;

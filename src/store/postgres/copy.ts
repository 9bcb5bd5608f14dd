// `sstpwatch migrate-store`: copies an SQLite history into an empty PostgreSQL database, table by table in key
// order, all in one transaction (a copy that fails leaves the database as empty as it was), then compares the
// row counts of every table before committing.
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { openDatabase } from '../database.js';
import { PostgresConnection, type Queryable } from './connection.js';
import { migratePostgres } from './migrate.js';
import { INSERT_RESULTS, httpVersionText, int2OrNull, int4, int4OrNull, text, tlsVersionText } from './rows.js';

/** Tables in copy order (parents first); every one is counted on both sides. */
const COPIED_TABLES = [
  'targets', 'certificates', 'results', 'state_transitions', 'rollups_minute', 'rollups_hour', 'maintenance', 'housekeeping_marks', 'sstp_checks',
] as const;
export type CopiedTable = (typeof COPIED_TABLES)[number];

export interface TableCount {
  table: CopiedTable;
  sqlite: number;
  postgres: number;
}

export interface CopyOptions {
  from: string;
  to: string;
  password?: string | null;
  log: Logger;
  /** Called after each chunk, for progress output. */
  onProgress?: (table: CopiedTable, rows: number) => void;
  chunkRows?: number;
}

export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

type Row = Record<string, unknown>;

interface TablePlan {
  /** Key columns, for keyset paging on the SQLite side. */
  key: string[];
  columns: string[];
  /** PostgreSQL array types, one per column, for INSERT ... unnest. */
  types: string[];
  /** The values of one SQLite row as PostgreSQL takes them. */
  convert?: (row: Row) => unknown[];
  /** A statement of its own (results: the store's prepared insert). */
  insert?: { name: string; text: string };
}

const RESULT_COLUMNS = ['target_id', 'at', 'error_kind', 'status_code', 'duration_us', 'dns_us', 'connect_us', 'tls_us', 'processing_us', 'http_version', 'tls_version', 'certificate_id', 'message', 'uptime_exclusion'];

const asVersion = (value: unknown, convert: (v: bigint | string | null) => string | null): string | null =>
  value === null || value === undefined ? null : convert(typeof value === 'string' ? value : BigInt(value as number));

const PLANS: Record<CopiedTable, TablePlan> = {
  targets: { key: ['target_id'], columns: ['target_id', 'name', 'group_name', 'role', 'url', 'created_at'], types: ['int4', 'text', 'text', 'text', 'text', 'int8'] },
  certificates: { key: ['certificate_id'], columns: ['certificate_id', 'sha256'], types: ['int4', 'text'] },
  results: {
    key: ['target_id', 'at'],
    columns: RESULT_COLUMNS,
    types: [],
    insert: INSERT_RESULTS,
    convert: (r) => [
      r['target_id'], r['at'], r['error_kind'], int2OrNull(r['status_code'] as number | null), int4(r['duration_us'] as number),
      int4OrNull(r['dns_us'] as number | null), int4OrNull(r['connect_us'] as number | null), int4OrNull(r['tls_us'] as number | null),
      int4OrNull(r['processing_us'] as number | null), asVersion(r['http_version'], httpVersionText), asVersion(r['tls_version'], tlsVersionText),
      r['certificate_id'], text(r['message'] as string | null), r['uptime_exclusion'],
    ],
  },
  state_transitions: { key: ['target_id', 'at'], columns: ['target_id', 'at', 'from_state', 'to_state', 'cause', 'message'], types: ['int4', 'int8', 'text', 'text', 'text', 'text'] },
  rollups_minute: { key: ['target_id', 'hour'], columns: ['target_id', 'hour', 'minutes'], types: ['int4', 'int8', 'bytea'] },
  rollups_hour: {
    key: ['target_id', 'bucket'],
    columns: ['target_id', 'bucket', 'probes', 'failures', 'counted', 'counted_failures', 'sum_us', 'max_us', 'p95_us'],
    types: ['int4', 'int8', 'int4', 'int4', 'int4', 'int4', 'int8', 'int4', 'int4'],
  },
  maintenance: { key: ['target_id'], columns: ['target_id', 'until', 'reason', 'set_at'], types: ['int4', 'int8', 'text', 'int8'] },
  housekeeping_marks: { key: ['name'], columns: ['name', 'at'], types: ['text', 'int8'] },
  sstp_checks: {
    key: ['target_id', 'at'],
    columns: ['target_id', 'at', 'error_kind', 'stage', 'reply', 'status_code', 'duration_us', 'dns_us', 'connect_us', 'tls_us', 'http_us', 'call_us', 'disconnect_us', 'hash_bitmask', 'sstp_status', 'status_attribute', 'disconnect', 'tls_version', 'correlation_id', 'message'],
    types: ['int4', 'int8', 'int2', 'int2', 'int2', 'int4', 'int4', 'int4', 'int4', 'int4', 'int4', 'int4', 'int4', 'int4', 'int4', 'int4', 'int2', 'text', 'text', 'text'],
  },
};

/** Copies every table and returns the counts on both sides. Throws CopyRefusedError, or the error that stopped it. */
export async function copySqliteToPostgres(options: CopyOptions): Promise<TableCount[]> {
  const chunkRows = options.chunkRows ?? 5_000;
  // Opening migrates the file to this version's schema, as starting sstpwatch on it would.
  const sqlite = openDatabase(options.from, { log: options.log });
  const pg = new PostgresConnection({ url: options.to, password: options.password, log: options.log, statementTimeoutMs: 0 });
  try {
    await pg.waitUntilReachable(10_000);
    await migratePostgres(pg, undefined, options.log);
    return await pg.transaction(async (client) => {
      const present = await client.query<{ n: number }>('SELECT count(*)::int8 AS n FROM targets');
      if ((present.rows[0]?.n ?? 0) > 0) {
        throw new CopyRefusedError(`the PostgreSQL database already holds ${present.rows[0]?.n} target(s): migrate-store copies into an empty database only`);
      }
      for (const table of COPIED_TABLES) await copyTable(sqlite, client, table, chunkRows, options.onProgress);
      // Identity columns continue after the copied ids.
      for (const [table, column] of [['targets', 'target_id'], ['certificates', 'certificate_id']] as const) {
        await client.query(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce((SELECT max(${column}) FROM ${table}), 0) + 1, false)`);
      }
      const counts: TableCount[] = [];
      for (const table of COPIED_TABLES) {
        const source = sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
        const copied = await client.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`);
        counts.push({ table, sqlite: source.n, postgres: copied.rows[0]?.n ?? 0 });
      }
      const different = counts.filter((c) => c.sqlite !== c.postgres);
      if (different.length > 0) {
        throw new CopyRefusedError(`row counts differ after the copy (${different.map((c) => `${c.table}: ${c.sqlite} vs ${c.postgres}`).join(', ')}); nothing was committed`);
      }
      return counts;
    });
  } finally {
    sqlite.close();
    await pg.close();
  }
}

async function copyTable(sqlite: Database.Database, client: Queryable, table: CopiedTable, chunkRows: number, onProgress?: CopyOptions['onProgress']): Promise<void> {
  const plan = PLANS[table];
  const keyList = plan.key.join(', ');
  const after = plan.key.length === 1 ? `${plan.key[0]} > ?` : `(${keyList}) > (${plan.key.map(() => '?').join(', ')})`;
  const first = sqlite.prepare(`SELECT ${plan.columns.join(', ')} FROM ${table} ORDER BY ${keyList} LIMIT ?`);
  const next = sqlite.prepare(`SELECT ${plan.columns.join(', ')} FROM ${table} WHERE ${after} ORDER BY ${keyList} LIMIT ?`);
  const insert = plan.insert ?? {
    name: `copy_${table}`,
    text: `INSERT INTO ${table} (${plan.columns.join(', ')}) SELECT * FROM unnest(${plan.types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`,
  };
  let last: Row | null = null;
  let copied = 0;
  for (;;) {
    const rows = (last === null ? first.all(chunkRows) : next.all(...plan.key.map((k) => last![k]), chunkRows)) as Row[];
    if (rows.length === 0) return;
    const values = rows.map((row) => (plan.convert ? plan.convert(row) : plan.columns.map((c) => row[c])));
    const columns = plan.columns.map((_, i) => values.map((v) => v[i]));
    await client.query({ ...insert, values: columns });
    copied += rows.length;
    onProgress?.(table, copied);
    last = rows.at(-1)!;
  }
}

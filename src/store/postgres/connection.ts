// The one place sstpwatch talks to PostgreSQL: the pool, its settings, transactions, advisory locks and the
// connect-with-backoff at start. Everything else in src/store/postgres/ goes through a PostgresConnection.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { StoreTimeoutError, StoreUnavailableError } from '../store.js';

/** Advisory lock keys (one bigint namespace per database, shared by every sstpwatch using it). */
export const ADVISORY_LOCKS = {
  /** Held while migrations run: two instances starting at once migrate once. */
  migrate: 0x5357_4d01n,
  /** Held by the one instance that runs housekeeping (rollups, retention) for the whole database. */
  housekeeping: 0x5357_4d02n,
} as const;

export interface PostgresOptions {
  /** `postgres://user@host:port/db` (or `postgresql://`); a password in it is used but never logged. */
  url: string;
  /** The password when the URL has none (from a password file); else PGPASSWORD, as libpq does. */
  password?: string | null;
  log: Logger;
  /** Pool size: writes are one batch at a time, reads come from the API. Default 4. */
  maxConnections?: number;
  /** A statement running longer is cancelled (ms). Default 30 s. */
  statementTimeoutMs?: number;
  /**
   * The API's reads (read()): a statement running longer is cancelled by the server, and a read waits no longer for a
   * connection of their pool (ms). Default API_READ_TIMEOUT_MS.
   */
  readTimeoutMs?: number;
  /** How long a new connection may take (ms). Default 5 s. */
  connectTimeoutMs?: number;
}

/** The URL with any password replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable PostgreSQL URL>';
  }
}

/** The URL with `password` put in, unless it has one (node-postgres reads the password from the URL only). */
export function withPassword(url: string, password: string | null): string {
  if (!password) return url;
  const parsed = new URL(url);
  if (parsed.password) return url;
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

// bigint (int8) and numeric come back as strings by default; every value sstpwatch stores is a safe integer.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const parseSafeNumber = (text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`PostgreSQL returned ${text}, beyond a safe integer`);
  return value;
};
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return parseSafeNumber;
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * The deadline of each statement of an API read (history, rollups, uptime, incidents, the published states): a read
 * that waits on a lock or a busy server is answered 503 well before the listener's idle timeout (30 s) would close
 * the client's connection without an answer, and its connection is free again at once.
 */
export const API_READ_TIMEOUT_MS = 5_000;
/**
 * Connections of the API reads' own pool, so a slow read never holds a connection writes need; as many as the main
 * pool, which the reads shared before (the status page reads the history of up to 200 targets at once).
 */
export const API_READ_CONNECTIONS = 4;
/** SQLSTATE of a statement cancelled (here: by its statement_timeout). */
const QUERY_CANCELED = '57014';
/** What pg-pool rejects with when no connection came within connectionTimeoutMillis. */
const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

/** A named query: node-postgres prepares it once per connection and reuses the plan. */
export interface Statement {
  name: string;
  text: string;
}

export class PostgresConnection {
  readonly pool: pg.Pool;
  /** The API's reads: statements past readTimeoutMs are cancelled by the server (statement_timeout). */
  private readonly readPool: pg.Pool;
  readonly readTimeoutMs: number;
  /** The URL without its password. */
  readonly where: string;
  private readonly log: Logger;

  constructor(options: PostgresOptions) {
    this.log = options.log;
    this.where = redactUrl(options.url);
    const config: pg.PoolConfig = {
      // node-postgres lets the URL's fields override the config's, an absent password included: so a password
      // from a file goes into the URL (which only this pool sees).
      connectionString: withPassword(options.url, options.password ?? null),
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      application_name: 'sstpwatch',
      keepAlive: true,
      types,
    };
    this.pool = new pg.Pool(config);
    this.readTimeoutMs = options.readTimeoutMs ?? API_READ_TIMEOUT_MS;
    this.readPool = new pg.Pool({
      ...config,
      max: API_READ_CONNECTIONS,
      statement_timeout: this.readTimeoutMs,
      connectionTimeoutMillis: Math.min(config.connectionTimeoutMillis ?? this.readTimeoutMs, this.readTimeoutMs),
      application_name: 'sstpwatch api reads',
    });
    for (const pool of [this.pool, this.readPool]) {
      // An idle connection cut by a server restart emits here; unhandled it would end the process.
      pool.on('error', (err) => this.log.warn({ err: describePgError(err), database: this.where }, 'idle PostgreSQL connection lost'));
    }
  }

  /** Rejects with StoreUnavailableError when the server cannot be reached (the API then answers 503, not 500). */
  query<R extends pg.QueryResultRow>(statement: Statement | string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    const running = typeof statement === 'string' ? this.pool.query<R>(statement, values) : this.pool.query<R>({ ...statement, values });
    return running.catch((err: unknown) => {
      throw isConnectionError(err) ? new StoreUnavailableError(`PostgreSQL: ${describePgError(err)}`, { cause: err }) : err;
    });
  }

  /**
   * One statement of an API read, on the reads' own pool: past readTimeoutMs (waiting for a connection, or running)
   * it rejects with StoreTimeoutError and the server has cancelled it; unreachable, with StoreUnavailableError.
   */
  read<R extends pg.QueryResultRow>(statement: Statement, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.readPool.query<R>({ ...statement, values }).catch((err: unknown) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === QUERY_CANCELED || (err instanceof Error && err.message === POOL_TIMEOUT_MESSAGE)) {
        throw new StoreTimeoutError(this.readTimeoutMs, `PostgreSQL: ${describePgError(err)}`, { cause: err });
      }
      throw isConnectionError(err) ? new StoreUnavailableError(`PostgreSQL: ${describePgError(err)}`, { cause: err }) : err;
    });
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const { client, release } = await this.checkout();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      release(broken);
    }
  }

  /**
   * A connection of the pool for several statements. While it is out of the pool, a connection the server cuts
   * between two statements emits 'error' with nobody listening (which would end the process): log it here; the
   * next statement on it fails and the caller sees that.
   */
  private async checkout(): Promise<{ client: pg.PoolClient; release: (broken: boolean) => void }> {
    const client = await this.pool.connect();
    const onError = (err: Error) => this.log.warn({ err: describePgError(err), database: this.where }, 'PostgreSQL connection lost');
    client.on('error', onError);
    return {
      client,
      release: (broken) => {
        client.removeListener('error', onError);
        client.release(broken);
      },
    };
  }

  /** Runs `work` holding a session advisory lock on its own connection (waits for another holder). */
  async withAdvisoryLock<T>(key: bigint, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const { client, release } = await this.checkout();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [key.toString()]);
      try {
        return await work(client);
      } finally {
        try {
          await client.query('SELECT pg_advisory_unlock($1)', [key.toString()]);
        } catch {
          broken = true; // a lost session releases its locks
        }
      }
    } finally {
      release(broken);
    }
  }

  /**
   * Waits until the server answers, retrying with a growing pause (1 s, 2 s, 4 s ... 15 s) for at most
   * `withinMs`. Throws the last error, described, when it never does.
   */
  async waitUntilReachable(withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    let pauseMs = 1_000;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.query('SELECT 1');
        if (attempt > 1) this.log.info({ database: this.where, attempt }, 'PostgreSQL reachable');
        return;
      } catch (err) {
        const reason = describePgError(err);
        if (Date.now() + pauseMs > deadline) throw new PostgresUnreachableError(this.where, reason, { cause: err });
        this.log.warn({ database: this.where, attempt, reason, retryInMs: pauseMs }, 'PostgreSQL not reachable; retrying');
        await sleep(pauseMs);
        pauseMs = Math.min(pauseMs * 2, 15_000);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.readPool.end()]);
  }
}

class PostgresUnreachableError extends Error {
  constructor(where: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot reach PostgreSQL at ${where}: ${reason}`, options);
    this.name = 'PostgresUnreachableError';
  }
}

/** `CODE: message` (the SQLSTATE or the socket error code), never the connection string. */
export function describePgError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describePgError(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message || err.name;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}

/**
 * True when the error is about the connection (server down, restarting, network, timeout), so the same rows
 * will go in once it is back; false for an error in the data or the statement.
 */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention: shutdown), 58 (system).
  if (/^(08|53|57|58)/.test(code)) return true;
  return /^E[A-Z]+$/.test(code); // ECONNREFUSED, ECONNRESET, ETIMEDOUT ...
}

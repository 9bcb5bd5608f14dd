// The session that proves which virtual shards of a site this instance owns: PostgreSQL session-level advisory
// locks, all held on ONE dedicated connection (never the pool, whose connections come and go) for the life of the
// process. When that session ends (process killed, connection cut, server restarted), PostgreSQL frees its locks
// and the other instances of the site take the shards over.
//
// Keys, in the two-int4 advisory key space (pg_locks: classid = key1, objid = key2, objsubid = 2), which never
// meets the bigint space of ADVISORY_LOCKS (objsubid = 1):
//   (siteKey, 0..shards-1)   exclusive: the owner of that virtual shard
//   (siteKey, MEMBER_SLOT)   shared: one per live instance of the site; pg_locks counts them (any user may read it)
import pg from 'pg';
import type { Logger } from 'pino';
import { readDatabasePassword } from '../../config/database.js';
import { ADVISORY_LOCKS, describePgError, redactUrl, withPassword } from './connection.js';

/** The member slot: above any shard number. */
export const MEMBER_SLOT = 1_000_000;

export interface ShardLockOptions {
  url: string;
  password: string | null;
  /** Non-negative int4, from the site's name (scheduler/ownership.ts siteKey). */
  siteKey: number;
  log: Logger;
  connectTimeoutMs?: number;
  /** A statement on the session running longer fails (and the session is treated as lost). Default 10 s. */
  statementTimeoutMs?: number;
}

/** What the site looks like now: live members (this one included) and the shards any member holds. */
export interface SiteSurvey {
  peers: number;
  held: number[];
}

const SURVEY = `
  SELECT count(*) FILTER (WHERE objid = $2 AND mode = 'ShareLock')::int AS peers,
         coalesce(array_agg(objid::int) FILTER (WHERE objid <> $2 AND mode = 'ExclusiveLock'), '{}') AS held
    FROM pg_locks
   WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::int::oid
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** One dedicated PostgreSQL session holding this instance's membership, shards and the housekeeping lock. */
export class ShardLockSession {
  private lostHandlers: ((err: Error) => void)[] = [];
  private ended = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly siteKey: number,
    private readonly log: Logger,
  ) {
    const lost = (err: Error) => {
      if (this.ended) return;
      this.ended = true;
      for (const handler of this.lostHandlers) handler(err);
    };
    client.on('error', (err) => lost(new Error(describePgError(err))));
    client.on('end', () => lost(new Error('the PostgreSQL session ended')));
  }

  /** Connects and joins the site (the member lock). Rejects when PostgreSQL cannot be reached. */
  static async open(options: ShardLockOptions): Promise<ShardLockSession> {
    const client = new pg.Client({
      connectionString: withPassword(options.url, options.password),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      application_name: 'sstpwatch shard locks',
      // a peer that vanishes without closing its socket is found by keepalive probes, not at the next query
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('error', () => undefined); // until the session listens itself
    try {
      await client.connect();
      await client.query('SELECT pg_advisory_lock_shared($1, $2)', [options.siteKey, MEMBER_SLOT]);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new Error(`cannot open the shard lock session on ${redactUrl(options.url)}: ${describePgError(err)}`, { cause: err });
    }
    return new ShardLockSession(client, options.siteKey, options.log);
  }

  /** Called once, when the session ends without close(): every lock it held is gone. */
  onLost(handler: (err: Error) => void): void {
    this.lostHandlers.push(handler);
  }

  async survey(): Promise<SiteSurvey> {
    const { rows } = await this.client.query<{ peers: number; held: number[] }>(SURVEY, [this.siteKey, MEMBER_SLOT]);
    const row = rows[0] ?? { peers: 0, held: [] };
    return { peers: row.peers, held: row.held };
  }

  /** Takes the shard if no session holds it; false when another does. */
  async take(shard: number): Promise<boolean> {
    const { rows } = await this.client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS taken', [this.siteKey, shard]);
    return rows[0]?.taken === true;
  }

  async release(shard: number): Promise<void> {
    await this.client.query('SELECT pg_advisory_unlock($1, $2)', [this.siteKey, shard]);
  }

  /** Takes the database-wide housekeeping lock if nobody holds it (kept until the session ends). */
  async takeHousekeeping(): Promise<boolean> {
    const { rows } = await this.client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1) AS taken', [ADVISORY_LOCKS.housekeeping.toString()]);
    return rows[0]?.taken === true;
  }

  /** Ends the session: PostgreSQL frees every lock it held. */
  async close(): Promise<void> {
    this.ended = true;
    await this.client.end().catch((err: unknown) => this.log.debug({ err: describePgError(err) }, 'shard lock session close failed'));
  }
}

/** Opens shard lock sessions on the configured PostgreSQL, with the password found as the store finds it. */
export function shardLockOpener(
  config: { database: string; databasePasswordFile: string | null },
  options: { siteKey: number; log: Logger; env?: Readonly<Record<string, string | undefined>> },
): () => Promise<ShardLockSession> {
  return () => {
    const file = readDatabasePassword(config.databasePasswordFile);
    const password = file.password ?? (options.env ?? process.env)['PGPASSWORD'] ?? null;
    return ShardLockSession.open({ url: config.database, password, siteKey: options.siteKey, log: options.log });
  };
}

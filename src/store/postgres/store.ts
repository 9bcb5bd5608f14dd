// The store on PostgreSQL (node-postgres, one pool): the same tables and answers as the SQLite store, composed of
// the same parts. Rows are queued (../intake.ts) and written in batches (writer.ts); while PostgreSQL is down or
// restarting they wait in the bounded queues and go in when it is back.
import type { Logger } from 'pino';
import type { RetentionConfig } from '../../config/types.js';
import { DEFAULT_SITE, type SiteStates } from '../../health/sites.js';
import type { Maintenance } from '../../health/types.js';
import { DEFAULT_RETENTION, type MarkName } from '../housekeeping-plan.js';
import { WriteIntake } from '../intake.js';
import { QueuedStore } from '../queued-store.js';
import { TargetNotFoundError, UnknownSiteError, type TargetRecord, type UptimeCount } from '../store.js';
import { describePgError, PostgresConnection, type PostgresOptions } from './connection.js';
import { PostgresHousekeeping } from './housekeeping.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from './migrate.js';
import { PostgresReads } from './reads.js';
import { PostgresSiteStates } from './states.js';
import { SQL } from './statements.js';
import { PostgresWriter } from './writer.js';

export interface PostgresStoreOptions extends Omit<PostgresOptions, 'log'> {
  log: Logger;
  migrationsDir?: string;
  /** Results kept in memory while PostgreSQL cannot be written; beyond it the oldest are dropped. */
  maxPending?: number;
  now?: () => number;
  retention?: RetentionConfig;
  /** How long the start waits for PostgreSQL to answer (ms). Default 60 s. */
  startupTimeoutMs?: number;
  /** The site this instance probes from: its targets (and so its history) are apart from other sites'. Default ''. */
  site?: string;
}

/** Another instance runs housekeeping and moves the marks: uptime reads them again when they are older than this. */
const MARKS_MAX_AGE_MS = 30_000;

/** Connects (waiting for the server up to startupTimeoutMs), migrates and loads. Throws if it cannot (startup error). */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const db = new PostgresConnection(options);
  try {
    await db.waitUntilReachable(options.startupTimeoutMs ?? 60_000);
    await migratePostgres(db, options.migrationsDir ?? POSTGRES_MIGRATIONS_DIR, options.log);
    const store = new PostgresStore(db, options);
    await store.load();
    options.log.info({ database: db.where }, 'PostgreSQL store open');
    return store;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export class PostgresStore extends QueuedStore {
  private readonly writer: PostgresWriter;
  /** Housekeeping progress, as persisted in housekeeping_marks. */
  private readonly marks: Map<MarkName, number>;
  private marksReadAt = Number.NEGATIVE_INFINITY;
  private readonly states: PostgresSiteStates;
  /** Other sites' target ids, by site and name, as reads of their history found them (ids never change). */
  private readonly otherSites = new Map<string, number>();
  private readonly log: PostgresStoreOptions['log'];

  constructor(
    readonly db: PostgresConnection,
    options: Pick<PostgresStoreOptions, 'log' | 'maxPending' | 'now' | 'retention' | 'site'>,
  ) {
    const intake = new WriteIntake(options);
    const marks = new Map<MarkName, number>();
    const retention = options.retention ?? DEFAULT_RETENTION;
    const allTargetIds = async () => (await db.query<{ target_id: number }>(SQL.allTargetIds)).rows.map((row) => row.target_id);
    const housekeeping = new PostgresHousekeeping(db, marks, retention, allTargetIds, options.log);
    const site = options.site ?? DEFAULT_SITE;
    super(intake, new PostgresReads(db, marks, site), housekeeping.steps, site);
    this.marks = marks;
    this.log = options.log;
    this.states = new PostgresSiteStates(db);
    this.writer = new PostgresWriter(db, intake, marks, options.log, () => housekeeping.steps.rewound(), housekeeping.steps.floors);
  }

  /** Reads the targets and housekeeping marks (after migrating). */
  async load(): Promise<void> {
    await this.loadTargetIds();
    await this.loadMarks();
  }

  override async sites(): Promise<string[]> {
    const { rows } = await this.db.read<{ site: string }>(SQL.selectSites);
    const sites = rows.map((row) => row.site);
    return sites.includes(this.site) ? sites : [...sites, this.site].sort();
  }

  siteStates(): Promise<SiteStates> {
    return this.states.read();
  }

  override async uptime(target: string, from: number, to: number, site?: string): Promise<UptimeCount> {
    if (this.intake.now() - this.marksReadAt > MARKS_MAX_AGE_MS) await this.loadMarks(true);
    return super.uptime(target, from, to, site);
  }

  protected override async otherSiteTargetId(site: string, target: string): Promise<number> {
    const key = `${site}\u0000${target}`;
    const known = this.otherSites.get(key);
    if (known !== undefined) return known;
    const { rows } = await this.db.read<{ target_id: number }>(SQL.targetAt, [site, target]);
    const found = rows[0]?.target_id;
    if (found !== undefined) {
      this.otherSites.set(key, found);
      return found;
    }
    const sites = await this.sites();
    throw sites.includes(site) ? new TargetNotFoundError(target) : new UnknownSiteError(site, sites);
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    if (targets.length > 0) {
      await this.db.query(SQL.upsertTargets, [
        targets.map((t) => t.name),
        targets.map((t) => t.group),
        targets.map((t) => t.role),
        targets.map((t) => t.url),
        this.intake.now(),
        this.site,
      ]);
    }
    await this.loadTargetIds(targets);
  }

  async flush(): Promise<void> {
    await this.writer.flush();
    if (this.intake.isClosed) return;
    const states = this.intake.takePublished();
    try {
      await this.states.write(states);
    } catch (err) {
      // Kept for the next flush; only a newer state of the same target replaces one.
      this.intake.returnPublished(states);
      // The results' writer reports the outage; this only says what waits with them.
      this.log.debug({ err: describePgError(err), states: states.length }, 'live states not written; retrying at the next flush');
    }
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    this.intake.requireTargetId(target);
    if (maintenance) await this.db.query(SQL.upsertMaintenance, [target, maintenance.until, maintenance.reason, this.intake.now()]);
    else await this.db.query(SQL.deleteMaintenance, [target]);
  }

  /** Writes what is queued (if PostgreSQL answers) and closes the pool. */
  async close(): Promise<void> {
    if (this.intake.isClosed) return;
    await this.writer.flush();
    this.intake.close();
    await this.db.close();
  }

  /** `forApi`: for an API read, with its deadline. */
  private async loadMarks(forApi = false): Promise<void> {
    const marks = forApi ? await this.db.read<{ name: string; at: number }>(SQL.selectMarks) : await this.db.query<{ name: string; at: number }>(SQL.selectMarks);
    for (const row of marks.rows) this.marks.set(row.name as MarkName, row.at);
    this.marksReadAt = this.intake.now();
  }

  private async loadTargetIds(synced: readonly TargetRecord[] = []): Promise<void> {
    const { rows } = await this.db.query<{ target_id: number; name: string }>(SQL.selectTargets, [this.site]);
    this.intake.setTargets(new Map(rows.map((row) => [row.name, row.target_id])), synced);
  }
}

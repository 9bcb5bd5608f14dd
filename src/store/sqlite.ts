// The store on SQLite (better-sqlite3): a facade over its parts. Rows are queued (intake.ts) and written in one
// transaction per flush (sqlite/writer.ts); reads answer from the file (sqlite/reads.ts); housekeeping runs in
// short steps (sqlite/housekeeping.ts); every statement is prepared once (sqlite/statements.ts).
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/types.js';
import { DEFAULT_SITE, type SiteStates } from '../health/sites.js';
import type { Maintenance } from '../health/types.js';
import { openDatabase } from './database.js';
import { DEFAULT_RETENTION, type MarkName } from './housekeeping-plan.js';
import { WriteIntake } from './intake.js';
import { LocalSiteStates } from './local-states.js';
import { QueuedStore } from './queued-store.js';
import { SqliteHousekeeping } from './sqlite/housekeeping.js';
import { SqliteReads } from './sqlite/reads.js';
import { prepareStatements, type Statements } from './sqlite/statements.js';
import { SqliteWriter } from './sqlite/writer.js';
import type { TargetRecord } from './store.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created if needed. */
  path: string;
  migrationsDir?: string;
  log: Logger;
  /** Results kept in memory while the database cannot be written; beyond it the oldest are dropped. */
  maxPending?: number;
  now?: () => number;
  /** How long raw results and rollups are kept; default 14 d / 90 d / 400 d. */
  retention?: RetentionConfig;
  /** The site this instance probes from; one SQLite file holds one site. Default: the unnamed site. */
  site?: string;
  /** SQLite's page cache in KiB; default DEFAULT_CACHE_KIB (src/store/database.ts). */
  cacheKiB?: number;
}

/** Opens, migrates and wraps the database at `options.path`. Throws if it cannot (startup error). */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openDatabase(options.path, { migrationsDir: options.migrationsDir, log: options.log, cacheKiB: options.cacheKiB });
  try {
    return new SqliteStore(db, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The Store on SQLite: writes are queued and written in one transaction per flush(). */
export class SqliteStore extends QueuedStore {
  private readonly statements: Statements;
  private readonly writer: SqliteWriter;
  private readonly syncBatch: Database.Transaction<(targets: TargetRecord[], createdAt: number) => void>;
  private readonly log: Logger;
  private readonly states: LocalSiteStates;

  constructor(
    private readonly db: Database.Database,
    options: Pick<SqliteStoreOptions, 'log' | 'maxPending' | 'now' | 'retention' | 'site'>,
  ) {
    const intake = new WriteIntake(options);
    const statements = prepareStatements(db);
    /** Housekeeping progress, as persisted in housekeeping_marks. */
    const marks = new Map(statements.selectMarks.all().map((row) => [row.name as MarkName, row.at]));
    const retention = options.retention ?? DEFAULT_RETENTION;
    const housekeeping = new SqliteHousekeeping(db, statements, marks, retention, () => intake.sortedTargetIds(), options.log);
    super(intake, new SqliteReads(statements, marks), housekeeping.steps, options.site ?? DEFAULT_SITE);
    this.log = options.log;
    this.states = new LocalSiteStates(this.site, intake.now);
    this.statements = statements;
    this.writer = new SqliteWriter(db, statements, intake, marks, this.log, () => housekeeping.steps.rewound(), housekeeping.steps.floors);
    this.syncBatch = db.transaction((targets: TargetRecord[], createdAt: number) => {
      for (const t of targets) statements.upsertTarget.run(t.name, t.group, t.role, t.url, createdAt);
    });
    this.loadTargetIds();
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    this.syncBatch.immediate(targets, this.intake.now());
    this.loadTargetIds(targets);
  }

  async flush(): Promise<void> {
    this.writer.flush();
    if (!this.intake.isClosed) this.states.write(this.intake.takePublished());
  }

  async siteStates(): Promise<SiteStates> {
    return this.states.read();
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    const targetId = this.intake.requireTargetId(target);
    if (maintenance) this.statements.upsertMaintenance.run(targetId, maintenance.until, maintenance.reason, this.intake.now());
    else this.statements.deleteMaintenance.run(targetId);
  }

  async close(): Promise<void> {
    if (this.intake.isClosed) return;
    this.writer.flush();
    this.intake.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.log.warn({ err }, 'WAL checkpoint on close failed');
    }
    this.db.close();
  }

  private loadTargetIds(synced: readonly TargetRecord[] = []): void {
    this.intake.setTargets(new Map(this.statements.selectTargets.all().map((row) => [row.name, row.target_id])), synced);
  }
}

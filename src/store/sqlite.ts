// The store on SQLite (better-sqlite3): a facade over its parts. Rows are queued (intake.ts) and written in one
// transaction per flush (sqlite/writer.ts); reads answer from the file (sqlite/reads.ts); housekeeping runs in
// short steps (sqlite/housekeeping.ts); every statement is prepared once (sqlite/statements.ts).
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/types.js';
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { openDatabase } from './database.js';
import { DEFAULT_RETENTION, type MarkName } from './housekeeping-plan.js';
import { WriteIntake } from './intake.js';
import { SqliteHousekeeping } from './sqlite/housekeeping.js';
import { SqliteReads } from './sqlite/reads.js';
import { prepareStatements, type Statements } from './sqlite/statements.js';
import { SqliteWriter } from './sqlite/writer.js';
import type {
  HistoryPage,
  HistoryQuery,
  HousekeepingStep,
  RollupPoint,
  RollupResolution,
  Store,
  StoredResult,
  TargetRecord,
  UptimeCount,
  UptimeExclusion,
  WriteHealth,
} from './store.js';

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
}

/** Opens, migrates and wraps the database at `options.path`. Throws if it cannot (startup error). */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openDatabase(options.path, { migrationsDir: options.migrationsDir, log: options.log });
  try {
    return new SqliteStore(db, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The Store on SQLite: writes are queued and written in one transaction per flush(). */
export class SqliteStore implements Store {
  private readonly statements: Statements;
  private readonly intake: WriteIntake;
  private readonly writer: SqliteWriter;
  private readonly reads: SqliteReads;
  private readonly housekeeping: SqliteHousekeeping;
  private readonly syncBatch: Database.Transaction<(targets: TargetRecord[], createdAt: number) => void>;
  /** Housekeeping progress, as persisted in housekeeping_marks. */
  private readonly marks = new Map<MarkName, number>();
  private readonly log: Logger;

  constructor(
    private readonly db: Database.Database,
    options: Pick<SqliteStoreOptions, 'log' | 'maxPending' | 'now' | 'retention'>,
  ) {
    this.log = options.log;
    this.intake = new WriteIntake(options);
    this.statements = prepareStatements(db);
    this.syncBatch = db.transaction((targets: TargetRecord[], createdAt: number) => {
      for (const t of targets) this.statements.upsertTarget.run(t.name, t.group, t.role, t.url, createdAt);
    });
    for (const row of this.statements.selectMarks.all()) this.marks.set(row.name as MarkName, row.at);
    this.loadTargetIds();
    const retention = options.retention ?? DEFAULT_RETENTION;
    this.housekeeping = new SqliteHousekeeping(db, this.statements, this.marks, retention, () => this.intake.sortedTargetIds(), this.log);
    this.writer = new SqliteWriter(db, this.statements, this.intake, this.marks, this.log, () => this.housekeeping.steps.rewound());
    this.reads = new SqliteReads(this.statements, this.marks);
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    this.syncBatch.immediate(targets, this.intake.now());
    this.loadTargetIds(targets);
  }

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    this.intake.record(target, check, result, exclusion);
  }

  recordTransition(transition: StateTransition): void {
    this.intake.recordTransition(transition);
  }

  async flush(): Promise<void> {
    this.writer.flush();
  }

  async history(target: string, query: HistoryQuery): Promise<HistoryPage<StoredResult>> {
    return this.reads.history(this.intake.requireTargetId(target), query);
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery): Promise<HistoryPage<RollupPoint>> {
    return this.reads.rollups(this.intake.requireTargetId(target), resolution, query);
  }

  async uptime(target: string, from: number, to: number): Promise<UptimeCount> {
    return this.reads.uptime(this.intake.requireTargetId(target), from, to);
  }

  async transitionsBetween(target: string, from: number, to: number): Promise<StateTransition[]> {
    return this.reads.transitionsBetween(target, this.intake.requireTargetId(target), from, to);
  }

  async maintenance(target: string): Promise<Maintenance | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.maintenance(targetId);
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    const targetId = this.intake.requireTargetId(target);
    if (maintenance) this.statements.upsertMaintenance.run(targetId, maintenance.until, maintenance.reason, this.intake.now());
    else this.statements.deleteMaintenance.run(targetId);
  }

  async housekeepingStep(now: number): Promise<HousekeepingStep | null> {
    if (this.intake.isClosed) return null;
    return this.housekeeping.steps.next(now);
  }

  async lastResult(target: string, check: CheckKind): Promise<StoredResult | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.lastResult(targetId, check);
  }

  async lastTransition(target: string): Promise<StateTransition | null> {
    const targetId = this.intake.targetId(target);
    return targetId === undefined ? null : this.reads.lastTransition(target, targetId);
  }

  writeHealth(): WriteHealth {
    return this.intake.writeHealth();
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

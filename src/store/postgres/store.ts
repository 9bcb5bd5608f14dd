// The store on PostgreSQL (node-postgres, one pool): the same tables and answers as the SQLite store, composed of
// the same parts. Rows are queued (../intake.ts) and written in batches (writer.ts); while PostgreSQL is down or
// restarting they wait in the bounded queues and go in when it is back.
import type { Logger } from 'pino';
import type { RetentionConfig } from '../../config/types.js';
import type { Maintenance, StateTransition } from '../../health/types.js';
import type { CheckKind, ProbeResult } from '../../probe/types.js';
import { DEFAULT_RETENTION, type MarkName } from '../housekeeping-plan.js';
import { WriteIntake } from '../intake.js';
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
} from '../store.js';
import { PostgresConnection, type PostgresOptions } from './connection.js';
import { PostgresHousekeeping } from './housekeeping.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from './migrate.js';
import { PostgresReads } from './reads.js';
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
}

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

export class PostgresStore implements Store {
  private readonly intake: WriteIntake;
  private readonly writer: PostgresWriter;
  private readonly reads: PostgresReads;
  private readonly housekeeping: PostgresHousekeeping;
  /** Housekeeping progress, as persisted in housekeeping_marks. */
  private readonly marks = new Map<MarkName, number>();

  constructor(
    readonly db: PostgresConnection,
    options: Pick<PostgresStoreOptions, 'log' | 'maxPending' | 'now' | 'retention'>,
  ) {
    this.intake = new WriteIntake(options);
    const retention = options.retention ?? DEFAULT_RETENTION;
    this.housekeeping = new PostgresHousekeeping(db, this.marks, retention, () => this.intake.sortedTargetIds(), options.log);
    this.writer = new PostgresWriter(db, this.intake, this.marks, options.log, () => this.housekeeping.steps.rewound());
    this.reads = new PostgresReads(db, this.marks);
  }

  /** Reads the targets and housekeeping marks (after migrating). */
  async load(): Promise<void> {
    await this.loadTargetIds();
    const marks = await this.db.query<{ name: string; at: number }>(SQL.selectMarks);
    for (const row of marks.rows) this.marks.set(row.name as MarkName, row.at);
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    if (targets.length > 0) {
      await this.db.query(SQL.upsertTargets, [
        targets.map((t) => t.name),
        targets.map((t) => t.group),
        targets.map((t) => t.role),
        targets.map((t) => t.url),
        this.intake.now(),
      ]);
    }
    await this.loadTargetIds(targets);
  }

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    this.intake.record(target, check, result, exclusion);
  }

  recordTransition(transition: StateTransition): void {
    this.intake.recordTransition(transition);
  }

  flush(): Promise<void> {
    return this.writer.flush();
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
    if (maintenance) await this.db.query(SQL.upsertMaintenance, [targetId, maintenance.until, maintenance.reason, this.intake.now()]);
    else await this.db.query(SQL.deleteMaintenance, [targetId]);
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

  /** Writes what is queued (if PostgreSQL answers) and closes the pool. */
  async close(): Promise<void> {
    if (this.intake.isClosed) return;
    await this.writer.flush();
    this.intake.close();
    await this.db.close();
  }

  private async loadTargetIds(synced: readonly TargetRecord[] = []): Promise<void> {
    const { rows } = await this.db.query<{ target_id: number; name: string }>(SQL.selectTargets);
    this.intake.setTargets(new Map(rows.map((row) => [row.name, row.target_id])), synced);
  }
}

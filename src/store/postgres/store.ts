// The store on PostgreSQL (node-postgres, one pool): the same tables and answers as the SQLite store, composed of
// the same parts. Rows are queued (../intake.ts) and written in batches (writer.ts); while PostgreSQL is down or
// restarting they wait in the bounded queues and go in when it is back.
import type { Logger } from 'pino';
import type { RetentionConfig } from '../../config/types.js';
import type { Maintenance } from '../../health/types.js';
import { DEFAULT_RETENTION, type MarkName } from '../housekeeping-plan.js';
import { WriteIntake } from '../intake.js';
import { QueuedStore } from '../queued-store.js';
import type { TargetRecord } from '../store.js';
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

export class PostgresStore extends QueuedStore {
  private readonly writer: PostgresWriter;
  /** Housekeeping progress, as persisted in housekeeping_marks. */
  private readonly marks: Map<MarkName, number>;

  constructor(
    readonly db: PostgresConnection,
    options: Pick<PostgresStoreOptions, 'log' | 'maxPending' | 'now' | 'retention'>,
  ) {
    const intake = new WriteIntake(options);
    const marks = new Map<MarkName, number>();
    const retention = options.retention ?? DEFAULT_RETENTION;
    const housekeeping = new PostgresHousekeeping(db, marks, retention, () => intake.sortedTargetIds(), options.log);
    super(intake, new PostgresReads(db, marks), housekeeping.steps);
    this.marks = marks;
    this.writer = new PostgresWriter(db, intake, marks, options.log, () => housekeeping.steps.rewound());
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

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    const targetId = this.intake.requireTargetId(target);
    if (maintenance) await this.db.query(SQL.upsertMaintenance, [targetId, maintenance.until, maintenance.reason, this.intake.now()]);
    else await this.db.query(SQL.deleteMaintenance, [targetId]);
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

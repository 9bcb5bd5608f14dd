// The PostgreSQL store's writes: what is queued goes in batches (one multi-row INSERT ... unnest per table and
// kind, in one transaction per batch); while PostgreSQL is down or restarting the rows wait in the queues and go
// in when it is back. A row PostgreSQL refuses is dropped alone, never holding up the rows behind it.
import type { Logger } from 'pino';
import type { CheckKind } from '../../probe/types.js';
import { STORED_KINDS, type QueuedRow } from '../check-rows.js';
import type { ResultRow, TransitionRow } from '../codec.js';
import { rewoundMarks, type MarkName } from '../housekeeping-plan.js';
import type { PruneFloors } from '../housekeeping-steps.js';
import type { WriteIntake } from '../intake.js';
import type { SstpCheckRow } from '../sstp-checks.js';
import { describePgError, isConnectionError, type PostgresConnection, type Queryable } from './connection.js';
import { INSERT_RESULTS, INSERT_SSTP_CHECKS, INSERT_TRANSITIONS, resultColumns, sstpCheckColumns, transitionColumns } from './rows.js';
import { insertShifting } from './shifting.js';
import { SQL } from './statements.js';

/** Rows per INSERT (and transaction): a queue that grew during an outage goes in as several. */
const BATCH_ROWS = 5_000;
const MAX_CACHED_CERTIFICATES = 10_000;

/** One batch: rows of each check kind, and transitions. */
interface Batch {
  checks: { [K in CheckKind]: QueuedRow<K>[] };
  transitions: TransitionRow[];
}

type Insert<Row> = (client: Queryable, rows: Row[], certificates: Map<string, number>) => Promise<void>;

export class PostgresWriter {
  private readonly certificateIds = new Map<string, number>();
  /** Every kind's insert: a kind without one does not compile. */
  private readonly inserts: { readonly [K in CheckKind]: Insert<QueuedRow<K>> };
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: PostgresConnection,
    private readonly intake: WriteIntake,
    /** The housekeeping marks, shared with the store: a write of late results moves the rollup marks back. */
    private readonly marks: Map<MarkName, number>,
    private readonly log: Logger,
    private readonly onRewound: () => void,
    /** Told of every row written: late or not, a row older than a prune task's floor makes the task due again. */
    private readonly floors: PruneFloors,
  ) {
    this.inserts = {
      head: (client, rows, certificates) => this.insertResults(client, rows, certificates),
      sstp: (client, rows) => insertSstpChecks(client, rows),
    };
  }

  /** Writes what is queued, a batch per transaction. Never rejects; failures show in writeHealth(). */
  flush(): Promise<void> {
    this.flushing ??= this.writeQueued().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    const { checks, transitions } = this.intake;
    while (!this.intake.isClosed && this.intake.pending) {
      const peeked = { head: checks.head.peek(BATCH_ROWS), sstp: checks.sstp.peek(BATCH_ROWS), transitions: transitions.peek(BATCH_ROWS) };
      const batch: Batch = { checks: { head: peeked.head.rows, sstp: peeked.sstp.rows }, transitions: peeked.transitions.rows };
      if (!(await this.attempt(() => this.writeBatch(batch)))) return;
      for (const kind of STORED_KINDS) checks[kind].commit(peeked[kind].mark);
      transitions.commit(peeked.transitions.mark);
    }
  }

  /**
   * Runs one write. A connection error leaves the rows queued for the next flush (false: stop for now). Any other
   * error is about these rows themselves (writeBatch has already dropped only the refused ones where it could):
   * they are dropped with a log, so they never hold up the rows queued behind them.
   */
  private async attempt(write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      this.intake.markWritten();
      return true;
    } catch (err) {
      if (isConnectionError(err)) {
        const reason = `PostgreSQL: ${describePgError(err)}`;
        this.intake.markFailed(reason, reason, { database: this.db.where });
        return false;
      }
      this.log.error({ err: describePgError(err) }, 'PostgreSQL refused a batch; it is dropped');
      return true;
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const rows = singleRows(batch);
    try {
      await this.writeRows(batch);
    } catch (err) {
      if (isConnectionError(err) || rows.length <= 1) throw err;
      // One row PostgreSQL refuses must not hold up the rest: write them one by one, drop only the refused ones.
      this.log.warn({ err: describePgError(err), rows: rows.length }, 'PostgreSQL refused a batch; writing it row by row');
      for (const { batch: single, targetId, at } of rows) {
        try {
          await this.writeRows(single);
        } catch (rowErr) {
          if (isConnectionError(rowErr)) throw rowErr;
          this.log.error({ err: describePgError(rowErr), targetId, at }, 'PostgreSQL refused a row; dropped');
        }
      }
    }
  }

  private async writeRows(batch: Batch): Promise<void> {
    const found = new Map<string, number>();
    const rewound = await this.db.transaction(async (client) => {
      for (const kind of STORED_KINDS) await this.insertKind(client, kind, batch.checks[kind], found);
      await insertShifting(client, 'state_transitions', batch.transitions, (rows, ats) => [INSERT_TRANSITIONS, transitionColumns(rows, ats)], this.log, 'transition');
      const oldest = batch.checks.head.reduce((min, r) => Math.min(min, r.at), Number.POSITIVE_INFINITY);
      if (oldest === Number.POSITIVE_INFINITY) return new Map<MarkName, number>();
      // The marks as they are now, not as this instance last read them: the instance that runs housekeeping may
      // have rolled past these rows since. Locked, so it cannot move past them between this look and the commit.
      const current = await client.query<{ name: MarkName; at: number }>(SQL.lockMarks);
      for (const row of current.rows) this.marks.set(row.name, row.at);
      const marks = rewoundMarks(this.marks, oldest);
      for (const [name, at] of marks) await client.query({ ...SQL.upsertMark, values: [name, at] });
      return marks;
    });
    if (this.certificateIds.size + found.size > MAX_CACHED_CERTIFICATES) this.certificateIds.clear();
    for (const [sha256, id] of found) this.certificateIds.set(sha256, id);
    for (const kind of STORED_KINDS) this.floors.checksWritten(kind, batch.checks[kind]);
    if (batch.transitions.length > 0) this.floors.transitionsWritten();
    if (rewound.size > 0) {
      for (const [name, at] of rewound) this.marks.set(name, at);
      this.onRewound();
      this.log.info({ marks: Object.fromEntries(rewound) }, 'late results; their buckets will be rolled up again');
    }
  }

  private async insertKind<K extends CheckKind>(client: Queryable, kind: K, rows: QueuedRow<K>[], certificates: Map<string, number>): Promise<void> {
    if (rows.length > 0) await this.inserts[kind](client, rows, certificates);
  }

  private async insertResults(client: Queryable, rows: ResultRow[], found: Map<string, number>): Promise<void> {
    const certificateIds = await this.certificateIdsFor(client, rows, found);
    await insertShifting(client, 'results', rows, (pending, ats) => [INSERT_RESULTS, resultColumns(pending, ats, pending.map((r) => certificateIds.get(r) ?? null))], this.log, 'result');
  }

  /** Ids found inside the transaction are only remembered once it has committed. */
  private async certificateIdsFor(client: Queryable, rows: ResultRow[], found: Map<string, number>): Promise<Map<ResultRow, number>> {
    const missing = [...new Set(rows.map((r) => r.certificateSha256).filter((s): s is string => s !== null && !this.certificateIds.has(s)))];
    if (missing.length > 0) {
      await client.query({ ...SQL.insertCertificates, values: [missing] });
      const selected = await client.query<{ certificate_id: number; sha256: string }>({ ...SQL.selectCertificates, values: [missing] });
      for (const row of selected.rows) found.set(row.sha256, row.certificate_id);
    }
    const ids = new Map<ResultRow, number>();
    for (const row of rows) {
      if (row.certificateSha256 === null) continue;
      const id = this.certificateIds.get(row.certificateSha256) ?? found.get(row.certificateSha256);
      if (id !== undefined) ids.set(row, id);
    }
    return ids;
  }
}

/** A second deep check of a target in the same millisecond is not kept (the first says the same). */
async function insertSstpChecks(client: Queryable, rows: SstpCheckRow[]): Promise<void> {
  await client.query({ ...INSERT_SSTP_CHECKS, values: sstpCheckColumns(rows) });
}

/** Each row of a batch as a batch of its own (to find the one PostgreSQL refuses). */
function singleRows(batch: Batch): { batch: Batch; targetId: number; at: number }[] {
  const none = (): Batch => ({ checks: { head: [], sstp: [] }, transitions: [] });
  const single: { batch: Batch; targetId: number; at: number }[] = [];
  for (const kind of STORED_KINDS) {
    for (const row of batch.checks[kind]) {
      const alone = none();
      (alone.checks[kind] as (typeof row)[]).push(row);
      single.push({ batch: alone, targetId: row.targetId, at: row.at });
    }
  }
  for (const row of batch.transitions) single.push({ batch: { ...none(), transitions: [row] }, targetId: row.targetId, at: row.at });
  return single;
}

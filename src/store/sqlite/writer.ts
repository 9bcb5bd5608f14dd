// The SQLite store's writes: whatever is queued (results of every check kind, transitions) goes in one
// transaction per flush, with the certificate ids it needs and the rollup marks late results move back.
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { CheckKind } from '../../probe/types.js';
import { STORED_KINDS, type QueuedRow } from '../check-rows.js';
import type { ResultRow, TransitionRow } from '../codec.js';
import { rewoundMarks, type MarkName } from '../housekeeping-plan.js';
import type { PruneFloors } from '../housekeeping-steps.js';
import type { WriteIntake } from '../intake.js';
import type { SstpCheckRow } from '../sstp-checks.js';
import type { Statements } from './statements.js';

/** How far (ms) a row is moved forward when its target already has one at the same millisecond. */
const MAX_TIME_SHIFT_MS = 1000;
/** Certificate ids kept in memory; the set is cleared when it grows past this (a target rotating certificates). */
const MAX_CACHED_CERTIFICATES = 10_000;

type Insert<Row> = (row: Row, certificates: Map<string, number>) => void;

export class SqliteWriter {
  private readonly certificateIds = new Map<string, number>();
  /** Every kind's insert: a kind without one does not compile. */
  private readonly inserts: { readonly [K in CheckKind]: Insert<QueuedRow<K>> };
  private readonly writeQueued: Database.Transaction<() => { certificates: Map<string, number>; rewound: Map<MarkName, number> }>;

  constructor(
    db: Database.Database,
    private readonly statements: Statements,
    private readonly intake: WriteIntake,
    /** The housekeeping marks, shared with the store: a write of late results moves the rollup marks back. */
    private readonly marks: Map<MarkName, number>,
    private readonly log: Logger,
    private readonly onRewound: () => void,
    /** Told of every row written: late or not, a row older than a prune task's floor makes the task due again. */
    private readonly floors: PruneFloors,
  ) {
    this.inserts = {
      head: (row, certificates) => this.insertResult(row, certificates),
      sstp: (row) => this.insertSstpCheck(row),
    };
    this.writeQueued = db.transaction(() => {
      const certificates = new Map<string, number>();
      for (const kind of STORED_KINDS) this.insertKind(kind, certificates);
      for (const row of this.intake.transitions.peek(Number.POSITIVE_INFINITY).rows) this.insertTransition(row);
      const oldestAt = this.intake.checks.head.peek(Number.POSITIVE_INFINITY).rows.reduce((min, r) => Math.min(min, r.at), Number.POSITIVE_INFINITY);
      const rewound = rewoundMarks(this.marks, oldestAt);
      for (const [name, at] of rewound) this.statements.upsertMark.run(name, at);
      return { certificates, rewound };
    });
  }

  /** Writes everything queued in one transaction. Never throws; a failure leaves the rows queued and shows in writeHealth(). */
  flush(): void {
    if (this.intake.isClosed || !this.intake.pending) return;
    const written = [...STORED_KINDS.map((kind) => this.intake.checks[kind]), this.intake.transitions].map((queue) => {
      const { mark } = queue.peek(Number.POSITIVE_INFINITY);
      return () => queue.commit(mark);
    });
    const rows = STORED_KINDS.map((kind) => [kind, this.intake.checks[kind].peek(Number.POSITIVE_INFINITY).rows] as const);
    const transitions = this.intake.transitions.peek(Number.POSITIVE_INFINITY).rows.length;
    try {
      const { certificates, rewound } = this.writeQueued.immediate();
      for (const commit of written) commit();
      for (const [kind, written] of rows) this.floors.checksWritten(kind, written);
      if (transitions > 0) this.floors.transitionsWritten();
      if (this.certificateIds.size + certificates.size > MAX_CACHED_CERTIFICATES) this.certificateIds.clear();
      for (const [sha256, id] of certificates) this.certificateIds.set(sha256, id);
      if (rewound.size > 0) {
        for (const [name, at] of rewound) this.marks.set(name, at);
        this.onRewound();
        this.log.info({ marks: Object.fromEntries(rewound) }, 'late results; their buckets will be rolled up again');
      }
      this.intake.markWritten();
    } catch (err) {
      this.intake.markFailed(err, describeError(err));
    }
  }

  private insertKind<K extends CheckKind>(kind: K, certificates: Map<string, number>): void {
    const insert = this.inserts[kind];
    for (const row of this.intake.checks[kind].peek(Number.POSITIVE_INFINITY).rows) insert(row, certificates);
  }

  /** Ids found inside the transaction are only remembered once it has committed. */
  private certificateId(sha256: string, found: Map<string, number>): number {
    const known = this.certificateIds.get(sha256) ?? found.get(sha256);
    if (known !== undefined) return known;
    const row = this.statements.selectCertificate.get(sha256);
    const id = row ? row.certificate_id : Number(this.statements.insertCertificate.run(sha256).lastInsertRowid);
    found.set(sha256, id);
    return id;
  }

  private insertResult(row: ResultRow, certificates: Map<string, number>): void {
    const certificateId = row.certificateSha256 === null ? null : this.certificateId(row.certificateSha256, certificates);
    this.insertShifting(row, 'result', (at) =>
      this.statements.insertResult.run(
        row.targetId, at, row.errorKind, row.statusCode, row.durationUs, row.dnsUs, row.connectUs, row.tlsUs,
        row.processingUs, row.httpVersion, row.tlsVersion, certificateId, row.message, row.uptimeExclusion,
      ).changes > 0,
    );
  }

  private insertTransition(row: TransitionRow): void {
    this.insertShifting(row, 'transition', (at) =>
      this.statements.insertTransition.run(row.targetId, at, row.from, row.to, row.cause, row.message).changes > 0,
    );
  }

  /** A second deep check of a target in the same millisecond is not kept (the first says the same). */
  private insertSstpCheck(r: SstpCheckRow): void {
    this.statements.insertSstpCheck.run(
      r.targetId, r.at, r.errorKind, r.stage, r.reply, r.statusCode, r.durationUs, r.dnsUs, r.connectUs, r.tlsUs,
      r.httpUs, r.callUs, r.disconnectUs, r.hashBitmask, r.sstpStatus, r.statusAttribute, r.disconnect, r.tlsVersion,
      r.correlationId, r.message,
    );
  }

  /**
   * Two rows of one target in the same millisecond are both kept: the later one moves forward to the next free
   * millisecond (within MAX_TIME_SHIFT_MS) rather than failing the whole batch or being lost.
   */
  private insertShifting(row: { targetId: number; at: number }, what: string, insert: (at: number) => boolean): void {
    for (let shift = 0; shift < MAX_TIME_SHIFT_MS; shift++) {
      if (!insert(row.at + shift)) continue;
      if (shift > 0) this.log.warn({ targetId: row.targetId, at: row.at, storedAt: row.at + shift }, `${what} time taken; stored later`);
      return;
    }
    this.log.error({ targetId: row.targetId, at: row.at }, `no free millisecond for a ${what}; dropped`);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

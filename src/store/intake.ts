// The write side every store shares: which targets rows may be queued for, the queues (one per check kind, and
// the transitions), and the health of the writes. A store's writer takes the rows from here and reports back.
import type { Logger } from 'pino';
import type { StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { CHECK_ROWS, checkQueues, STORED_KINDS, type CheckQueues } from './check-rows.js';
import { encodeTransition, type TransitionRow } from './codec.js';
import { WriteQueue } from './queue.js';
import { TargetNotFoundError, type PublishedState, type TargetRecord, type UptimeExclusion, type WriteHealth } from './store.js';

/** A target's newest published live state, waiting for the next flush. */
export interface PendingState {
  targetId: number;
  target: string;
  state: PublishedState;
}

export interface IntakeOptions {
  log: Logger;
  /** Results kept in memory while the database cannot be written; beyond it the oldest are dropped. */
  maxPending?: number;
  now?: () => number;
}

export class WriteIntake {
  readonly checks: CheckQueues;
  readonly transitions: WriteQueue<TransitionRow>;
  readonly now: () => number;
  private readonly log: Logger;
  private ids = new Map<string, number>();
  private readonly warnedTargets = new Set<string>();
  private readonly health: WriteHealth = { ok: true, reason: null, pending: 0, dropped: 0, failedWrites: 0 };
  /** Set while results are being dropped for want of room, to log that once per episode. */
  private dropping = false;
  private closed = false;
  /** The newest live state of each target that changed since the last flush (a newer one replaces an older). */
  private published = new Map<number, PendingState>();

  constructor(options: IntakeOptions) {
    const maxPending = options.maxPending ?? 100_000;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer (got ${maxPending})`);
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.checks = checkQueues(maxPending);
    this.transitions = new WriteQueue(maxPending);
  }

  /** The targets as stored now; `synced` were just written, so a row for them is accepted again without a warning. */
  setTargets(ids: ReadonlyMap<string, number>, synced: readonly TargetRecord[] = []): void {
    this.ids = new Map(ids);
    for (const t of synced) this.warnedTargets.delete(t.name);
  }

  /** Every target's name and id. */
  targetIds(): ReadonlyMap<string, number> {
    return this.ids;
  }

  targetId(target: string): number | undefined {
    return this.ids.get(target);
  }

  requireTargetId(target: string): number {
    const targetId = this.ids.get(target);
    if (targetId === undefined) throw new TargetNotFoundError(target);
    return targetId;
  }

  /** Every stored target's id, ascending (the order housekeeping walks them in). */
  sortedTargetIds(): number[] {
    return [...new Set(this.ids.values())].sort((a, b) => a - b);
  }

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion): void {
    try {
      this.queue(target, check, result, exclusion);
    } catch (err) {
      this.log.error({ err, target }, `${CHECK_ROWS[check]?.noun ?? 'result'} could not be queued; dropped`);
    }
  }

  private queue<K extends CheckKind>(target: string, check: K, result: ProbeResult, exclusion: UptimeExclusion): void {
    const rows = CHECK_ROWS[check] as (typeof CHECK_ROWS)[K] | undefined;
    if (rows === undefined) throw new TypeError(`unknown check kind ${JSON.stringify(check)}`);
    const targetId = this.acceptedTargetId(target, 'result');
    if (targetId === undefined) return;
    const dropped = this.checks[check].push(rows.encode(targetId, result, exclusion, this.now()));
    if (dropped === 0) return;
    if (rows.countsDrops) this.noteDropped(dropped);
    else this.log.warn({ target }, `${rows.noun} queue full; oldest ${rows.noun} dropped`);
  }

  recordTransition(transition: StateTransition): void {
    try {
      const targetId = this.acceptedTargetId(transition.target, 'transition');
      if (targetId === undefined) return;
      if (this.transitions.push(encodeTransition(targetId, transition, this.now())) > 0) {
        this.log.warn({ target: transition.target }, 'transition queue full; oldest transition dropped');
      }
    } catch (err) {
      this.log.error({ err, target: transition.target }, 'transition could not be queued; dropped');
    }
  }

  /** Keeps a target's newest live state for the next flush; a target the store does not know is ignored. */
  publishState(target: string, state: PublishedState): void {
    const targetId = this.ids.get(target);
    if (this.closed || targetId === undefined) return;
    this.published.set(targetId, { targetId, target, state });
  }

  /** The live states published since the last call, oldest target first; the caller writes them or gives them back. */
  takePublished(): PendingState[] {
    if (this.published.size === 0) return [];
    const taken = [...this.published.values()];
    this.published = new Map();
    return taken;
  }

  /** States a failed write could not store: kept for the next flush unless a newer one came meanwhile. */
  returnPublished(states: readonly PendingState[]): void {
    for (const pending of states) if (!this.published.has(pending.targetId)) this.published.set(pending.targetId, pending);
  }

  /** Rows of any kind wait to be written. */
  get pending(): boolean {
    return this.transitions.size > 0 || STORED_KINDS.some((kind) => this.checks[kind].size > 0);
  }

  markWritten(): void {
    if (!this.health.ok) this.log.info({ failedWrites: this.health.failedWrites }, 'database writes recovered');
    this.health.ok = true;
    this.health.reason = null;
    this.dropping = false;
  }

  /** A write failed for `reason`; the rows stay queued. Logged when the reason changes. */
  markFailed(err: unknown, reason: string, fields: Record<string, unknown> = {}): void {
    if (this.health.ok || this.health.reason !== reason) {
      this.log.error({ err, pending: this.checks.head.size, ...fields }, 'database write failed; rows stay queued');
    }
    this.health.ok = false;
    this.health.reason = reason;
    this.health.failedWrites++;
  }

  writeHealth(): WriteHealth {
    return { ...this.health, pending: this.checks.head.size };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** No more rows are accepted; what is still queued is logged as lost. */
  close(): void {
    this.closed = true;
    if (!this.pending) return;
    const queued = Object.fromEntries(STORED_KINDS.map((kind) => [kind, this.checks[kind].size]));
    this.log.error(
      { results: this.checks.head.size, transitions: this.transitions.size, queued, reason: this.health.reason },
      'closing the database with unwritten rows; they are lost',
    );
  }

  /** The target's id if a row may be queued for it; otherwise logs why not (once per unknown target). */
  private acceptedTargetId(target: string, what: 'result' | 'transition'): number | undefined {
    if (this.closed) {
      this.log.warn({ target }, `store is closed; ${what} dropped`);
      return undefined;
    }
    const targetId = this.ids.get(target);
    if (targetId === undefined && !this.warnedTargets.has(target)) {
      this.warnedTargets.add(target);
      this.log.warn({ target }, `${what} for a target the store does not know (syncTargets first); dropped`);
    }
    return targetId;
  }

  private noteDropped(count: number): void {
    if (!this.dropping) {
      this.dropping = true;
      this.log.warn({ maxPending: this.checks.head.size }, 'result queue full; dropping the oldest results');
    }
    this.health.dropped += count;
  }
}

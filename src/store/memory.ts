// The Store in memory: the same answers as the SQLite and PostgreSQL stores for the same history (the same row
// codec, rollup maths, cursors, housekeeping marks and retention), kept in maps and sorted arrays instead of tables.
// For tests and tools that need a whole store without a database; nothing survives close().
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/types.js';
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { decodeResult, decodeTransition, encodeResult, encodeTransition, rollupPoint, type ResultRow, type TransitionRow } from './codec.js';
import { encodeCursor, historyWindow } from './cursor.js';
import { DEFAULT_RETENTION } from './housekeeping-plan.js';
import { MemoryHousekeeping, type MarkName } from './memory-housekeeping.js';
import { insertUnique, lowerBound, newTables, rowsBetween, selectedResult, selectedSstpCheck, selectedTransition, type TargetTables } from './memory-tables.js';
import { WriteQueue } from './queue.js';
import { HOUR_MS, bucketStart, unpackMinutes, uptimeSegments } from './rollup.js';
import { decodeSstpCheck, encodeSstpCheck, type SstpCheckRow } from './sstp-checks.js';
import {
  TargetNotFoundError,
  type HistoryPage,
  type HistoryQuery,
  type HousekeepingStep,
  type RollupPoint,
  type RollupResolution,
  type Store,
  type StoredResult,
  type TargetRecord,
  type UptimeCount,
  type UptimeExclusion,
  type WriteHealth,
} from './store.js';

export interface MemoryStoreOptions {
  log: Logger;
  /** Results queued between two flushes; beyond it the oldest are dropped (as in the SQL stores). */
  maxPending?: number;
  now?: () => number;
  /** How long raw results and rollups are kept; default as the SQL stores. */
  retention?: RetentionConfig;
}

/** How far (ms) a row is moved forward when its target already has one at the same millisecond (as on SQLite). */
const MAX_TIME_SHIFT_MS = 1000;
/** Transitions selected by transitionsBetween(), as the SQL stores limit them. */
const MAX_TRANSITIONS = 100_000;

export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly retention: RetentionConfig;
  private readonly results: WriteQueue<ResultRow>;
  private readonly transitions: WriteQueue<TransitionRow>;
  private readonly sstpChecks: WriteQueue<SstpCheckRow>;
  private readonly byName = new Map<string, TargetTables>();
  private readonly byId = new Map<number, TargetTables>();
  private readonly warnedTargets = new Set<string>();
  private readonly housekeeping: MemoryHousekeeping;
  private readonly health: WriteHealth = { ok: true, reason: null, pending: 0, dropped: 0, failedWrites: 0 };
  private closed = false;
  private dropping = false;

  constructor(options: MemoryStoreOptions) {
    const maxPending = options.maxPending ?? 100_000;
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new RangeError(`maxPending must be a positive integer (got ${maxPending})`);
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.results = new WriteQueue(maxPending);
    this.transitions = new WriteQueue(maxPending);
    this.sstpChecks = new WriteQueue(Math.min(maxPending, 10_000));
    this.housekeeping = new MemoryHousekeeping(new Map(), this.retention, () => [...this.byId.values()]);
  }

  async syncTargets(targets: TargetRecord[]): Promise<void> {
    this.requireOpen();
    for (const record of targets) {
      const known = this.byName.get(record.name);
      if (known) {
        known.record = { ...record };
        continue;
      }
      const tables = newTables(this.byId.size + 1, { ...record });
      this.byName.set(record.name, tables);
      this.byId.set(tables.id, tables);
    }
    for (const t of targets) this.warnedTargets.delete(t.name);
  }

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    try {
      const targetId = this.acceptedTargetId(target, 'result');
      if (targetId === undefined) return;
      if (check === 'sstp') {
        if (this.sstpChecks.push(encodeSstpCheck(targetId, result, this.now())) > 0) {
          this.log.warn({ target }, 'deep check queue full; oldest deep check result dropped');
        }
        return;
      }
      const dropped = this.results.push(encodeResult(targetId, result, this.now(), exclusion));
      if (dropped > 0) this.noteDropped(dropped);
    } catch (err) {
      this.log.error({ err, target }, 'result could not be queued; dropped');
    }
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

  async flush(): Promise<void> {
    this.flushNow();
  }

  private flushNow(): void {
    if (this.closed) return;
    const sstpChecks = this.sstpChecks.peek(Number.POSITIVE_INFINITY);
    this.writeSstpChecks(sstpChecks.rows);
    this.sstpChecks.commit(sstpChecks.mark);
    const results = this.results.peek(Number.POSITIVE_INFINITY);
    const transitions = this.transitions.peek(Number.POSITIVE_INFINITY);
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const row of results.rows) {
      this.insertShifting(this.tablesOf(row.targetId).results, row, 'result');
      oldestAt = Math.min(oldestAt, row.at);
    }
    for (const row of transitions.rows) this.insertShifting(this.tablesOf(row.targetId).transitions, row, 'transition');
    this.results.commit(results.mark);
    this.transitions.commit(transitions.mark);
    this.housekeeping.rewindRollups(oldestAt);
    this.dropping = false;
  }

  /** Deep checks: one per millisecond (a second one at a taken millisecond is dropped), older than the raw retention deleted. */
  private writeSstpChecks(rows: SstpCheckRow[]): void {
    const written = new Set<TargetTables>();
    for (const row of rows) {
      const tables = this.tablesOf(row.targetId);
      insertUnique(tables.sstpChecks, row);
      written.add(tables);
    }
    const keepFrom = this.now() - this.retention.rawMs;
    for (const tables of written) tables.sstpChecks.splice(0, lowerBound(tables.sstpChecks, keepFrom));
  }

  /**
   * Two rows of one target in the same millisecond are both kept: the later one moves forward to the next free
   * millisecond (within MAX_TIME_SHIFT_MS), as the SQL stores do.
   */
  private insertShifting<R extends { targetId: number; at: number }>(rows: R[], row: R, what: 'result' | 'transition'): void {
    for (let shift = 0; shift < MAX_TIME_SHIFT_MS; shift++) {
      if (insertUnique(rows, shift === 0 ? row : { ...row, at: row.at + shift })) {
        if (shift > 0) this.log.warn({ targetId: row.targetId, at: row.at, storedAt: row.at + shift }, `${what} time taken; stored later`);
        return;
      }
    }
    this.log.error({ targetId: row.targetId, at: row.at }, `no free millisecond for a ${what}; dropped`);
  }

  async history(target: string, query: HistoryQuery): Promise<HistoryPage<StoredResult>> {
    const { results } = this.requireTarget(target);
    const window = historyWindow(query);
    const rows = newestFirst(results, window.from, window.to, window.limit + 1);
    const items = rows.slice(0, window.limit).map((row) => decodeResult(selectedResult(row)));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > window.limit && last ? encodeCursor(last.at) : null };
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery): Promise<HistoryPage<RollupPoint>> {
    const tables = this.requireTarget(target);
    const window = historyWindow(query, resolution);
    const points: RollupPoint[] = [];
    if (resolution === '1h') {
      const buckets = [...tables.hours.values()].filter((b) => b.bucket >= window.from && b.bucket <= window.to);
      for (const b of buckets.sort((x, y) => y.bucket - x.bucket).slice(0, window.limit + 1)) points.push(rollupPoint(b));
    } else {
      const firstHour = Math.max(Number.MIN_SAFE_INTEGER, bucketStart(window.from, HOUR_MS));
      const hours = [...tables.minutes.keys()].filter((hour) => hour >= firstHour && hour <= window.to).sort((a, b) => b - a);
      for (const hour of hours) {
        const minutes = unpackMinutes(hour, tables.minutes.get(hour)!).filter((b) => b.bucket >= window.from && b.bucket <= window.to);
        for (const b of minutes.reverse()) points.push(rollupPoint(b));
        if (points.length > window.limit) break;
      }
    }
    const items = points.slice(0, window.limit);
    const last = items.at(-1);
    return { items, nextCursor: points.length > window.limit && last ? encodeCursor(last.at, resolution) : null };
  }

  async uptime(target: string, from: number, to: number): Promise<UptimeCount> {
    const tables = this.requireTarget(target);
    const count: UptimeCount = { probes: 0, failures: 0 };
    const marks = this.housekeeping.marks;
    const rolled = (name: MarkName) => marks.get(name) ?? Number.NEGATIVE_INFINITY;
    for (const segment of uptimeSegments(from, to, rolled('minute_rolled_until'), rolled('hour_rolled_until'))) {
      const add = (counted: number, countedFailures: number) => {
        count.probes += counted;
        count.failures += countedFailures;
      };
      if (segment.source === 'raw') {
        for (const r of rowsBetween(tables.results, segment.from, segment.to)) {
          if (r.uptimeExclusion === 0) add(1, r.errorKind !== 0 ? 1 : 0);
        }
      } else if (segment.source === 'hour') {
        for (const b of tables.hours.values()) if (b.bucket >= segment.from && b.bucket < segment.to) add(b.counted, b.countedFailures);
      } else {
        const firstHour = bucketStart(segment.from, HOUR_MS);
        for (const [hour, packed] of tables.minutes) {
          if (hour < firstHour || hour > segment.to - 1) continue;
          for (const b of unpackMinutes(hour, packed)) if (b.bucket >= segment.from && b.bucket < segment.to) add(b.counted, b.countedFailures);
        }
      }
    }
    return count;
  }

  async transitionsBetween(target: string, from: number, to: number): Promise<StateTransition[]> {
    const { transitions } = this.requireTarget(target);
    if (from > to) return [];
    const first = lowerBound(transitions, from);
    const end = lowerBound(transitions, to + 1);
    const before = transitions[first - 1];
    const within = transitions.slice(first, Math.min(end, first + MAX_TRANSITIONS));
    const after = transitions[end];
    return [...(before ? [before] : []), ...within, ...(after ? [after] : [])].map((row) => decodeTransition(target, selectedTransition(row)));
  }

  async maintenance(target: string): Promise<Maintenance | null> {
    this.requireOpen();
    const maintenance = this.byName.get(target)?.maintenance;
    return maintenance ? { ...maintenance } : null;
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    this.requireTarget(target).maintenance = maintenance ? { until: maintenance.until, reason: maintenance.reason } : null;
  }

  async housekeepingStep(now: number): Promise<HousekeepingStep | null> {
    if (this.closed) return null;
    try {
      return this.housekeeping.step(now);
    } catch (err) {
      this.log.error({ err }, 'housekeeping step failed; it is retried on the next pass');
      return null;
    }
  }

  async lastTransition(target: string): Promise<StateTransition | null> {
    this.requireOpen();
    const row = this.byName.get(target)?.transitions.at(-1);
    return row ? decodeTransition(target, selectedTransition(row)) : null;
  }

  async lastResult(target: string, check: CheckKind): Promise<StoredResult | null> {
    this.requireOpen();
    const tables = this.byName.get(target);
    if (!tables) return null;
    if (check === 'sstp') {
      const row = tables.sstpChecks.at(-1);
      return row ? decodeSstpCheck(selectedSstpCheck(row)) : null;
    }
    const row = tables.results.at(-1);
    return row ? decodeResult(selectedResult(row)) : null;
  }

  writeHealth(): WriteHealth {
    return { ...this.health, pending: this.results.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushNow();
    this.closed = true;
  }

  private tablesOf(targetId: number): TargetTables {
    const tables = this.byId.get(targetId);
    if (!tables) throw new Error(`no target with id ${targetId}`);
    return tables;
  }

  /** Reads after close() fail, as they do on a closed database. */
  private requireOpen(): void {
    if (this.closed) throw new Error('the store is closed');
  }

  private requireTarget(target: string): TargetTables {
    this.requireOpen();
    const tables = this.byName.get(target);
    if (!tables) throw new TargetNotFoundError(target);
    return tables;
  }

  /** The target's id if a row may be queued for it; otherwise logs why not (once per unknown target). */
  private acceptedTargetId(target: string, what: 'result' | 'transition'): number | undefined {
    if (this.closed) {
      this.log.warn({ target }, `store is closed; ${what} dropped`);
      return undefined;
    }
    const tables = this.byName.get(target);
    if (!tables && !this.warnedTargets.has(target)) {
      this.warnedTargets.add(target);
      this.log.warn({ target }, `${what} for a target the store does not know (syncTargets first); dropped`);
    }
    return tables?.id;
  }

  private noteDropped(count: number): void {
    if (!this.dropping) {
      this.dropping = true;
      this.log.warn({ maxPending: this.results.size }, 'result queue full; dropping the oldest results');
    }
    this.health.dropped += count;
  }
}

/** Up to `limit` rows with `at` in [from, to], newest first. */
function newestFirst<R extends { at: number }>(rows: readonly R[], from: number, to: number, limit: number): R[] {
  const picked: R[] = [];
  for (let i = lowerBound(rows, to + 1) - 1; i >= 0 && picked.length < limit; i--) {
    const row = rows[i]!;
    if (row.at < from) break;
    picked.push(row);
  }
  return picked;
}

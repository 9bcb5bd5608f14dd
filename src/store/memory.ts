// The Store in memory: the same answers as the SQLite and PostgreSQL stores for the same history (the same row
// codec, rollup maths, cursors, housekeeping marks and retention), kept in maps and sorted arrays instead of tables.
// For tests and tools that need a whole store without a database; nothing survives close().
import type { Logger } from 'pino';
import type { RetentionConfig } from '../config/types.js';
import { DEFAULT_SITE, type SiteStates } from '../health/sites.js';
import type { Maintenance, StateTransition } from '../health/types.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { CHECK_ROWS, STORED_KINDS, type QueuedRow, type SelectedRow } from './check-rows.js';
import { decodeResult, decodeTransition, rollupPoint } from './codec.js';
import { encodeCursor, historyWindow } from './cursor.js';
import { DEFAULT_RETENTION, rewoundMarks, type MarkName } from './housekeeping-plan.js';
import { WriteIntake } from './intake.js';
import { LocalSiteStates } from './local-states.js';
import { MemoryHousekeeping } from './memory-housekeeping.js';
import { insertUnique, lowerBound, newTables, rowsBetween, selectedResult, selectedSstpCheck, selectedTransition, type TargetTables } from './memory-tables.js';
import { HOUR_MS, bucketStart, unpackMinutes, uptimeSegments } from './rollup.js';
import {
  TargetNotFoundError,
  UnknownSiteError,
  type PublishedState,
  type RecordedState,
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

/** Where each check kind's rows live in a target's tables, and how a row reads back (as the SQL stores select it). */
const KIND_TABLES: { readonly [K in CheckKind]: { rows: (t: TargetTables) => QueuedRow<K>[]; selected: (row: QueuedRow<K>) => SelectedRow<K> } } = {
  head: { rows: (t) => t.results, selected: selectedResult },
  sstp: { rows: (t) => t.sstpChecks, selected: selectedSstpCheck },
};

export interface MemoryStoreOptions {
  log: Logger;
  /** Results queued between two flushes; beyond it the oldest are dropped (as in the SQL stores). */
  maxPending?: number;
  now?: () => number;
  /** How long raw results and rollups are kept; default as the SQL stores. */
  retention?: RetentionConfig;
  /** The one site this store holds; default the unnamed site. */
  site?: string;
}

/** How far (ms) a row is moved forward when its target already has one at the same millisecond (as on SQLite). */
const MAX_TIME_SHIFT_MS = 1000;
/** Transitions selected by transitionsBetween(), as the SQL stores limit them. */
const MAX_TRANSITIONS = 100_000;

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly site: string;
  private readonly log: Logger;
  private readonly states: LocalSiteStates;
  private readonly intake: WriteIntake;
  private readonly byName = new Map<string, TargetTables>();
  private readonly byId = new Map<number, TargetTables>();
  /** Housekeeping progress: how far rollups and raw pruning have got. */
  private readonly marks = new Map<MarkName, number>();
  private readonly housekeeping: MemoryHousekeeping;

  constructor(options: MemoryStoreOptions) {
    this.log = options.log;
    this.intake = new WriteIntake(options);
    this.site = options.site ?? DEFAULT_SITE;
    this.states = new LocalSiteStates(this.site, this.intake.now);
    this.housekeeping = new MemoryHousekeeping(this.marks, options.retention ?? DEFAULT_RETENTION, () => [...this.byId.values()], this.log);
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
    this.intake.setTargets(new Map([...this.byName].map(([name, t]) => [name, t.id])), targets);
  }

  record(target: string, check: CheckKind, result: ProbeResult, exclusion: UptimeExclusion = null): void {
    this.intake.record(target, check, result, exclusion);
  }

  recordTransition(transition: StateTransition): void {
    this.intake.recordTransition(transition);
  }

  publishState(target: string, state: PublishedState): void {
    this.intake.publishState(target, state);
  }

  async siteStates(): Promise<SiteStates> {
    this.requireOpen();
    return this.states.read();
  }

  async sites(): Promise<string[]> {
    return [this.site];
  }

  async flush(): Promise<void> {
    this.flushNow();
  }

  /** Writes everything queued (in memory a write cannot fail). */
  private flushNow(): void {
    if (this.intake.isClosed) return;
    this.states.write(this.intake.takePublished());
    if (!this.intake.pending) return;
    for (const kind of STORED_KINDS) this.writeKind(kind);
    const transitions = this.intake.transitions.peek(Number.POSITIVE_INFINITY);
    for (const row of transitions.rows) this.insertShifting(this.tablesOf(row.targetId).transitions, row, 'transition');
    this.intake.transitions.commit(transitions.mark);
    if (transitions.rows.length > 0) this.housekeeping.steps.floors.transitionsWritten();
    this.intake.markWritten();
  }

  /**
   * A kind's queued rows into its table: `head` results move forward from a taken millisecond (and move the rollup
   * marks back when they are late); a deep check at a taken millisecond is dropped, as the SQL stores do.
   */
  private writeKind<K extends CheckKind>(kind: K): void {
    const queue = this.intake.checks[kind];
    const { rows, mark } = queue.peek(Number.POSITIVE_INFINITY);
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      const table = KIND_TABLES[kind].rows(this.tablesOf(row.targetId));
      if (kind === 'head') {
        this.insertShifting(table, row, 'result');
        oldestAt = Math.min(oldestAt, row.at);
      } else {
        insertUnique(table, row);
      }
    }
    queue.commit(mark);
    this.housekeeping.steps.floors.checksWritten(kind, rows);
    const rewound = rewoundMarks(this.marks, oldestAt);
    if (rewound.size === 0) return;
    for (const [name, at] of rewound) this.marks.set(name, at);
    this.housekeeping.steps.rewound();
    this.log.info({ marks: Object.fromEntries(rewound) }, 'late results; their buckets will be rolled up again');
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

  async history(target: string, query: HistoryQuery, site?: string): Promise<HistoryPage<StoredResult>> {
    const { results } = this.requireTarget(target, site);
    const window = historyWindow(query);
    const rows = newestFirst(results, window.from, window.to, window.limit + 1);
    const items = rows.slice(0, window.limit).map((row) => decodeResult(selectedResult(row)));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > window.limit && last ? encodeCursor(last.at) : null };
  }

  async rollups(target: string, resolution: RollupResolution, query: HistoryQuery, site?: string): Promise<HistoryPage<RollupPoint>> {
    const tables = this.requireTarget(target, site);
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

  async uptime(target: string, from: number, to: number, site?: string): Promise<UptimeCount> {
    const tables = this.requireTarget(target, site);
    const count: UptimeCount = { probes: 0, failures: 0 };
    const rolled = (name: MarkName) => this.marks.get(name) ?? Number.NEGATIVE_INFINITY;
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

  async transitionsBetween(target: string, from: number, to: number, site?: string): Promise<StateTransition[]> {
    const { transitions } = this.requireTarget(target, site);
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

  async maintenanceWindows(): Promise<Map<string, Maintenance>> {
    this.requireOpen();
    const windows = new Map<string, Maintenance>();
    for (const [name, tables] of this.byName) if (tables.maintenance) windows.set(name, { ...tables.maintenance });
    return windows;
  }

  async setMaintenance(target: string, maintenance: Maintenance | null): Promise<void> {
    this.requireTarget(target).maintenance = maintenance ? { until: maintenance.until, reason: maintenance.reason } : null;
  }

  async housekeepingStep(now: number): Promise<HousekeepingStep | null> {
    if (this.intake.isClosed) return null;
    return this.housekeeping.steps.next(now);
  }

  async recordedStates(targets: readonly string[]): Promise<Map<string, RecordedState>> {
    this.requireOpen();
    const states = new Map<string, RecordedState>();
    for (const name of targets) {
      const tables = this.byName.get(name);
      const row = tables?.transitions.at(-1);
      states.set(name, {
        transition: row ? decodeTransition(name, selectedTransition(row)) : null,
        maintenance: tables?.maintenance ? { ...tables.maintenance } : null,
      });
    }
    return states;
  }

  async lastTransition(target: string): Promise<StateTransition | null> {
    this.requireOpen();
    const row = this.byName.get(target)?.transitions.at(-1);
    return row ? decodeTransition(target, selectedTransition(row)) : null;
  }

  async lastResult(target: string, check: CheckKind): Promise<StoredResult | null> {
    this.requireOpen();
    const tables = this.byName.get(target);
    return tables ? this.lastOfKind(tables, check) : null;
  }

  private lastOfKind<K extends CheckKind>(tables: TargetTables, kind: K): StoredResult | null {
    const { rows, selected } = KIND_TABLES[kind];
    const row = rows(tables).at(-1);
    return row ? CHECK_ROWS[kind].decode(selected(row)) : null;
  }

  writeHealth(): WriteHealth {
    return this.intake.writeHealth();
  }

  async close(): Promise<void> {
    if (this.intake.isClosed) return;
    this.flushNow();
    this.intake.close();
  }

  private tablesOf(targetId: number): TargetTables {
    const tables = this.byId.get(targetId);
    if (!tables) throw new Error(`no target with id ${targetId}`);
    return tables;
  }

  /** Reads after close() fail, as they do on a closed database. */
  private requireOpen(): void {
    if (this.intake.isClosed) throw new Error('the store is closed');
  }

  private requireTarget(target: string, site?: string): TargetTables {
    this.requireOpen();
    if (site !== undefined && site !== this.site) throw new UnknownSiteError(site, [this.site]);
    const tables = this.byName.get(target);
    if (!tables) throw new TargetNotFoundError(target);
    return tables;
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

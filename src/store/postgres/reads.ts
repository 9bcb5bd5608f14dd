// The PostgreSQL store's reads: the same answers as the SQLite store's (sqlite/reads.ts), a round trip each. The API's
// (history, rollups, uptime, transitions) go through read(): each statement has the API read deadline; those of a
// start or reload (the last result, transition and maintenance of targets to restore) have the pool's 30 s.
import type { Maintenance, StateTransition } from '../../health/types.js';
import type { CheckKind } from '../../probe/types.js';
import { CHECK_ROWS, type SelectedRow } from '../check-rows.js';
import { countMinutes, decodeResult, decodeTransition, hourPoint, minutePoints, type SelectedHour, type SelectedResult, type SelectedTransition } from '../codec.js';
import { historyWindow, pageOf } from '../cursor.js';
import type { MarkName } from '../housekeeping-plan.js';
import type { SelectedRecordedState } from '../recorded-states.js';
import { HOUR_MS, bucketStart, uptimeSegments } from '../rollup.js';
import type { HistoryPage, HistoryQuery, RollupPoint, RollupResolution, StoredResult, UptimeCount } from '../store.js';
import type { PostgresConnection, Statement } from './connection.js';
import { SQL } from './statements.js';

/** Every kind's newest-row query: a kind without its table does not compile. */
const LAST_ROW: { readonly [K in CheckKind]: Statement } = { head: SQL.lastResult, sstp: SQL.lastSstpCheck };

/** Reads of a target by its id; the store resolves names (and throws TargetNotFoundError). */
export class PostgresReads {
  constructor(
    private readonly db: PostgresConnection,
    /** The housekeeping marks: uptime reads rollups where they are complete. */
    private readonly marks: ReadonlyMap<MarkName, number>,
    /** The store's site: whose maintenance windows maintenanceWindows() reads. */
    private readonly site: string,
  ) {}

  async history(targetId: number, query: HistoryQuery): Promise<HistoryPage<StoredResult>> {
    const window = historyWindow(query);
    const { rows } = await this.db.read<SelectedResult>(SQL.history, [targetId, window.from, window.to, window.limit + 1]);
    const page = pageOf(rows, window);
    return { items: page.items.map(decodeResult), nextCursor: page.nextCursor };
  }

  async rollups(targetId: number, resolution: RollupResolution, query: HistoryQuery): Promise<HistoryPage<RollupPoint>> {
    const window = historyWindow(query, resolution);
    if (resolution === '1h') {
      const { rows } = await this.db.read<SelectedHour>(SQL.hoursPage, [targetId, window.from, window.to, window.limit + 1]);
      return pageOf(rows.map(hourPoint), window, resolution);
    }
    // Hours newest first, a few at a time, until the page is full.
    const points: RollupPoint[] = [];
    let upTo = window.to;
    const firstHour = Math.max(Number.MIN_SAFE_INTEGER, bucketStart(window.from, HOUR_MS));
    const hoursPerQuery = Math.ceil((window.limit + 1) / 60) + 1;
    while (points.length <= window.limit) {
      const { rows } = await this.db.read<{ hour: number; minutes: Buffer }>(SQL.minutesPage, [targetId, firstHour, upTo, hoursPerQuery]);
      for (const row of rows) points.push(...minutePoints(row.hour, row.minutes, window.from, window.to));
      const oldest = rows.at(-1);
      if (rows.length < hoursPerQuery || !oldest) break;
      upTo = oldest.hour - 1;
    }
    return pageOf(points, window, resolution);
  }

  async uptime(targetId: number, from: number, to: number): Promise<UptimeCount> {
    const count: UptimeCount = { probes: 0, failures: 0 };
    const rolled = (name: MarkName) => this.marks.get(name) ?? Number.NEGATIVE_INFINITY;
    for (const segment of uptimeSegments(from, to, rolled('minute_rolled_until'), rolled('hour_rolled_until'))) {
      if (segment.source === 'minute') {
        const { rows } = await this.db.read<{ hour: number; minutes: Buffer }>(SQL.minutesRange, [targetId, bucketStart(segment.from, HOUR_MS), segment.to - 1]);
        for (const row of rows) countMinutes(count, row.hour, row.minutes, segment.from, segment.to);
        continue;
      }
      const statement = segment.source === 'raw' ? SQL.rawUptime : SQL.hoursUptime;
      const { rows } = await this.db.read<{ probes: number; failures: number }>(statement, [targetId, segment.from, segment.to]);
      count.probes += rows[0]?.probes ?? 0;
      count.failures += rows[0]?.failures ?? 0;
    }
    return count;
  }

  async transitionsBetween(target: string, targetId: number, from: number, to: number): Promise<StateTransition[]> {
    if (from > to) return [];
    const [before, within, after] = await Promise.all([
      this.db.read<SelectedTransition>(SQL.transitionBefore, [targetId, from]),
      this.db.read<SelectedTransition>(SQL.transitionsBetween, [targetId, from, to]),
      this.db.read<SelectedTransition>(SQL.transitionAfter, [targetId, to]),
    ]);
    return [...before.rows, ...within.rows, ...after.rows].map((row) => decodeTransition(target, row));
  }

  async lastResult<K extends CheckKind>(targetId: number, check: K): Promise<StoredResult | null> {
    const { rows } = await this.db.query<SelectedRow<K>>(LAST_ROW[check], [targetId]);
    return rows[0] ? CHECK_ROWS[check].decode(rows[0]) : null;
  }

  async lastTransition(target: string, targetId: number): Promise<StateTransition | null> {
    const { rows } = await this.db.query<SelectedTransition>(SQL.lastTransition, [targetId]);
    return rows[0] ? decodeTransition(target, rows[0]) : null;
  }

  async recordedStates(targetIds: readonly number[]): Promise<SelectedRecordedState[]> {
    const { rows } = await this.db.query<SelectedRecordedState>(SQL.recordedStates, [targetIds]);
    return rows;
  }

  async maintenanceWindows(): Promise<Map<number, Maintenance>> {
    const { rows } = await this.db.query<{ target_id: number; until: number; reason: string }>(SQL.selectMaintenanceWindows, [this.site]);
    return new Map(rows.map((row) => [row.target_id, { until: row.until, reason: row.reason }]));
  }

  async maintenance(targetId: number): Promise<Maintenance | null> {
    const { rows } = await this.db.query<{ until: number; reason: string }>(SQL.selectMaintenance, [targetId]);
    return rows[0] ? { until: rows[0].until, reason: rows[0].reason } : null;
  }
}

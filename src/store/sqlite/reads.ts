// The SQLite store's reads: history pages, rollups, uptime, transitions, the last result of each kind and the
// maintenance window. Each answers from what has been written (never from the write queue).
import type { Maintenance, StateTransition } from '../../health/types.js';
import type { CheckKind } from '../../probe/types.js';
import { CHECK_ROWS, type SelectedRow } from '../check-rows.js';
import { countMinutes, decodeResult, decodeTransition, hourPoint, minutePoints } from '../codec.js';
import { historyWindow, pageOf } from '../cursor.js';
import type { MarkName } from '../housekeeping-plan.js';
import type { SelectedRecordedState } from '../recorded-states.js';
import { HOUR_MS, bucketStart, uptimeSegments } from '../rollup.js';
import type { HistoryPage, HistoryQuery, RollupPoint, RollupResolution, StoredResult, UptimeCount } from '../store.js';
import type { Statements } from './statements.js';

/** Reads of a target by its id; the store resolves names (and throws TargetNotFoundError). */
export class SqliteReads {
  /** Every kind's newest row: a kind without its table does not compile. */
  private readonly lastRow: { readonly [K in CheckKind]: { get(targetId: number): SelectedRow<K> | undefined } };

  constructor(
    private readonly statements: Statements,
    /** The housekeeping marks: uptime reads rollups where they are complete. */
    private readonly marks: ReadonlyMap<MarkName, number>,
  ) {
    this.lastRow = { head: statements.lastResult, sstp: statements.lastSstpCheck };
  }

  history(targetId: number, query: HistoryQuery): HistoryPage<StoredResult> {
    const window = historyWindow(query);
    const page = pageOf(this.statements.history.all(targetId, window.from, window.to, window.limit + 1), window);
    return { items: page.items.map(decodeResult), nextCursor: page.nextCursor };
  }

  rollups(targetId: number, resolution: RollupResolution, query: HistoryQuery): HistoryPage<RollupPoint> {
    const window = historyWindow(query, resolution);
    if (resolution === '1h') {
      return pageOf(this.statements.hours.page.all(targetId, window.from, window.to, window.limit + 1).map(hourPoint), window, resolution);
    }
    const points: RollupPoint[] = [];
    const firstHour = Math.max(Number.MIN_SAFE_INTEGER, bucketStart(window.from, HOUR_MS));
    for (const row of this.statements.minutes.range.iterate(targetId, firstHour, window.to)) {
      points.push(...minutePoints(row.hour, row.minutes, window.from, window.to));
      if (points.length > window.limit) break;
    }
    return pageOf(points, window, resolution);
  }

  uptime(targetId: number, from: number, to: number): UptimeCount {
    const count: UptimeCount = { probes: 0, failures: 0 };
    const rolled = (name: MarkName) => this.marks.get(name) ?? Number.NEGATIVE_INFINITY;
    for (const segment of uptimeSegments(from, to, rolled('minute_rolled_until'), rolled('hour_rolled_until'))) {
      if (segment.source === 'minute') {
        for (const row of this.statements.minutes.range.iterate(targetId, bucketStart(segment.from, HOUR_MS), segment.to - 1)) {
          countMinutes(count, row.hour, row.minutes, segment.from, segment.to);
        }
        continue;
      }
      const statement = segment.source === 'raw' ? this.statements.rawUptime : this.statements.hours.uptime;
      const row = statement.get(targetId, segment.from, segment.to);
      count.probes += row?.probes ?? 0;
      count.failures += row?.failures ?? 0;
    }
    return count;
  }

  transitionsBetween(target: string, targetId: number, from: number, to: number): StateTransition[] {
    if (from > to) return [];
    const before = this.statements.transitionBefore.get(targetId, from);
    const within = this.statements.transitionsBetween.all(targetId, from, to);
    const after = this.statements.transitionAfter.get(targetId, to);
    return [...(before ? [before] : []), ...within, ...(after ? [after] : [])].map((row) => decodeTransition(target, row));
  }

  lastResult<K extends CheckKind>(targetId: number, check: K): StoredResult | null {
    const row = this.lastRow[check].get(targetId);
    return row ? CHECK_ROWS[check].decode(row) : null;
  }

  lastTransition(target: string, targetId: number): StateTransition | null {
    const row = this.statements.lastTransition.get(targetId);
    return row ? decodeTransition(target, row) : null;
  }

  recordedStates(targetIds: readonly number[]): SelectedRecordedState[] {
    return this.statements.recordedStates.all(JSON.stringify(targetIds));
  }

  maintenanceWindows(): Map<number, Maintenance> {
    return new Map(this.statements.selectMaintenanceWindows.all().map((row) => [row.target_id, { until: row.until, reason: row.reason }]));
  }

  maintenance(targetId: number): Maintenance | null {
    const row = this.statements.selectMaintenance.get(targetId);
    return row ? { until: row.until, reason: row.reason } : null;
  }
}

// The live states every instance publishes (table target_states), so that any instance's API shows every site:
// written at each flush (the targets that changed, one multi-row upsert), read incrementally (the rows written since
// the last read, give or take the time a transaction may take to commit), kept here between reads.
import type { SiteStates, SiteTargetState } from '../../health/sites.js';
import type { TargetState } from '../../health/types.js';
import type { ErrorKind } from '../../probe/types.js';
import type { PendingState } from '../intake.js';
import type { PostgresConnection } from './connection.js';
import { SQL } from './statements.js';

/** Rows are read again this far (ms) before the previous read: a flush that committed late is not missed. */
const READ_OVERLAP_MS = 3_000;
const MAX_MESSAGE_CHARS = 500;

interface SelectedState {
  target_id: number;
  site: string;
  name: string;
  updated_at: number;
  since: number | null;
  last_at: number | null;
  cert_not_after: number | null;
  interval_ms: number;
  consecutive_failures: number;
  consecutive_successes: number;
  duration_us: number | null;
  status_code: number | null;
  last_ok: boolean | null;
  state: string;
  error_kind: string | null;
  message: string | null;
  cert_sha256: string | null;
}

export class PostgresSiteStates {
  private readonly rows = new Map<number, SiteTargetState>();
  private readFrom = Number.MIN_SAFE_INTEGER;

  constructor(private readonly db: PostgresConnection) {}

  /** Upserts the states a flush took; rejects when PostgreSQL does not take them (the caller gives them back). */
  async write(pending: readonly PendingState[]): Promise<void> {
    if (pending.length === 0) return;
    const col = <T>(pick: (p: PendingState) => T) => pending.map(pick);
    await this.db.query(SQL.upsertStates, [
      col((p) => p.targetId),
      col((p) => p.state.since),
      col((p) => p.state.lastResult?.at ?? null),
      col((p) => p.state.certificate?.notAfter ?? null),
      col((p) => Math.min(2_147_483_647, Math.max(1, Math.round(p.state.intervalMs)))),
      col((p) => p.state.consecutiveFailures),
      col((p) => p.state.consecutiveSuccesses),
      col((p) => (p.state.lastResult ? Math.min(2_147_483_647, Math.max(0, Math.round(p.state.lastResult.durationMs * 1000))) : null)),
      col((p) => p.state.lastResult?.statusCode ?? null),
      col((p) => p.state.lastResult?.ok ?? null),
      col((p) => p.state.state),
      col((p) => p.state.lastResult?.errorKind ?? null),
      col((p) => p.state.lastResult?.message.slice(0, MAX_MESSAGE_CHARS) ?? null),
      col((p) => p.state.certificate?.sha256 ?? null),
    ]);
  }

  /**
   * Every site's states, read from PostgreSQL since the last read; a row unchanged keeps its object. Only the API
   * reads them: with the API read deadline (StoreTimeoutError past it).
   */
  async read(): Promise<SiteStates> {
    const clock = await this.db.read<{ now: number }>(SQL.clock);
    const now = clock.rows[0]!.now;
    const { rows } = await this.db.read<SelectedState>(SQL.statesSince, [this.readFrom]);
    for (const row of rows) {
      const known = this.rows.get(row.target_id);
      if (known && known.updatedAt === row.updated_at) continue;
      this.rows.set(row.target_id, decodeState(row));
    }
    this.readFrom = now - READ_OVERLAP_MS;
    return { at: now, states: [...this.rows.values()] };
  }
}

function decodeState(row: SelectedState): SiteTargetState {
  return {
    site: row.site,
    target: row.name,
    state: row.state as TargetState,
    since: row.since,
    consecutiveFailures: row.consecutive_failures,
    consecutiveSuccesses: row.consecutive_successes,
    intervalMs: row.interval_ms,
    lastResult:
      row.last_at === null
        ? null
        : {
            at: row.last_at,
            ok: row.last_ok ?? false,
            errorKind: (row.error_kind ?? 'ok') as ErrorKind,
            statusCode: row.status_code,
            durationMs: (row.duration_us ?? 0) / 1000,
            message: row.message ?? '',
          },
    certificate: row.cert_sha256 !== null && row.cert_not_after !== null ? { sha256: row.cert_sha256, notAfter: row.cert_not_after } : null,
    updatedAt: row.updated_at,
  };
}

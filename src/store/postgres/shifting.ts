// Rows of one target at a millisecond already taken move forward to the next free one, in the order they were
// recorded, exactly as the SQLite store's row-by-row insert does: two transitions of one millisecond must be read
// back in the order they happened, or a restart restores the wrong state.
import type { Logger } from 'pino';
import type { Queryable, Statement } from './connection.js';
import { distinctTimes } from './rows.js';

/** How far (ms) a row moves forward when its target already has one at the same millisecond (as on SQLite). */
export const MAX_TIME_SHIFT_MS = 1000;

export type ShiftedTable = 'results' | 'state_transitions';

const statements = (table: ShiftedTable) => ({
  delete: {
    name: `unshift_${table}`,
    text: `DELETE FROM ${table} WHERE (target_id, at) IN (SELECT * FROM unnest($1::int4[], $2::int8[]))`,
  },
  taken: {
    name: `taken_${table}`,
    text: `SELECT target_id, at FROM ${table} WHERE target_id = ANY($1::int4[]) AND at BETWEEN $2 AND $3`,
  },
});
const STATEMENTS = { results: statements('results'), state_transitions: statements('state_transitions') };

/**
 * Inserts rows, one statement when no row meets a stored one (the usual case). Otherwise the rows of the targets
 * that met one are taken out again and given the first free millisecond at or after their own, in the order
 * recorded, against the stored rows; a row with none free within MAX_TIME_SHIFT_MS is dropped with a log.
 */
export async function insertShifting<R extends { targetId: number; at: number }>(
  client: Queryable,
  table: ShiftedTable,
  rows: readonly R[],
  statement: (rows: R[], ats: number[]) => [Statement, unknown[]],
  log: Logger,
  what: string,
): Promise<void> {
  let pending = [...rows];
  let ats = distinctTimes(pending);
  for (let attempt = 0; pending.length > 0; attempt++) {
    const [query, values] = statement(pending, ats);
    const inserted = await client.query<{ target_id: number; at: number }>({ ...query, values });
    const stored = new Set(inserted.rows.map((r) => `${r.target_id}:${r.at}`));
    const met = new Set(pending.filter((row, i) => !stored.has(`${row.targetId}:${ats[i]}`)).map((row) => row.targetId));
    if (met.size === 0) return;
    if (attempt >= 3) {
      // Another instance keeps writing the same target's milliseconds: leave it at that.
      pending.forEach((row, i) => {
        if (!stored.has(`${row.targetId}:${ats[i]}`)) log.error({ targetId: row.targetId, at: row.at }, `no free millisecond for a ${what}; dropped`);
      });
      return;
    }
    const again = pending.map((row, i) => ({ row, at: ats[i]! })).filter(({ row }) => met.has(row.targetId));
    const undo = again.filter(({ row, at }) => stored.has(`${row.targetId}:${at}`));
    const { delete: remove, taken } = STATEMENTS[table];
    if (undo.length > 0) await client.query({ ...remove, values: [undo.map((u) => u.row.targetId), undo.map((u) => u.at)] });
    const lowest = Math.min(...again.map(({ row }) => row.at));
    const highest = Math.max(...again.map(({ row }) => row.at)) + again.length + MAX_TIME_SHIFT_MS;
    const takenRows = await client.query<{ target_id: number; at: number }>({ ...taken, values: [[...met], lowest, highest] });
    const busy = new Set(takenRows.rows.map((r) => `${r.target_id}:${r.at}`));
    pending = [];
    ats = [];
    for (const { row } of again) {
      let at = row.at;
      while (busy.has(`${row.targetId}:${at}`) && at - row.at < MAX_TIME_SHIFT_MS - 1) at++;
      if (busy.has(`${row.targetId}:${at}`)) {
        log.error({ targetId: row.targetId, at: row.at }, `no free millisecond for a ${what}; dropped`);
        continue;
      }
      busy.add(`${row.targetId}:${at}`);
      if (at !== row.at) log.warn({ targetId: row.targetId, at: row.at, storedAt: at }, `${what} time taken; stored later`);
      pending.push(row);
      ats.push(at);
    }
  }
}

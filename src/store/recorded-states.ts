// The batch read of arriving targets' recorded state (Store.recordedStates), shared by the SQL stores: each engine
// answers one query per batch of target ids; this splits the names into batches and decodes the rows.
import type { SelectedTransition } from './codec.js';
import { decodeTransition } from './codec.js';
import type { RecordedState } from './store.js';

/** Target ids per query: 10,000 arriving targets are 20 queries, each small enough for a statement's parameters. */
export const RECORDED_STATES_BATCH = 500;

/** One target's newest transition (columns null when it has none) and maintenance window (null when none). */
export type SelectedRecordedState = { target_id: number; until: number | null; reason: string | null } & {
  [K in keyof SelectedTransition]: SelectedTransition[K] | null;
};

/** Reads the rows of a batch of target ids: only targets with a transition or a window need a row. */
export type RecordedStatesQuery = (targetIds: readonly number[]) => SelectedRecordedState[] | Promise<SelectedRecordedState[]>;

/** Every name's recorded state, nulls where there is none; `targetId` resolves this site's names. */
export async function readRecordedStates(
  names: readonly string[],
  targetId: (name: string) => number | undefined,
  query: RecordedStatesQuery,
): Promise<Map<string, RecordedState>> {
  const states = new Map<string, RecordedState>();
  const namesById = new Map<number, string>();
  for (const name of names) {
    states.set(name, { transition: null, maintenance: null });
    const id = targetId(name);
    if (id !== undefined) namesById.set(id, name);
  }
  const ids = [...namesById.keys()];
  for (let start = 0; start < ids.length; start += RECORDED_STATES_BATCH) {
    for (const row of await query(ids.slice(start, start + RECORDED_STATES_BATCH))) {
      const name = namesById.get(row.target_id);
      if (name !== undefined) states.set(name, decodeRecordedState(name, row));
    }
  }
  return states;
}

function decodeRecordedState(name: string, row: SelectedRecordedState): RecordedState {
  const transition =
    row.at === null || row.from_state === null || row.to_state === null
      ? null
      : decodeTransition(name, { at: row.at, from_state: row.from_state, to_state: row.to_state, cause: row.cause, message: row.message });
  const maintenance = row.until === null ? null : { until: row.until, reason: row.reason ?? '' };
  return { transition, maintenance };
}

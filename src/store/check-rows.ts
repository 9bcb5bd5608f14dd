// How each kind of check's results are kept: the row a result is queued as, how many may wait, and how a stored
// row reads back. Each store maps every kind to its table's insert and last-row query the same way.
import type { CheckKind, ProbeResult } from '../probe/types.js';
import { decodeResult, encodeResult, type ResultRow, type SelectedResult } from './codec.js';
import { WriteQueue } from './queue.js';
import { decodeSstpCheck, encodeSstpCheck, type SelectedSstpCheck, type SstpCheckRow } from './sstp-checks.js';
import type { StoredResult, UptimeExclusion } from './store.js';

/**
 * The row types of each kind's table. Indexed by CheckKind: a kind added to the registry (probe/checks.ts) without
 * a table here fails to compile in the store, instead of landing in another kind's table.
 */
interface RowTypes {
  head: { queued: ResultRow; selected: SelectedResult };
  sstp: { queued: SstpCheckRow; selected: SelectedSstpCheck };
}
export type QueuedRow<K extends CheckKind> = RowTypes[K]['queued'];
export type SelectedRow<K extends CheckKind> = RowTypes[K]['selected'];

export interface CheckRowCodec<Queued, Selected> {
  /** How logs name one result of this kind. */
  noun: string;
  /** Rows of this kind kept in memory at most, given the store's maxPending. */
  capacity(maxPending: number): number;
  /**
   * Its drops count in writeHealth().dropped and are logged once per episode (the results uptime is computed
   * from); a drop of any other kind is logged each time.
   */
  countsDrops: boolean;
  /** Throws only for an error kind without a stored code. */
  encode(targetId: number, result: ProbeResult, exclusion: UptimeExclusion, fallbackAt: number): Queued;
  decode(row: Selected): StoredResult;
}

export const CHECK_ROWS: { readonly [K in CheckKind]: CheckRowCodec<QueuedRow<K>, SelectedRow<K>> } = {
  head: {
    noun: 'result',
    capacity: (maxPending) => maxPending,
    countsDrops: true,
    encode: (targetId, result, exclusion, fallbackAt) => encodeResult(targetId, result, fallbackAt, exclusion),
    decode: decodeResult,
  },
  // Only `head` results count for uptime: a deep check's exclusion is not kept.
  sstp: {
    noun: 'deep check result',
    capacity: (maxPending) => Math.min(maxPending, 10_000),
    countsDrops: false,
    encode: (targetId, result, _exclusion, fallbackAt) => encodeSstpCheck(targetId, result, fallbackAt),
    decode: decodeSstpCheck,
  },
};

export const STORED_KINDS = Object.keys(CHECK_ROWS) as CheckKind[];

/** Each kind's rows waiting to be written. */
export type CheckQueues = { [K in CheckKind]: WriteQueue<QueuedRow<K>> };

export function checkQueues(maxPending: number): CheckQueues {
  return {
    head: new WriteQueue(CHECK_ROWS.head.capacity(maxPending)),
    sstp: new WriteQueue(CHECK_ROWS.sstp.capacity(maxPending)),
  };
}

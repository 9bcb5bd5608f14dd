// History cursors: base64url of `<resolution>:<at>`, the `at` of the last item of the previous page. A cursor
// of one resolution is refused by the others.
import { InvalidCursorError, type HistoryPage, type HistoryQuery, type RollupResolution } from './store.js';

type CursorResolution = 'raw' | RollupResolution;

const CURSOR_TEXT = /^(raw|1m|1h):(0|-?[1-9][0-9]{0,15})$/;

export function encodeCursor(at: number, resolution: CursorResolution = 'raw'): string {
  return Buffer.from(`${resolution}:${at}`, 'utf8').toString('base64url');
}

/** The `at` a cursor stands for. Anything but a cursor encodeCursor() made for `resolution` throws InvalidCursorError. */
export function decodeCursor(cursor: unknown, resolution: CursorResolution = 'raw'): number {
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new InvalidCursorError(String(cursor));
  const match = CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const at = Number(match?.[2]);
  if (!match || match[1] !== resolution || !Number.isSafeInteger(at) || encodeCursor(at, resolution) !== cursor) {
    throw new InvalidCursorError(cursor);
  }
  return at;
}

export interface HistoryWindow {
  from: number;
  /** Inclusive. */
  to: number;
  limit: number;
}

/** The rows a history query asks for: at in [from, to], below the cursor's at. Throws for a bad query. */
export function historyWindow(query: HistoryQuery, resolution: CursorResolution = 'raw'): HistoryWindow {
  const { limit } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError(`history limit must be 1..10000 (got ${limit})`);
  const from = query.from ?? Number.MIN_SAFE_INTEGER;
  let to = query.to ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError('history from/to must be finite numbers');
  if (query.cursor !== undefined) to = Math.min(to, decodeCursor(query.cursor, resolution) - 1);
  return { from, to, limit };
}

/** The page of a window from rows read newest first (up to limit + 1: one more tells that an older page exists). */
export function pageOf<T extends { at: number }>(rows: readonly T[], window: HistoryWindow, resolution: CursorResolution = 'raw'): HistoryPage<T> {
  const items = rows.slice(0, window.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > window.limit && last ? encodeCursor(last.at, resolution) : null };
}

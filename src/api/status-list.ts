// What one GET /api/v1/status answers for a snapshot (status-cache.ts): the filter, the page, the body, its ETag and
// its gzip. Bodies are kept per snapshot version and query: requests between two versions share one body (and one
// gzip), and a client polling an unchanged list costs a lookup.
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlib } from 'node:zlib';
import type { TargetState } from '../health/types.js';
import { badRequest } from './errors.js';
import type { StatusSnapshot } from './status-cache.js';

const gzip = promisify(gzipCallback);

/** Bodies smaller than this go out as they are: compressing them costs more than it saves. */
export const COMPRESS_MIN_BYTES = 8 * 1024;
/** gzip level 1: at 10,000 targets the list shrinks ~10x at a fraction of level 6's CPU (docs/capacity.md). */
const GZIP_LEVEL = 1;
/** Bodies kept per version: a few pollers with different filters. */
const KEPT_BODIES = 16;

export interface StatusQuery {
  state?: TargetState;
  group?: string;
  limit?: number;
  cursor?: string;
}

export interface StatusBody {
  etag: string;
  json: Buffer;
  /** Built on the first request that accepts gzip, then kept; absent below COMPRESS_MIN_BYTES. */
  gzipped?: Promise<Buffer>;
}

/** A cursor says where the previous page ended: the last target's position and name (the name wins if it moved). */
export function encodeCursor(index: number, name: string): string {
  return Buffer.from(`${index}:${name}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, names: (i: number) => string | undefined, count: number, find: (name: string) => number): number {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,9}):(.+)$/s.exec(text);
  if (!match) throw badRequest('cursor is not one this server gave (pass next_cursor from the previous page as it is)');
  const index = Number(match[1]);
  const name = match[2]!;
  if (names(index) === name) return index;
  const moved = find(name);
  // The target was removed by a reload since: carry on from where it stood.
  return moved >= 0 ? moved : Math.min(index, count) - 1;
}

/** The bodies of one snapshot, per query. */
export class StatusBodies {
  private version = -1;
  private readonly bodies = new Map<string, StatusBody>();
  /** Tells this process's ETags from another's (a restart starts the versions over). */
  private readonly instance = randomBytes(4).toString('hex');

  /** The body answering `query` from `snapshot`: built on the first request for it, then shared until the version moves. */
  body(snapshot: StatusSnapshot, query: StatusQuery): StatusBody {
    if (snapshot.version !== this.version) {
      this.bodies.clear();
      this.version = snapshot.version;
    }
    const key = JSON.stringify([query.state ?? null, query.group ?? null, query.limit ?? null, query.cursor ?? null]);
    const kept = this.bodies.get(key);
    if (kept) return kept;
    const { indices, next } = selectTargets(snapshot, query);
    const nextCursor = next === null ? 'null' : JSON.stringify(encodeCursor(next, snapshot.names[next]!));
    const json = assemble(`${head(snapshot, query)},"targets":[`, snapshot.targetJson, indices, `],"next_cursor":${nextCursor}}`);
    const body: StatusBody = { etag: `W/"${this.instance}-${snapshot.version}"`, json };
    if (this.bodies.size >= KEPT_BODIES) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(key, body);
    return body;
  }

  /** The gzip of `body`, compressed once (off the event loop, in libuv's pool) and shared by concurrent requests. */
  gzipped(body: StatusBody): Promise<Buffer> | null {
    if (body.json.length < COMPRESS_MIN_BYTES) return null;
    body.gzipped ??= gzip(body.json, { level: GZIP_LEVEL, strategy: zlib.Z_DEFAULT_STRATEGY });
    return body.gzipped;
  }
}

/** Everything before the targets: the whole fleet's summary, and the groups (only the filtered one under ?group). */
function head(snapshot: StatusSnapshot, query: StatusQuery): string {
  const only = query.group === undefined ? undefined : snapshot.groupIndex.get(query.group);
  const groups = query.group === undefined ? snapshot.groupJson.join(',') : only === undefined ? '' : snapshot.groupJson[only]!;
  return `{"generated_at":"${new Date(snapshot.builtAt).toISOString()}","summary":${JSON.stringify(snapshot.summary)},"groups":[${groups}]`;
}

/**
 * `open`, the fragments (all, or those at `indices`) separated by commas, then `close`, written straight into one
 * Buffer: at 10,000 targets joining them into a string and encoding that cost ~25x more (bench/fleet.ts).
 */
export function assemble(open: string, fragments: readonly string[], indices: readonly number[] | null, close: string): Buffer {
  const count = indices === null ? fragments.length : indices.length;
  const at = indices === null ? (i: number) => fragments[i]! : (i: number) => fragments[indices[i]!]!;
  let length = Buffer.byteLength(open) + Buffer.byteLength(close) + Math.max(0, count - 1);
  for (let i = 0; i < count; i++) length += Buffer.byteLength(at(i));
  const out = Buffer.allocUnsafe(length);
  let offset = out.write(open, 0);
  for (let i = 0; i < count; i++) {
    if (i > 0) out[offset++] = 0x2c; // ,
    offset += out.write(at(i), offset);
  }
  offset += out.write(close, offset);
  if (offset !== length) throw new Error(`status list body: wrote ${offset} bytes of ${length}`);
  return out;
}

/**
 * The positions of the targets the query selects, in config order (null: all of them), and the position of the
 * last one shown when more follow (next_cursor). Without `limit` every matching target is listed. A group's
 * targets are looked up, not searched for.
 */
export function selectTargets(snapshot: StatusSnapshot, query: StatusQuery): { indices: number[] | null; next: number | null } {
  const { names } = snapshot;
  let from = 0;
  if (query.cursor !== undefined) {
    from = decodeCursor(query.cursor, (i) => names[i], names.length, (name) => names.indexOf(name)) + 1;
  }
  if (from === 0 && query.limit === undefined && query.group === undefined && query.state === undefined) return { indices: null, next: null };
  const candidates = query.group === undefined ? null : (snapshot.targetsOfGroup().get(query.group) ?? []);
  const count = candidates ? candidates.length : names.length;
  const limit = query.limit ?? Infinity;
  const indices: number[] = [];
  for (let c = candidates ? firstAtOrAfter(candidates, from) : from; c < count; c++) {
    const i = candidates ? candidates[c]! : c;
    if (query.state !== undefined && snapshot.states[i] !== query.state) continue;
    if (indices.length === limit) return { indices, next: indices[indices.length - 1]! };
    indices.push(i);
  }
  return { indices, next: null };
}

/** The first place in ascending `sorted` holding a value >= `value`. */
function firstAtOrAfter(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for If-None-Match). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** Whether the client takes gzip (Accept-Encoding, q > 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    return !q || Number(q[1]) > 0;
  });
}

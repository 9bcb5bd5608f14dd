// What one GET /api/v1/status answers for a snapshot (status-cache.ts): the filter, the page, the body, its ETag and
// its gzip. Bodies are kept per snapshot version and query: requests of one version share one body (and one gzip),
// and a client polling an unchanged list costs a lookup. A body exists in each encoding only once a client asked for
// it: the gzip is written piece by piece from the fragments (encoding.ts), so a list only ever asked for gzipped (what browsers, Grafana, curl
// --compressed and HTTP libraries ask for) never holds its identity bytes (9.6 MB at 10,000 targets).
import { randomBytes } from 'node:crypto';
import { ChunkWriter } from '../chunk-writer.js';
import { TimeSlicer } from '../time-slice.js';
import type { TargetState } from '../health/types.js';
import { gzipChunks } from './encoding.js';
import { badRequest } from './errors.js';
import { LOOK_SLICE_MS, type StatusSnapshot } from './status-cache.js';
import type { GzipRuns } from './status-gzip.js';

/** Bodies smaller than this go out as they are: compressing them costs more than it saves. */
export const COMPRESS_MIN_BYTES = 8 * 1024;
/** Bytes gzipped per turn of the event loop: about a millisecond of deflate at level 1, as /metrics does. */
const PIECE_BYTES = 256 * 1024;
/** Bodies kept per version: a few pollers with different filters. */
const KEPT_BODIES = 16;

export interface StatusQuery {
  state?: TargetState;
  group?: string;
  limit?: number;
  cursor?: string;
}

/** A body as it is written: `open`, the fragments (all, or those at `indices`) separated by commas, then `close`. */
export interface BodyParts {
  open: string;
  fragments: readonly string[];
  /** Each fragment's length in UTF-8 bytes, when known (status-cache.ts keeps them). */
  fragmentBytes?: readonly number[];
  indices: readonly number[] | null;
  close: string;
}

/** One version's answer to one query, in each encoding a client asked for. */
export class StatusBody {
  /** Its length in bytes, identity. */
  readonly length: number;
  /** Which encodings clients asked for: the next version prepares those before it answers (status-versions.ts). */
  readonly asked = { identity: false, gzip: false };
  private identity: Buffer | undefined;
  private compressed: Promise<Buffer> | undefined;

  constructor(
    readonly query: StatusQuery,
    readonly etag: string,
    private readonly parts: BodyParts,
    /** The full list's gzip kept between versions (status-gzip.ts); filtered bodies are compressed whole. */
    private readonly runs?: GzipRuns,
  ) {
    this.length = partsLength(parts);
  }

  /** The body as it is, written on the first call, then kept. */
  json(): Buffer {
    return (this.identity ??= assemble(this.parts, this.length));
  }

  /** Whether it is big enough to be worth compressing. */
  get compressible(): boolean {
    return this.length >= COMPRESS_MIN_BYTES;
  }

  /** Its gzip, compressed once (on the event loop, a piece per turn: encoding.ts) and shared by concurrent requests. */
  gzipped(): Promise<Buffer> {
    const { open, fragments, indices, close } = this.parts;
    return (this.compressed ??= this.runs && indices === null ? this.runs.gzip(open, fragments, close) : gzipParts(this.parts));
  }
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

/** Tells this process's ETags from another's (a restart starts the versions over). */
const INSTANCE = randomBytes(4).toString('hex');

/** The bodies of one snapshot (one version of the list), per query. */
export class StatusBodies {
  readonly etag: string;
  private readonly bodies = new Map<string, StatusBody>();

  constructor(
    readonly snapshot: StatusSnapshot,
    private readonly runs?: GzipRuns,
  ) {
    this.etag = `W/"${INSTANCE}-${snapshot.version}"`;
  }

  /** The body answering `query`: made on the first request for it, then shared by the version's requests. */
  body(query: StatusQuery): StatusBody {
    const key = JSON.stringify([query.state ?? null, query.group ?? null, query.limit ?? null, query.cursor ?? null]);
    const kept = this.bodies.get(key);
    if (kept) return kept;
    const snapshot = this.snapshot;
    const { indices, next } = selectTargets(snapshot, query);
    const nextCursor = next === null ? 'null' : JSON.stringify(encodeCursor(next, snapshot.names[next]!));
    const body = new StatusBody(query, this.etag, {
      open: `${head(snapshot, query)},"targets":[`, fragments: snapshot.targetJson, fragmentBytes: snapshot.targetBytes, indices, close: `],"next_cursor":${nextCursor}}`,
    }, this.runs);
    if (this.bodies.size >= KEPT_BODIES) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(key, body);
    return body;
  }

  /** The bodies clients asked for so far. */
  asked(): StatusBody[] {
    return [...this.bodies.values()].filter((b) => b.asked.identity || b.asked.gzip);
  }
}

/** Everything before the targets: the whole fleet's summary, and the groups (only the filtered one under ?group). */
function head(snapshot: StatusSnapshot, query: StatusQuery): string {
  const only = query.group === undefined ? undefined : snapshot.groupIndex.get(query.group);
  const groups = query.group === undefined ? snapshot.groupJson.join(',') : only === undefined ? '' : snapshot.groupJson[only]!;
  return `{"generated_at":"${new Date(snapshot.builtAt).toISOString()}","summary":${JSON.stringify(snapshot.summary)},"groups":[${groups}]`;
}

function partsLength({ open, fragments, fragmentBytes, indices, close }: BodyParts): number {
  const count = indices === null ? fragments.length : indices.length;
  const bytes = fragmentBytes ?? fragments.map((f) => Buffer.byteLength(f, 'utf8'));
  let length = Buffer.byteLength(open) + Buffer.byteLength(close) + Math.max(0, count - 1);
  for (let i = 0; i < count; i++) length += bytes[indices === null ? i : indices[i]!]!;
  return length;
}

/**
 * `open`, the fragments (all, or those at `indices`) separated by commas, then `close`, written straight into one
 * Buffer: at 10,000 targets joining them into a string and encoding that cost ~25x more (bench/fleet.ts).
 */
export function assemble(parts: BodyParts, length = partsLength(parts)): Buffer {
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const piece of strings(parts)) offset += out.write(piece, offset);
  if (offset !== length) throw new Error(`status list body: wrote ${offset} bytes of ${length}`);
  return out;
}

/** The strings a body is made of, in order. */
function* strings({ open, fragments, indices, close }: BodyParts): Generator<string> {
  yield open;
  const count = indices === null ? fragments.length : indices.length;
  for (let i = 0; i < count; i++) {
    if (i > 0) yield ',';
    yield fragments[indices === null ? i : indices[i]!]!;
  }
  yield close;
}

/** The body in pieces of up to PIECE_BYTES. */
function* pieces(parts: BodyParts): Generator<Buffer> {
  const out = new ChunkWriter(PIECE_BYTES);
  for (const s of strings(parts)) {
    out.push(s);
    yield* out.takeFull();
  }
  out.flush();
  yield* out.takeFull();
}

/**
 * The gzip of a body, piece by piece on the event loop (encoding.ts), giving the loop back between pieces: never the
 * whole identity body in memory, and never a job queued in libuv's pool behind the service's file writes and DNS
 * (where /metrics once waited tens of seconds; a build stuck there would stretch the list's freshness bound just as
 * much). The same mechanism as /metrics, chosen side by side (bench/status-list.ts, gzip phase, 10,000 targets,
 * 5 alternating rounds, load average ~15 on 2 cores, medians): on the loop against zlib's stream in the pool,
 * request p50 / p99 67 / 557 ms against 70 / 860, the scheduler's lag p99 123 against 144 ms; with the look taken in
 * slices (status-cache.ts) 78 / 657 against 34 / 261 ms, lag p99 88 against 85 ms and lag max 160 against 236 ms:
 * the loop costs the probes no more, the latencies are within this machine's noise (docs/capacity.md).
 */
async function gzipParts(parts: BodyParts): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of gzipChunks(slices(parts))) out.push(piece);
  return Buffer.concat(out);
}

/**
 * The body's pieces, the event loop given back once a turn's pieces took LOOK_SLICE_MS: a few pieces a turn on an
 * idle loop, one on a busy one, so a build takes few turns when each turn waits behind many probes.
 */
async function* slices(parts: BodyParts): AsyncGenerator<Buffer> {
  const slicer = new TimeSlicer(LOOK_SLICE_MS);
  for (const piece of pieces(parts)) {
    yield piece;
    await slicer.yieldIfSpent();
  }
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

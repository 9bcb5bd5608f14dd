// Content coding for the API's large bodies (/metrics, the status list): whether a client takes gzip, and the one way
// they are gzipped.
//
// A gzip stream (RFC 1952, one member) built chunk by chunk on the event loop: each chunk is deflated on its own
// (zlib's deflateRawSync, ended with a sync flush rather than a final block), the pieces are one valid deflate
// stream because no piece refers back past its own start, and an empty final block, the CRC-32 and the length
// close it. zlib's streams would do the same work in libuv's thread pool, where a busy service's file writes and
// DNS lookups queue ahead of it: a 34 MB scrape then took tens of seconds on a loaded machine. Here each 256 KB
// chunk costs about a millisecond of the loop, between the exposition's own yields. The status list keeps its pieces
// between versions instead (status-gzip.ts): deflatePiece, gzipOfPieces and crc32Combine put those together.
import { constants, crc32, deflateRawSync } from 'node:zlib';

/**
 * gzip level 1 for both bodies, as Go's promhttp serves a scraper that asks for it: at 10,000 targets the metrics
 * shrink ~20x and the status list ~45x for about half of level 6's CPU (docs/metrics.md, docs/capacity.md).
 */
export const GZIP_LEVEL = 1;

/** The gzip header: magic, deflate, no flags, no time, no extra flags, OS unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
/** An empty stored block with BFINAL set: the end of the deflate stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** The gzip of the concatenated `chunks`, as it is written. */
export async function* gzipChunks(chunks: AsyncIterable<Buffer>, level = GZIP_LEVEL): AsyncGenerator<Buffer> {
  yield HEADER;
  let crc = 0;
  let length = 0;
  for await (const chunk of chunks) {
    crc = crc32(chunk, crc);
    length = (length + chunk.length) % 2 ** 32;
    const deflated = deflateRawSync(chunk, { level, finishFlush: constants.Z_SYNC_FLUSH });
    if (deflated.length > 0) yield deflated;
  }
  yield gzipEnd(crc, length);
}

/** A piece of a gzip body compressed on its own: its deflate bytes, and the CRC-32 and length of what it holds. */
export interface DeflatedPiece {
  readonly deflated: Buffer;
  readonly crc: number;
  readonly length: number;
  /** x^(8 * length) modulo the CRC polynomial: what joining a CRC before this piece multiplies it by (crc32Combine). */
  readonly shift: number;
}

/**
 * `bytes` deflated on their own, ended with a sync flush: a piece that fits anywhere in a stream. `before`, when
 * given, must be the bytes the stream holds right before this piece: the piece may then refer back into them (as a
 * preset dictionary, the way pigz compresses blocks in parallel), which a reader's window already holds. Its
 * deflate bytes are copied out: zlib hands back a view of a 16 KB buffer, which a kept piece would keep alive.
 */
export function deflatePiece(bytes: Buffer, before?: Buffer, level = GZIP_LEVEL): DeflatedPiece {
  const options = { level, finishFlush: constants.Z_SYNC_FLUSH };
  const deflated = deflateRawSync(bytes, before?.length ? { ...options, dictionary: before } : options);
  // Its own exact-size memory: Buffer.from would take a slice of the shared 8 KB pool, and a kept piece would keep
  // the whole slab alive.
  const own = Buffer.allocUnsafeSlow(deflated.length);
  deflated.copy(own);
  return { deflated: own, crc: crc32(bytes), length: bytes.length, shift: x2nModP(bytes.length, 3) };
}

/** One gzip member from pieces in order (deflatePiece): header, the pieces, an empty final block, CRC-32, length. */
export function gzipOfPieces(pieces: readonly DeflatedPiece[]): Buffer {
  const out: Buffer[] = [HEADER];
  let crc = 0;
  let length = 0;
  for (const piece of pieces) {
    out.push(piece.deflated);
    crc = (multModP(piece.shift, crc) ^ piece.crc) >>> 0; // crc32Combine, its shift worked out once per piece
    length = (length + piece.length) % 2 ** 32;
  }
  out.push(gzipEnd(crc, length));
  return Buffer.concat(out);
}

function gzipEnd(crc: number, length: number): Buffer {
  const end = Buffer.allocUnsafe(FINAL_BLOCK.length + 8);
  FINAL_BLOCK.copy(end, 0);
  end.writeUInt32LE(crc >>> 0, FINAL_BLOCK.length);
  end.writeUInt32LE(length, FINAL_BLOCK.length + 4);
  return end;
}

// CRC-32 of two strings joined, from each one's CRC and the second's length (zlib's crc32_combine, which node:zlib
// does not expose): the first CRC is multiplied by x^(8 * length) modulo the CRC polynomial, in its reflected form.
// Kept in signed 32-bit integers throughout: with unsigned values above 2^31 V8 boxes numbers and a combine took
// tens of microseconds instead of about one.
const POLY = 0xedb88320 | 0;

/** a(x) * b(x) modulo the polynomial (reflected: bit 31 is x^0), as signed 32-bit integers. */
function multModP(a: number, b: number): number {
  let p = 0;
  while (a !== 0) {
    if (a < 0) p ^= b;
    a <<= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N = new Int32Array(32);
for (let k = 0, p = 1 << 30; k < 32; k++) {
  X2N[k] = p;
  p = multModP(p, p);
}

/** x^(n * 2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 1 << 31;
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A followed by B, from CRC-32(A), CRC-32(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA | 0) ^ crcB) >>> 0;
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

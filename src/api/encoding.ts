// Content coding for the API's large bodies (/metrics, the status list): whether a client takes gzip, and the one way
// they are gzipped.
//
// A gzip stream (RFC 1952, one member) built chunk by chunk on the event loop: each chunk is deflated on its own
// (zlib's deflateRawSync, ended with a sync flush rather than a final block), the pieces are one valid deflate
// stream because no piece refers back past its own start, and an empty final block, the CRC-32 and the length
// close it. zlib's streams would do the same work in libuv's thread pool, where a busy service's file writes and
// DNS lookups queue ahead of it: a 34 MB scrape then took tens of seconds on a loaded machine. Here each 256 KB
// chunk costs about a millisecond of the loop, between the exposition's own yields.
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
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length, 4);
  yield Buffer.concat([FINAL_BLOCK, trailer]);
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

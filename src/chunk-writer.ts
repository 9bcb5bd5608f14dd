// Text encoded straight into fixed-size Buffers ("chunks"), for bodies written from many strings: the Prometheus
// exposition (metrics/exposition.ts) and the status list (api/status-list.ts). Each string is copied once, as
// UTF-8, where joining the strings and encoding the result copied it twice and left a large string per chunk for
// the garbage collector. It sits in the lowest layer, next to version.ts, because both metrics and api use it and
// it knows nothing of either.
//
// A consumer that is done with each chunk before it takes the next (gzip deflates a chunk at once) can borrow them
// instead (`lend`): the body is then written through the same few buffers. A new 256 KB buffer per chunk was ~40 MB
// of fresh memory per /metrics scrape at 10,000 targets: page faults on first touch, and external memory that
// pushes V8 towards a collection; reused, a gzip scrape took ~20% less CPU (docs/capacity.md).

/** The most UTF-8 bytes one UTF-16 code unit of a string takes. */
const MAX_UTF8_PER_UNIT = 3;

export class ChunkWriter {
  private buffer: Buffer;
  private at = 0;
  private readonly full: Buffer[] = [];
  /** With `lend`: the whole buffers of the chunks in `full`, of those taken last, and those free to write again. */
  private filled: Buffer[] = [];
  private lent: Buffer[] = [];
  private readonly spare: Buffer[] = [];

  /**
   * `chunkBytes`: the size of each chunk; a chunk is handed out once the next string might not fit. `lend`: the
   * chunks takeFull() hands out are written over after the next takeFull() (the caller must be done with them).
   */
  constructor(
    private readonly chunkBytes: number,
    private readonly options: { lend?: boolean } = {},
  ) {
    this.buffer = Buffer.allocUnsafe(chunkBytes);
  }

  push(text: string): void {
    if (this.at + text.length * MAX_UTF8_PER_UNIT > this.chunkBytes) {
      // The worst case might not fit: measure the string before giving up on this chunk's free space.
      const bytes = Buffer.byteLength(text, 'utf8');
      if (this.at + bytes <= this.chunkBytes) {
        this.at += this.buffer.write(text, this.at, 'utf8');
        return;
      }
      this.flush();
      // Larger than a chunk (a prom-client family of many series): a chunk of its own.
      if (bytes > this.chunkBytes) {
        this.full.push(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  /**
   * The chunks filled so far, each its own Buffer: a consumer may hold one as long as it likes, or with `lend` until
   * it calls takeFull() again.
   */
  takeFull(): Buffer[] {
    if (this.options.lend) {
      this.spare.push(...this.lent);
      this.lent = this.filled;
      this.filled = [];
    }
    return this.full.splice(0);
  }

  /** Ends the chunk being written (if any), to be taken next. */
  flush(): void {
    if (this.at === 0) return;
    this.full.push(this.buffer.subarray(0, this.at));
    if (this.options.lend) this.filled.push(this.buffer);
    this.buffer = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.at = 0;
  }
}

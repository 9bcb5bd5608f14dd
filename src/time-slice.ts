// Long work on the event loop (a /metrics scrape, the status list's look and gzip) done in slices of wall time, the
// loop given back between two: each slice runs until `sliceMs` have passed since the last pause. Slicing by time
// rather than by a count of rows or lines keeps the number of pauses small when the loop is busy: each pause waits
// for a whole turn of the loop (every ready socket callback of the probes runs first), so a scrape that paused every
// thousand rows took (pauses x turn length) of wall time however little CPU it needed. It sits in the lowest layer,
// next to chunk-writer.ts, because metrics and api both use it and it knows nothing of either. The clock and the
// pause are passed in (tests give a fake clock); by default performance.now and node:timers/promises' setImmediate.
//
// Slices may grow (GrowingSlices): on a loop kept busy a fraction p of the time by probes, slices of one length give
// the work only (1 - p) of the loop however long they are, because each pause runs all the probe work that arrived
// during the slice and the pause before it. At p = 0.75 a scrape needing 0.2 s of CPU then took ~0.8 s of wall time,
// and over 1 s whenever probing peaked. Slices that double after each pause let the work that arrives meanwhile wait
// behind it a little longer each time, to be caught up once the work is done: fewer pauses, each holding less of
// the work that arrived, and no single wait longer than the largest slice. On a loop the probes saturate it only
// moves the waiting from the scrape to the probes (docs/capacity.md, "slices that grow").
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Slices of `firstMs` of wall time at first, each one after a pause twice as long as the last, up to `maxMs`. */
export interface GrowingSlices {
  readonly firstMs: number;
  readonly maxMs: number;
}

/** Work split into slices of wall time (`slices`: one length in ms, or growing), the event loop given back in between. */
export class TimeSlicer {
  private sliceStart: number;
  private sliceMs: number;
  private readonly maxSliceMs: number;
  /** How many times the loop was given back (bench counters, tests). */
  pauses = 0;

  constructor(
    slices: number | GrowingSlices,
    private readonly clock: () => number = () => performance.now(),
    private readonly pause: () => Promise<unknown> = nextTurn,
  ) {
    const { firstMs, maxMs } = typeof slices === 'number' ? { firstMs: slices, maxMs: slices } : slices;
    this.sliceMs = firstMs;
    this.maxSliceMs = Math.max(firstMs, maxMs);
    this.sliceStart = clock();
  }

  /** Whether the current slice has had its time (reads the clock: call it every few hundred rows in a hot loop). */
  spent(): boolean {
    return this.clock() - this.sliceStart >= this.sliceMs;
  }

  /** Gives the loop back now and starts a new slice once it comes back. */
  async yield(): Promise<void> {
    this.pauses++;
    await this.pause();
    this.sliceMs = Math.min(this.sliceMs * 2, this.maxSliceMs);
    this.sliceStart = this.clock();
  }

  /** Gives the loop back if the current slice has had its time; says whether it did. */
  async yieldIfSpent(): Promise<boolean> {
    if (!this.spent()) return false;
    await this.yield();
    return true;
  }
}

// Long work on the event loop (a /metrics scrape, the status list's look and gzip) done in slices of wall time, the
// loop given back between two: each slice runs until `sliceMs` have passed since the last pause. Slicing by time
// rather than by a count of rows or lines keeps the number of pauses small when the loop is busy: each pause waits
// for a whole turn of the loop (every ready socket callback of the probes runs first), so a scrape that paused every
// thousand rows took (pauses x turn length) of wall time however little CPU it needed. It sits in the lowest layer,
// next to chunk-writer.ts, because metrics and api both use it and it knows nothing of either. The clock and the
// pause are passed in (tests give a fake clock); by default performance.now and node:timers/promises' setImmediate.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Work split into slices of about `sliceMs` of wall time, the event loop given back in between. */
export class TimeSlicer {
  private sliceStart: number;
  /** How many times the loop was given back (bench counters, tests). */
  pauses = 0;

  constructor(
    private readonly sliceMs: number,
    private readonly clock: () => number = () => performance.now(),
    private readonly pause: () => Promise<unknown> = nextTurn,
  ) {
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
    this.sliceStart = this.clock();
  }

  /** Gives the loop back if the current slice has had its time; says whether it did. */
  async yieldIfSpent(): Promise<boolean> {
    if (!this.spent()) return false;
    await this.yield();
    return true;
  }
}

// Work a client waits for (a /metrics scrape) may hold back the start of new probes while it runs. On an event loop
// that probes keep busy a fraction u of the time, work done in slices between their turns gets only (1 - u) of the
// loop however long the slices are: each pause runs all the probe work that arrived during the slice before it. At
// 10,000 targets on two cores (u ~0.8) a scrape of ~300 ms of CPU took ~1.5 s. Probes already in flight keep running
// (their callbacks still run at each of the scrape's pauses, so their timings stay true); only new starts wait, each
// at most `maxDeferMs` past its due time, so clients that scrape without end cannot starve the probes. A hold ends by
// itself after as long, so a scraper that reads slowly over a long link holds nothing back for the rest of its body
// (the loop is free then anyway). Background work that can wait longer still (housekeeping's rollups and prunes)
// waits for the gate too, within the same bound (whenOpen()).
// It sits in the lowest layer, next to time-slice.ts: the scheduler reads it and the API holds it, and it knows
// neither.

/**
 * Default for how long past its due time a probe may be held back, and how long a hold lasts at most: 0.9 s.
 * A scrape of 10,000 targets took 0.3-0.7 s with the loop to itself; with 0.5 s many outlasted the hold and then got
 * only the probes' leftovers again (docs/capacity.md). It stays under the second past which SSTPWatchSchedulerLagging
 * counts a probe late.
 */
export const MAX_START_DEFER_MS = 900;

export class StartGate {
  private holds = 0;
  private readonly openListeners = new Set<() => void>();

  constructor(readonly maxDeferMs = MAX_START_DEFER_MS) {}

  /** Whether new probes are held back now. */
  get closed(): boolean {
    return this.holds > 0;
  }

  /**
   * Holds back new probes until the returned release is called (once is enough; later calls do nothing), or
   * `maxDeferMs` have passed.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(expiry);
      if (--this.holds === 0) for (const listener of this.openListeners) listener();
    };
    const expiry = setTimeout(release, this.maxDeferMs);
    expiry.unref();
    return release;
  }

  /**
   * Resolves at once while the gate is open, else when the last hold is released or after `maxDeferMs`, whichever
   * comes first: deferrable work waits for the scrape instead of taking its share of the loop, but never longer.
   */
  whenOpen(): Promise<void> {
    if (!this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const open = () => {
        clearTimeout(bound);
        unsubscribe();
        resolve();
      };
      const unsubscribe = this.onOpen(open);
      const bound = setTimeout(open, this.maxDeferMs);
    });
  }

  /** Calls `listener` each time the last hold is released; returns what unsubscribes it. */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }
}

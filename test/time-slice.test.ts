// The time slicer behind /metrics and the status list: the loop is given back once a slice has had its time, never
// before, and each slice is timed from the moment the loop came back (not from the pause).
import { describe, expect, it } from 'vitest';
import { TimeSlicer, type GrowingSlices } from '../src/time-slice.js';

/** Runs work items of the given durations (ms) on a fake clock, asking after each; returns after which items it paused. */
async function pausesAfter(sliceMs: number | GrowingSlices, durations: number[], pauseMs = 0): Promise<number[]> {
  let now = 1000;
  const slicer = new TimeSlicer(sliceMs, () => now, async () => {
    now += pauseMs;
  });
  const after: number[] = [];
  for (const [i, ms] of durations.entries()) {
    now += ms;
    if (await slicer.yieldIfSpent()) after.push(i);
  }
  expect(slicer.pauses).toBe(after.length);
  return after;
}

describe('the time slicer', () => {
  it.each([
    { case: 'nothing to do', sliceMs: 10, durations: [], after: [] },
    { case: 'work shorter than a slice never pauses', sliceMs: 10, durations: [3, 3, 3], after: [] },
    { case: 'a slice that reaches its time exactly pauses', sliceMs: 10, durations: [5, 5, 5], after: [1] },
    { case: 'slices of many small items', sliceMs: 10, durations: [4, 4, 4, 4, 4, 4, 4], after: [2, 5] },
    { case: 'one item longer than a slice pauses after it', sliceMs: 10, durations: [25, 1, 1], after: [0] },
    { case: 'every item a slice of its own', sliceMs: 2, durations: [2, 2, 2], after: [0, 1, 2] },
  ])('$case', async ({ sliceMs, durations, after }) => {
    expect(await pausesAfter(sliceMs, durations)).toEqual(after);
  });

  it.each([
    { case: 'slices double after each pause', slices: { firstMs: 2, maxMs: 100 }, durations: [2, 2, 2, 2, 2, 2, 2, 2, 2, 2], after: [0, 2, 6] },
    { case: 'up to the largest slice, then stay there', slices: { firstMs: 5, maxMs: 10 }, durations: [5, 5, 5, 5, 5, 5, 5], after: [0, 2, 4, 6] },
    { case: 'work within the first slice never pauses', slices: { firstMs: 10, maxMs: 40 }, durations: [3, 3, 3], after: [] },
    { case: 'a largest slice below the first is the first', slices: { firstMs: 10, maxMs: 1 }, durations: [10, 10, 10], after: [0, 1, 2] },
  ])('growing slices: $case', async ({ slices, durations, after }) => {
    expect(await pausesAfter(slices, durations)).toEqual(after);
  });

  it('a growing slice also counts from when the loop comes back', async () => {
    // Slices of 4, then 8 ms of work, each pause 50 ms long: without the reset the second slice would end at once.
    expect(await pausesAfter({ firstMs: 4, maxMs: 8 }, [4, 4, 4, 4, 4], 50)).toEqual([0, 2, 4]);
  });

  it('times a slice from when the loop comes back, not from when it was given up', async () => {
    // Each pause waits 50 ms (a busy loop's turn): the next slice still gets its full 10 ms of work.
    expect(await pausesAfter(10, [6, 6, 6, 6, 6, 6], 50)).toEqual([1, 3, 5]);
  });

  it('gives the loop back on demand and starts a new slice', async () => {
    let now = 0;
    const slicer = new TimeSlicer(10, () => now, async () => {});
    now = 9;
    await slicer.yield();
    now = 18;
    expect(slicer.spent()).toBe(false);
    now = 19;
    expect(slicer.spent()).toBe(true);
    expect(slicer.pauses).toBe(1);
  });

  it('really gives the event loop back: a timer due meanwhile runs during the pause', async () => {
    const { setImmediate: nextTurn } = await import('node:timers/promises');
    let now = 0;
    const slicer = new TimeSlicer(1, () => now, nextTurn);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    now = 5;
    await slicer.yieldIfSpent();
    expect(ran).toBe(true);
  });
});

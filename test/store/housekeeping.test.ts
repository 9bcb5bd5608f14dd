// The housekeeping driver and the start gate: while a scrape holds the gate, no step starts; a step waits at most
// the gate's bound; a stop during the wait ends the pass without another step. The store is a stand-in that only
// counts the steps asked of it: the steps themselves are the stores' own (test/store/contract.ts).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StartGate } from '../../src/start-gate.js';
import { createHousekeeping } from '../../src/store/housekeeping.js';
import type { HousekeepingStep } from '../../src/store/store.js';
import { scrapingWithoutEnd } from '../fixtures/start-gate.js';

/** A store with `steps` steps to do per pass; records when each ran. */
function steppingStore(steps: number) {
  const ranAt: number[] = [];
  let left = steps;
  return {
    ranAt,
    async housekeepingStep(): Promise<HousekeepingStep | null> {
      if (left === 0) {
        left = steps;
        return null;
      }
      left--;
      ranAt.push(Date.now());
      return { task: 'rollup_minute', rows: 1, ms: 0 };
    },
  };
}

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('housekeeping and the start gate', () => {
  it('takes no step while a scrape holds the gate, and every step once it is released', async () => {
    const store = steppingStore(3);
    const gate = new StartGate(60_000);
    const housekeeping = createHousekeeping(store, { log, startGate: gate });
    const release = gate.hold();
    const pass = housekeeping.runPass();
    await sleep(100);
    expect(store.ranAt).toEqual([]);
    const releasedAt = Date.now();
    release();
    expect((await pass).steps).toBe(3);
    expect(store.ranAt.every((at) => at >= releasedAt)).toBe(true);
    await housekeeping.stop();
  });

  it('waits at most the gate bound for each step', async () => {
    const store = steppingStore(1);
    const gate = new StartGate(150);
    const housekeeping = createHousekeeping(store, { log, startGate: gate });
    const stopScraping = scrapingWithoutEnd(gate);
    try {
      const startedAt = Date.now();
      const pass = await housekeeping.runPass();
      expect(pass.steps).toBe(1);
      expect(store.ranAt[0]! - startedAt).toBeGreaterThanOrEqual(145);
      expect(gate.closed).toBe(true);
    } finally {
      stopScraping();
      await housekeeping.stop();
    }
  });

  it('ends a pass waiting at the gate without another step when stopped', async () => {
    const store = steppingStore(3);
    const gate = new StartGate(300);
    const housekeeping = createHousekeeping(store, { log, startGate: gate });
    gate.hold();
    const pass = housekeeping.runPass();
    await sleep(50);
    await housekeeping.stop();
    expect((await pass).steps).toBe(0);
    expect(store.ranAt).toEqual([]);
  });
});

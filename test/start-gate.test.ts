// The start gate between work a client waits for (a scrape) and the probes the scheduler starts: closed while any
// hold is held, opened (and its listeners told) once the last one is released, each release counted once.
import { describe, expect, it } from 'vitest';
import { MAX_START_DEFER_MS, StartGate } from '../src/start-gate.js';
import { scrapingWithoutEnd } from './fixtures/start-gate.js';

describe('the start gate', () => {
  it('is closed while any hold is held, and tells its listeners once the last is released', () => {
    const gate = new StartGate();
    let opened = 0;
    gate.onOpen(() => opened++);
    expect(gate.closed).toBe(false);
    const first = gate.hold();
    const second = gate.hold();
    expect(gate.closed).toBe(true);
    first();
    expect(gate.closed).toBe(true);
    expect(opened).toBe(0);
    second();
    expect(gate.closed).toBe(false);
    expect(opened).toBe(1);
  });

  it('counts a release once however often it is called', () => {
    const gate = new StartGate();
    let opened = 0;
    gate.onOpen(() => opened++);
    const first = gate.hold();
    const second = gate.hold();
    first();
    first();
    expect(gate.closed).toBe(true);
    second();
    second();
    expect(gate.closed).toBe(false);
    expect(opened).toBe(1);
  });

  it('stops telling a listener once it unsubscribed', () => {
    const gate = new StartGate();
    let opened = 0;
    const unsubscribe = gate.onOpen(() => opened++);
    gate.hold()();
    unsubscribe();
    gate.hold()();
    expect(opened).toBe(1);
  });

  it('ends a hold by itself once maxDeferMs have passed', async () => {
    const gate = new StartGate(100);
    const opened = new Promise<number>((resolve) => gate.onOpen(() => resolve(Date.now())));
    const heldAt = Date.now();
    const release = gate.hold();
    expect(gate.closed).toBe(true);
    expect((await opened) - heldAt).toBeGreaterThanOrEqual(95);
    expect(gate.closed).toBe(false);
    // The holder's own release afterwards counts for nothing: a second hold stays held.
    gate.hold();
    release();
    expect(gate.closed).toBe(true);
  });

  it('lets deferrable work wait for the last release, or for maxDeferMs at most under holds that keep coming', async () => {
    const gate = new StartGate(200);
    let resolved = false;
    await gate.whenOpen(); // open: at once

    const release = gate.hold();
    const waited = gate.whenOpen().then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    release();
    await waited;
    expect(gate.closed).toBe(false);

    // Scrapes without end: the gate never opens, the wait ends at its bound.
    const stopScraping = scrapingWithoutEnd(gate);
    const startedAt = Date.now();
    resolved = false;
    const bounded = gate.whenOpen().then(() => (resolved = true));
    try {
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(resolved).toBe(false);
      await bounded;
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(195);
      expect(gate.closed).toBe(true);
    } finally {
      stopScraping();
    }
  });

  it('holds a probe back under a second by default: less than the lag alert counts as late', () => {
    expect(new StartGate().maxDeferMs).toBe(MAX_START_DEFER_MS);
    expect(MAX_START_DEFER_MS).toBeLessThan(1000);
    expect(new StartGate(250).maxDeferMs).toBe(250);
  });
});

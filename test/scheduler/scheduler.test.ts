import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeSettings, TargetConfig } from '../../src/config/types.js';
import { dueTimesIn, nextDue, phaseOffset } from '../../src/scheduler/plan.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { StartGate } from '../../src/start-gate.js';
import { scrapingWithoutEnd } from '../fixtures/start-gate.js';
import { probeSettings, statusResult, targetConfig } from '../fixtures/domain.js';

const log = pino({ level: 'silent' });

const settings = (over: Partial<ProbeSettings>) => probeSettings({ intervalMs: 1000, timeoutMs: 500, path: '/', ...over });

function target(name: string, over: Partial<ProbeSettings> = {}): TargetConfig {
  return targetConfig(name, settings(over), { group: 'g', url: 'https://127.0.0.1', hostname: 'vpn.test' });
}

const okResult = () => statusResult(Date.now(), 401, { durationMs: 1 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('planning', () => {
  it.each([
    { from: 0, interval: 1000, offset: 0, due: 0 },
    { from: 1, interval: 1000, offset: 0, due: 1000 },
    { from: 1, interval: 1000, offset: 250, due: 250 },
    { from: 251, interval: 1000, offset: 250, due: 1250 },
    { from: 30_000, interval: 30_000, offset: 29_999, due: 59_999 },
  ])('next due after $from on a $interval grid offset $offset is $due', ({ from, interval, offset, due }) => {
    expect(nextDue(from, interval, offset)).toBe(due);
  });

  it('lists every grid time in a window, end excluded', () => {
    expect(dueTimesIn(1000, 4000, 1000, 500)).toEqual([1500, 2500, 3500]);
    expect(dueTimesIn(1000, 1500, 1000, 500)).toEqual([]);
  });

  it('spreads a fleet with one interval over that interval', () => {
    const offsets = Array.from({ length: 1000 }, (_, i) => phaseOffset(`rras-${i}`, 30_000));
    const perSecond = new Array<number>(30).fill(0);
    for (const o of offsets) perSecond[Math.floor(o / 1000)]!++;
    expect(Math.max(...perSecond)).toBeLessThan(70); // 33 on average: no second carries the whole fleet
    expect(phaseOffset('rras-1', 30_000)).toBe(phaseOffset('rras-1', 30_000));
  });
});

describe('scheduler', () => {
  let scheduler: Scheduler | null = null;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = null;
  });

  it('probes each target once per interval, on time', async () => {
    const starts = new Map<string, number[]>();
    const lags: number[] = [];
    scheduler = createScheduler([target('a'), target('b')], {
      probe: async (t) => {
        starts.set(t.name, [...(starts.get(t.name) ?? []), Date.now()]);
        return okResult();
      },
      onResult: () => undefined,
      onLag: (s) => lags.push(s),
      log,
    });
    scheduler.start();
    await sleep(3600);
    for (const name of ['a', 'b']) {
      const times = starts.get(name) ?? [];
      expect(times.length).toBeGreaterThanOrEqual(2);
      expect(times.length).toBeLessThanOrEqual(4);
      for (let i = 1; i < times.length; i++) expect(Math.abs(times[i]! - times[i - 1]! - 1000)).toBeLessThan(250);
    }
    expect(Math.max(...lags)).toBeLessThan(0.25);
  });

  it('never runs two probes of one target at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    scheduler = createScheduler([target('slow')], {
      probe: async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(2300);
        running--;
        return okResult();
      },
      onResult: () => undefined,
      log,
    });
    scheduler.start();
    await sleep(3500);
    expect(maxRunning).toBe(1);
    expect(calls).toBeLessThanOrEqual(2);
    expect(scheduler.stats().skipped).toBeGreaterThanOrEqual(1);
  });

  it('applies maxInFlight to scheduled probes', async () => {
    let running = 0;
    let maxRunning = 0;
    let finished = 0;
    const targets = Array.from({ length: 12 }, (_, i) => target(`t${i}`, { schedule: '* * * * * *', intervalMs: null }));
    scheduler = createScheduler(targets, {
      probe: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(100);
        running--;
        finished++;
        return okResult();
      },
      onResult: () => undefined,
      log,
      maxInFlight: 4,
    });
    scheduler.start();
    await sleep(2500);
    expect(maxRunning).toBe(4);
    expect(finished).toBeGreaterThanOrEqual(12);
  });

  it('keeps at most one due probe of a target waiting when it cannot keep up, and skips the rest', async () => {
    const started: string[] = [];
    const waiting: number[] = [];
    scheduler = createScheduler([target('a'), target('b'), target('c')], {
      probe: async (t) => {
        started.push(t.name);
        await sleep(1500);
        return okResult();
      },
      onResult: () => undefined,
      log,
      maxInFlight: 1,
    });
    scheduler.start();
    for (let i = 0; i < 45; i++) {
      await sleep(100);
      waiting.push(scheduler.stats().queued);
    }
    // One slot, three targets due every second, 1.5 s a probe: without the bound the queue gains ~2 a second.
    expect(Math.max(...waiting)).toBeLessThanOrEqual(2);
    expect(scheduler.stats().skipped).toBeGreaterThanOrEqual(3);
    // The targets still take turns: the one that waited runs once the slot frees.
    expect(new Set(started).size).toBeGreaterThanOrEqual(2);
  });

  it('runs cron-scheduled targets on their seconds', async () => {
    const starts: number[] = [];
    scheduler = createScheduler([target('cron', { schedule: '*/2 * * * * *', intervalMs: null })], {
      probe: async () => {
        starts.push(Date.now());
        return okResult();
      },
      onResult: () => undefined,
      log,
    });
    scheduler.start();
    await sleep(4600);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const t of starts) {
      expect(Math.floor(t / 1000) % 2).toBe(0);
      expect(t % 1000).toBeLessThan(250);
    }
  });

  it('stop() waits for the probes in flight and their results', async () => {
    const results: string[] = [];
    scheduler = createScheduler([target('a', { intervalMs: 60_000 })], {
      probe: async () => {
        await sleep(300);
        return okResult();
      },
      onResult: (t) => results.push(t.name),
      log,
    });
    const pending = scheduler.probeNow('a');
    const joined = scheduler.probeNow('a');
    await scheduler.stop();
    expect(results).toEqual(['a']);
    expect(await pending).toBe(await joined);
    expect(await scheduler.probeNow('nope')).toBeNull();
  });

  it('keeps running when a probe function throws', async () => {
    let calls = 0;
    scheduler = createScheduler([target('bad')], {
      probe: async () => {
        calls++;
        throw new Error('bug');
      },
      onResult: () => undefined,
      log,
    });
    scheduler.start();
    await sleep(2200);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(scheduler.stats().running).toBe(true);
  });

  it('runs every check a target has at its own cadence, and never two runs of one check of a target at once', async () => {
    const runs: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const perCheck = new Map<string, number>();
    let maxPerCheck = 0;
    // HEAD every second; the deep check every 2 s and slower than that, so some of its due runs find it busy.
    scheduler = createScheduler([target('deep', { check: 'sstp', sstpIntervalMs: 2000 })], {
      probe: async (t, check) => {
        runs.push(check);
        running++;
        perCheck.set(check, (perCheck.get(check) ?? 0) + 1);
        maxRunning = Math.max(maxRunning, running);
        maxPerCheck = Math.max(maxPerCheck, ...perCheck.values());
        await sleep(check === 'sstp' ? 2500 : 50);
        perCheck.set(check, perCheck.get(check)! - 1);
        running--;
        return okResult();
      },
      onResult: () => undefined,
      log,
    });
    scheduler.start();
    await sleep(5600);
    expect(runs.filter((c) => c === 'head').length).toBeGreaterThanOrEqual(4);
    expect(runs.filter((c) => c === 'sstp').length).toBeGreaterThanOrEqual(1);
    expect(runs.filter((c) => c === 'sstp').length).toBeLessThanOrEqual(2);
    expect(maxPerCheck).toBe(1);
    expect(maxRunning).toBe(2); // HEAD went on while the deep check ran
    expect(scheduler.stats().skipped).toBeGreaterThanOrEqual(1);
  });

  it('probes one check on demand, HEAD unless another is named, and nothing a target does not run', async () => {
    const runs: string[] = [];
    scheduler = createScheduler([target('deep', { check: 'sstp', intervalMs: 60_000 }), target('plain', { intervalMs: 60_000 })], {
      probe: async (t, check) => {
        runs.push(`${t.name}/${check}`);
        return okResult();
      },
      onResult: () => undefined,
      log,
    });
    expect(await scheduler.probeNow('deep')).not.toBeNull();
    expect(await scheduler.probeNow('deep', 'sstp')).not.toBeNull();
    expect(await scheduler.probeNow('plain', 'sstp')).toBeNull();
    expect(runs).toEqual(['deep/head', 'deep/sstp']);
  });

  it('keeps a changed target from starting a second run while the one from before the reload is in flight', async () => {
    let running = 0;
    let maxRunning = 0;
    const reported: number[] = [];
    scheduler = createScheduler([target('a', { intervalMs: 60_000 })], {
      probe: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(300);
        running--;
        return okResult();
      },
      onResult: (t) => reported.push(t.settings.timeoutMs),
      log,
    });
    const first = scheduler.probeNow('a');
    scheduler.setTargets([target('a', { intervalMs: 60_000, timeoutMs: 400 })]);
    const joined = scheduler.probeNow('a');
    expect(await joined).toBe(await first);
    expect(maxRunning).toBe(1);
    await scheduler.probeNow('a');
    expect(reported).toEqual([500, 400]);
  });
});

describe('the start gate (a scrape holding back new probes)', () => {
  let scheduler: Scheduler | null = null;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = null;
  });

  /** A target due at every whole second, its start times and lags. */
  function everySecond(gate: StartGate, probe: () => Promise<unknown> = async () => undefined) {
    const starts: number[] = [];
    const lags: number[] = [];
    scheduler = createScheduler([target('s', { schedule: '* * * * * *', intervalMs: null })], {
      probe: async () => {
        starts.push(Date.now());
        await probe();
        return okResult();
      },
      onResult: () => undefined,
      onLag: (s) => lags.push(s),
      log,
      startGate: gate,
    });
    return { starts, lags };
  }

  it('starts a probe due while the gate is closed as soon as it opens, not before', async () => {
    const gate = new StartGate(5000);
    const release = gate.hold();
    const { starts, lags } = everySecond(gate);
    scheduler!.start();
    await sleep(1600);
    expect(starts).toEqual([]);
    expect(scheduler!.stats().queued).toBe(1);
    const openedAt = Date.now();
    release();
    expect(starts).toHaveLength(1);
    expect(starts[0]! - openedAt).toBeLessThan(50);
    // Its lag is the time it was held back: it was due at a whole second before the gate opened.
    expect(lags[0]).toBeGreaterThan(0.3);
  });

  it('holds a probe back at most maxDeferMs past its due time, however long the gate stays closed', async () => {
    const gate = new StartGate(300);
    const stopScraping = scrapingWithoutEnd(gate);
    const { starts, lags } = everySecond(gate);
    scheduler!.start();
    await sleep(3700);
    stopScraping();
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const lag of lags) {
      expect(lag).toBeGreaterThanOrEqual(0.3);
      expect(lag).toBeLessThan(0.55);
    }
    for (const start of starts) expect(start % 1000).toBeGreaterThanOrEqual(300);
  });

  it('lets the probes in flight run while the gate is closed', async () => {
    const gate = new StartGate(5000);
    let finished = 0;
    const { starts } = everySecond(gate, async () => {
      await sleep(300);
      finished++;
    });
    scheduler!.start();
    while (starts.length === 0) await sleep(20);
    const release = gate.hold();
    await sleep(400);
    expect(finished).toBe(1);
    release();
  });

  it('starts nothing once stopped, even when the gate opens afterwards', async () => {
    const gate = new StartGate(5000);
    const release = gate.hold();
    const { starts } = everySecond(gate);
    scheduler!.start();
    await sleep(1300);
    expect(scheduler!.stats().queued).toBe(1);
    await scheduler!.stop();
    release();
    await sleep(1200);
    expect(starts).toEqual([]);
  });
});

describe('waiting for the probes of targets that leave', () => {
  it('idle() resolves once the named targets have no probe in flight, whatever the others do', async () => {
    const releases = new Map<string, () => void>();
    const results: string[] = [];
    const scheduler = createScheduler([target('a'), target('b')], {
      probe: (t) => new Promise((resolve) => releases.set(t.name, () => resolve(okResult()))),
      onResult: (t) => results.push(t.name),
      log,
    });
    void scheduler.probeNow('a');
    void scheduler.probeNow('b');
    scheduler.setTargets([target('b')]); // a leaves while its probe runs
    let idle = false;
    const waiting = scheduler.idle(new Set(['a'])).then(() => (idle = true));
    await sleep(20);
    expect(idle).toBe(false);
    releases.get('a')!();
    await waiting;
    expect(results).toEqual(['a']); // the leaving target's result is still reported
    await scheduler.idle(new Set(['nobody']));
    releases.get('b')!();
    await scheduler.stop();
  });
});

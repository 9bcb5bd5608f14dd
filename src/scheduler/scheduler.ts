import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { TargetConfig } from '../config/types.js';
import type { ProbeResult } from '../probe/types.js';
import { dueTimesIn, phaseOffset } from './plan.js';

export type TargetProbe = (target: TargetConfig, signal: AbortSignal) => Promise<ProbeResult>;

export interface SchedulerDeps {
  probe: TargetProbe;
  /** Called with every finished probe, scheduled or on demand. Must not throw. */
  onResult: (target: TargetConfig, result: ProbeResult) => void;
  /** How late a scheduled probe started, in seconds. */
  onLag?: (seconds: number) => void;
  /** Called once a second, before planning (maintenance expiry and the like). */
  onTick?: (now: number) => void;
  log: Logger;
  /** Bound on probes in flight at once; further due probes wait in order. */
  maxInFlight?: number;
  now?: () => number;
}

export interface SchedulerStats {
  running: boolean;
  inFlight: number;
  queued: number;
  /** Due probes skipped because the previous probe of the same target had not finished. */
  skipped: number;
  started: number;
  /** Probes aborted by stop() after its grace period; their results were not reported. */
  cancelled: number;
}

export interface StopOptions {
  /**
   * How long to wait for the probes in flight before aborting them (each is bounded by its own timeout anyway).
   * Default: no limit.
   */
  graceMs?: number;
}

export interface Scheduler {
  start(): void;
  /**
   * Stops planning, drops queued probes and waits for the ones in flight (each bounded by its timeout), at most
   * `graceMs`: then aborts the rest. An aborted probe's result is not reported: it says nothing about the target.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Replaces the target list; unchanged targets keep their timing. */
  setTargets(targets: TargetConfig[]): void;
  /** Probes a target now (or joins its probe in flight). Resolves to null for an unknown name. */
  probeNow(name: string): Promise<ProbeResult | null>;
  stats(): SchedulerStats;
}

interface Entry {
  target: TargetConfig;
  /** Interval targets: phase on the grid. */
  offset: number;
  /** Schedule targets: node-cron's matcher. Never started: sstpwatch's own tick drives every target. */
  cronTask: ScheduledTask | null;
  /** Due times are planned up to (excluding) this time. */
  plannedUntil: number;
  inFlight: Promise<ProbeResult> | null;
}

interface DueProbe {
  entry: Entry;
  dueAt: number;
}

const TICK_MS = 1000;

/**
 * node-cron ticks every second; each tick plans the probes due in the next second and sets a timer for each
 * at its exact time, so lag is measured against the real schedule, not the tick.
 */
export function createScheduler(initialTargets: TargetConfig[], deps: SchedulerDeps): Scheduler {
  const now = deps.now ?? Date.now;
  const maxInFlight = deps.maxInFlight ?? 256;
  const entries = new Map<string, Entry>();
  const timers = new Set<NodeJS.Timeout>();
  const queue: DueProbe[] = [];
  const inFlight = new Set<Promise<ProbeResult>>();
  const aborts = new Set<AbortController>();
  let tick: ScheduledTask | null = null;
  let running = false;
  let skipped = 0;
  let started = 0;
  let cancelled = 0;

  function makeEntry(target: TargetConfig): Entry {
    const { intervalMs, schedule } = target.settings;
    return {
      target,
      offset: intervalMs ? phaseOffset(target.name, intervalMs) : 0,
      cronTask: schedule ? cron.createTask(schedule, () => undefined) : null,
      plannedUntil: 0,
      inFlight: null,
    };
  }

  function dropEntry(entry: Entry): void {
    void entry.cronTask?.destroy();
  }

  function setTargets(targets: TargetConfig[]): void {
    const next = new Map(targets.map((t) => [t.name, t]));
    for (const [name, entry] of entries) {
      const target = next.get(name);
      if (!target || JSON.stringify(target) !== JSON.stringify(entry.target)) {
        dropEntry(entry);
        entries.delete(name);
      }
    }
    for (const target of targets) {
      if (!entries.has(target.name)) entries.set(target.name, makeEntry(target));
    }
  }

  function dueTimes(entry: Entry, start: number, end: number): number[] {
    const { intervalMs } = entry.target.settings;
    if (intervalMs) return dueTimesIn(start, end, intervalMs, entry.offset);
    const times: number[] = [];
    const firstSecond = Math.ceil(start / 1000) * 1000;
    for (let t = firstSecond; t < end; t += 1000) {
      if (entry.cronTask?.match(new Date(t))) times.push(t);
    }
    return times;
  }

  /** Sets timers for every probe due in [.., end) not planned yet. */
  function plan(end: number): void {
    const t = now();
    for (const entry of entries.values()) {
      const start = Math.max(entry.plannedUntil, t);
      if (start >= end) continue;
      for (const dueAt of dueTimes(entry, start, end)) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (entries.get(entry.target.name) === entry) enqueue({ entry, dueAt });
        }, Math.max(0, dueAt - now()));
        timers.add(timer);
      }
      entry.plannedUntil = end;
    }
  }

  function onTick(): void {
    if (!running) return;
    const t = now();
    try {
      deps.onTick?.(t);
    } catch (err) {
      deps.log.error({ err }, 'scheduler tick handler failed');
    }
    plan(Math.floor(t / TICK_MS) * TICK_MS + 2 * TICK_MS);
  }

  function enqueue(due: DueProbe): void {
    if (!running) return;
    if (due.entry.inFlight) {
      skipped++;
      deps.log.warn({ target: due.entry.target.name }, 'probe skipped: the previous one is still running');
      return;
    }
    queue.push(due);
    drain();
  }

  function drain(): void {
    while (running && queue.length > 0 && inFlight.size < maxInFlight) {
      const due = queue.shift()!;
      if (due.entry.inFlight || entries.get(due.entry.target.name) !== due.entry) continue;
      deps.onLag?.((now() - due.dueAt) / 1000);
      // A probe never rejects by contract; a bug that makes one reject must not crash the service.
      runProbe(due.entry).catch((err: unknown) => deps.log.error({ err, target: due.entry.target.name }, 'probe threw'));
    }
  }

  function runProbe(entry: Entry): Promise<ProbeResult> {
    started++;
    const abort = new AbortController();
    aborts.add(abort);
    const promise = deps
      .probe(entry.target, abort.signal)
      .then((result) => {
        if (abort.signal.aborted && !running) {
          cancelled++;
          return result;
        }
        try {
          deps.onResult(entry.target, result);
        } catch (err) {
          deps.log.error({ err, target: entry.target.name }, 'result handler failed');
        }
        return result;
      })
      .finally(() => {
        aborts.delete(abort);
        inFlight.delete(promise);
        entry.inFlight = null;
        drain();
      });
    entry.inFlight = promise;
    inFlight.add(promise);
    return promise;
  }

  setTargets(initialTargets);

  return {
    start() {
      if (running) return;
      running = true;
      tick = cron.schedule('* * * * * *', onTick, { name: 'sstpwatch-tick', noOverlap: true });
      plan(Math.floor(now() / TICK_MS) * TICK_MS + 2 * TICK_MS);
    },

    async stop(options = {}) {
      running = false;
      if (tick) {
        await tick.destroy();
        tick = null;
      }
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      queue.length = 0;
      const settled = Promise.allSettled([...inFlight]);
      const { graceMs } = options;
      if (graceMs !== undefined && Number.isFinite(graceMs) && inFlight.size > 0) {
        let grace: NodeJS.Timeout | undefined;
        const expired = await Promise.race([
          settled.then(() => false),
          new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(true), Math.max(0, graceMs)))),
        ]);
        clearTimeout(grace);
        if (expired) {
          deps.log.warn({ inFlight: inFlight.size, graceMs }, 'probes still running at shutdown; aborting them');
          for (const abort of aborts) abort.abort(new Error('sstpwatch is stopping'));
        }
      }
      await settled;
      for (const entry of entries.values()) entry.plannedUntil = 0;
    },

    setTargets,

    probeNow(name) {
      const entry = entries.get(name);
      if (!entry) return Promise.resolve(null);
      return entry.inFlight ?? runProbe(entry);
    },

    stats() {
      return { running, inFlight: inFlight.size, queued: queue.length, skipped, started, cancelled };
    },
  };
}

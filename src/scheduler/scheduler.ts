import { setMaxListeners } from 'node:events';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { targetChanged } from '../config/identity.js';
import type { Cadence } from '../config/raw.js';
import type { TargetConfig } from '../config/types.js';
import { CHECK_KINDS, CHECKS, plannedChecks } from '../probe/checks.js';
import type { CheckKind, ProbeResult } from '../probe/types.js';
import type { StartGate } from '../start-gate.js';
import { dueTimesIn, nextDue, phaseOffset } from './plan.js';

/** Runs one check of a target; never rejects (a probe's contract). */
export type CheckProbe = (target: TargetConfig, check: CheckKind, signal: AbortSignal) => Promise<ProbeResult>;

export interface SchedulerDeps {
  probe: CheckProbe;
  /** Called with every finished check, scheduled or on demand. Must not throw. */
  onResult: (target: TargetConfig, check: CheckKind, result: ProbeResult) => void;
  /** How late a scheduled probe started, in seconds. */
  onLag?: (seconds: number) => void;
  /** Called once a second, before planning (maintenance expiry and the like). */
  onTick?: (now: number) => void;
  log: Logger;
  /**
   * Bound on probes in flight at once; further due probes wait in order, at most one per check of a target (an
   * overloaded scheduler falls behind by skipping, never by a queue that grows without end).
   */
  maxInFlight?: number;
  /** Held while a client waits for work that needs the loop (a scrape): due probes then wait, a bounded time. */
  startGate?: StartGate;
  now?: () => number;
}

export interface SchedulerStats {
  running: boolean;
  inFlight: number;
  queued: number;
  /**
   * Due probes skipped because the previous probe of the same check of the target had not finished, or had not
   * even started (still waiting for a free slot under maxInFlight).
   */
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
  /** Resolves once no probe of these targets is in flight (whatever their results). */
  idle(names: ReadonlySet<string>): Promise<void>;
  /**
   * Runs one check of a target now (or joins its run in flight); by default the check that drives the target's
   * health. Resolves to null for an unknown name or a check the target does not run.
   */
  probeNow(name: string, check?: CheckKind): Promise<ProbeResult | null>;
  stats(): SchedulerStats;
}

/** One (target, check) pair: the unit planned, run, and kept from overlapping itself. */
interface Entry {
  key: string;
  target: TargetConfig;
  check: CheckKind;
  cadence: Cadence;
  /** Interval cadence: phase on the grid. */
  offset: number;
  /** Schedule targets: node-cron's matcher. Never started: sstpwatch's own tick drives every target. */
  cronTask: ScheduledTask | null;
  /** Due times are planned up to (excluding) this time. */
  plannedUntil: number;
  /**
   * Interval cadence: the first due time at or after plannedUntil (0: not known yet). The tick skips the entry
   * while it lies beyond the planning horizon: a second with nothing due costs a comparison, not a plan.
   */
  nextDueAt: number;
  inFlight: Promise<ProbeResult> | null;
  /** A due probe of this entry waits in the queue for a free slot. */
  queued: boolean;
}

interface DueProbe {
  entry: Entry;
  dueAt: number;
}

const TICK_MS = 1000;

/** The kind run by probeNow() when none is named. */
const HEALTH_CHECK = CHECK_KINDS.find((check) => CHECKS[check].drivesHealth)!;

const keyOf = (name: string, check: CheckKind): string => `${check}\u0000${name}`;

/**
 * The abort every probe of one run of the scheduler listens to (it aborts them all at a stop whose grace ran out).
 * One per run, not one per probe: an AbortController made and listened to per probe cost ~10 us, three times the
 * response head's parse.
 * Every probe in flight adds a listener, so the listener warning is off.
 */
function runAbort(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * A timer ticks every second; each tick plans the probes due in the next second and sets a timer for each
 * at its exact time, so lag is measured against the real schedule, not the tick. Every check a target runs (the
 * check table says which, and how often) is its own entry, spread over its interval by a hash of the target's
 * name; one bound on probes in flight covers them all.
 */
export function createScheduler(initialTargets: TargetConfig[], deps: SchedulerDeps): Scheduler {
  const now = deps.now ?? Date.now;
  const maxInFlight = deps.maxInFlight ?? 256;
  const entries = new Map<string, Entry>();
  const timers = new Set<NodeJS.Timeout>();
  const queue: DueProbe[] = [];
  /** Every probe in flight, with its target's name. */
  const inFlight = new Map<Promise<ProbeResult>, string>();
  let abort = runAbort();
  let tick: NodeJS.Timeout | null = null;
  /** Drains the queue once the oldest probe held back by the start gate has waited its longest. */
  let gateTimer: NodeJS.Timeout | null = null;
  let stopGateListener: (() => void) | null = null;
  let running = false;
  let skipped = 0;
  let started = 0;
  let cancelled = 0;

  function makeEntry(target: TargetConfig, check: CheckKind, cadence: Cadence, inFlight: Promise<ProbeResult> | null): Entry {
    const { intervalMs, schedule } = cadence;
    return {
      key: keyOf(target.name, check),
      target,
      check,
      cadence,
      offset: intervalMs ? phaseOffset(target.name, intervalMs) : 0,
      cronTask: schedule ? cron.createTask(schedule, () => undefined) : null,
      plannedUntil: 0,
      nextDueAt: 0,
      inFlight,
      queued: false,
    };
  }

  function dropEntry(entry: Entry): void {
    void entry.cronTask?.destroy();
  }

  function setTargets(targets: TargetConfig[]): void {
    const next = new Map<string, { target: TargetConfig; check: CheckKind; cadence: Cadence }>();
    for (const target of targets) {
      for (const { check, cadence } of plannedChecks(target.settings)) next.set(keyOf(target.name, check), { target, check, cadence });
    }
    // A changed target's entry is replaced but keeps its run in flight: the next one waits for it all the same.
    const carried = new Map<string, Promise<ProbeResult>>();
    for (const [key, entry] of entries) {
      const planned = next.get(key);
      if (!planned || targetChanged(planned.target, entry.target)) {
        if (planned && entry.inFlight) carried.set(key, entry.inFlight);
        dropEntry(entry);
        entries.delete(key);
      }
    }
    for (const [key, { target, check, cadence }] of next) {
      if (!entries.has(key)) entries.set(key, makeEntry(target, check, cadence, carried.get(key) ?? null));
    }
  }

  function dueTimes(entry: Entry, start: number, end: number): number[] {
    const { intervalMs } = entry.cadence;
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
      // nextDueAt is the first due time at or after the old plannedUntil <= start: none falls in [start, end).
      if (entry.nextDueAt >= end) {
        entry.plannedUntil = end;
        continue;
      }
      for (const dueAt of dueTimes(entry, start, end)) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (entries.get(entry.key) === entry) enqueue({ entry, dueAt });
        }, Math.max(0, dueAt - now()));
        timers.add(timer);
      }
      entry.plannedUntil = end;
      if (entry.cadence.intervalMs) entry.nextDueAt = nextDue(end, entry.cadence.intervalMs, entry.offset);
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

  /**
   * The tick is a plain timer armed for the next whole second: node-cron's per-second task computed calendar
   * dates in the time zone every second, most of what an idle sstpwatch spent.
   */
  function armTick(): void {
    tick = setTimeout(() => {
      tick = null;
      if (!running) return;
      try {
        onTick();
      } finally {
        armTick();
      }
    }, TICK_MS - (Date.now() % TICK_MS));
  }

  function enqueue(due: DueProbe): void {
    if (!running) return;
    if (due.entry.inFlight) {
      skipped++;
      deps.log.warn({ target: due.entry.target.name, check: due.entry.check }, 'probe skipped: the previous one is still running');
      return;
    }
    if (due.entry.queued) {
      // The one due before still waits for a slot: running both would only deepen the backlog.
      skipped++;
      deps.log.warn({ target: due.entry.target.name, check: due.entry.check }, 'probe skipped: the previous one is still waiting to start');
      return;
    }
    due.entry.queued = true;
    queue.push(due);
    drain();
  }

  function drain(): void {
    while (running && queue.length > 0 && inFlight.size < maxInFlight) {
      if (heldBack(queue[0]!)) return;
      const due = queue.shift()!;
      due.entry.queued = false;
      if (due.entry.inFlight || entries.get(due.entry.key) !== due.entry) continue;
      deps.onLag?.((now() - due.dueAt) / 1000);
      // A probe never rejects by contract; a bug that makes one reject must not crash the service.
      runProbe(due.entry).catch((err: unknown) => deps.log.error({ err, target: due.entry.target.name, check: due.entry.check }, 'probe threw'));
    }
  }

  /** Whether the start gate holds this probe back now (never past maxDeferMs after its due time). */
  function heldBack(due: DueProbe): boolean {
    const gate = deps.startGate;
    if (!gate?.closed) return false;
    const waitMs = due.dueAt + gate.maxDeferMs - now();
    if (waitMs <= 0) return false;
    gateTimer ??= setTimeout(() => {
      gateTimer = null;
      drain();
    }, waitMs);
    return true;
  }

  function runProbe(entry: Entry): Promise<ProbeResult> {
    started++;
    if (abort.signal.aborted) abort = runAbort(); // a stop aborted the probes in flight then, not those after it
    const { signal } = abort;
    const promise = deps
      .probe(entry.target, entry.check, signal)
      .then((result) => {
        if (signal.aborted && !running) {
          cancelled++;
          return result;
        }
        try {
          deps.onResult(entry.target, entry.check, result);
        } catch (err) {
          deps.log.error({ err, target: entry.target.name, check: entry.check }, 'result handler failed');
        }
        return result;
      })
      .finally(() => {
        inFlight.delete(promise);
        if (entry.inFlight === promise) entry.inFlight = null;
        const current = entries.get(entry.key);
        if (current?.inFlight === promise) current.inFlight = null;
        drain();
      });
    entry.inFlight = promise;
    inFlight.set(promise, entry.target.name);
    return promise;
  }

  setTargets(initialTargets);

  return {
    start() {
      if (running) return;
      running = true;
      stopGateListener = deps.startGate?.onOpen(drain) ?? null;
      armTick();
      plan(Math.floor(now() / TICK_MS) * TICK_MS + 2 * TICK_MS);
    },

    async stop(options = {}) {
      running = false;
      if (tick) {
        clearTimeout(tick);
        tick = null;
      }
      if (gateTimer) {
        clearTimeout(gateTimer);
        gateTimer = null;
      }
      stopGateListener?.();
      stopGateListener = null;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const due of queue) due.entry.queued = false;
      queue.length = 0;
      const settled = Promise.allSettled([...inFlight.keys()]);
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
          abort.abort(new Error('sstpwatch is stopping'));
        }
      }
      await settled;
      for (const entry of entries.values()) {
        entry.plannedUntil = 0;
        entry.nextDueAt = 0;
      }
    },

    setTargets,

    async idle(names) {
      await Promise.allSettled([...inFlight].filter(([, name]) => names.has(name)).map(([promise]) => promise));
    },

    probeNow(name, check = HEALTH_CHECK) {
      const entry = entries.get(keyOf(name, check));
      if (!entry) return Promise.resolve(null);
      return entry.inFlight ?? runProbe(entry);
    },

    stats() {
      return { running, inFlight: inFlight.size, queued: queue.length, skipped, started, cancelled };
    },
  };
}

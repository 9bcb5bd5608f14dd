import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { StartGate } from '../start-gate.js';
import type { HousekeepingStep, Store } from './store.js';

export interface HousekeepingOptions {
  log: Logger;
  /** Time between passes, ms. */
  intervalMs?: number;
  now?: () => number;
  /**
   * Whether this instance runs the timed passes now: of several instances on one PostgreSQL only the one holding
   * the housekeeping lock does. Default: always.
   */
  isHousekeeper?: () => boolean;
  /**
   * While a scrape holds it, each step waits (bounded by the gate): a minute rollup of 10,000 targets costs ~0.5 s
   * of CPU once a minute, and the passes can wait, the scrape's client cannot (docs/capacity.md).
   */
  startGate?: Pick<StartGate, 'whenOpen'>;
}

/** What one pass did. */
export interface HousekeepingPass {
  steps: number;
  /** Rows per task (read for rollups, deleted for prunes, pages for vacuum). */
  rows: Partial<Record<HousekeepingStep['task'], number>>;
  /** The longest single step, ms: how long the database was held at once. */
  longestStepMs: number;
  ms: number;
}

export interface Housekeeping {
  start(): void;
  /** Runs one full pass now (or waits for the one running). */
  runPass(): Promise<HousekeepingPass>;
  /** Stops the timer and waits for a running pass to finish its current step. */
  stop(): Promise<void>;
}

/**
 * Drives the store's housekeeping (rollups, retention, vacuum, WAL checkpoint) from its own timer, never from
 * the probe path: one short transaction per step, and the event loop runs probe timers and sockets between
 * steps, so database work never delays a probe by more than one step. No step starts while a scrape holds the start
 * gate, within its bound.
 */
export function createHousekeeping(store: Pick<Store, 'housekeepingStep'>, options: HousekeepingOptions): Housekeeping {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 15_000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<HousekeepingPass> | null = null;
  let stopping = false;

  async function pass(): Promise<HousekeepingPass> {
    const started = performance.now();
    const result: HousekeepingPass = { steps: 0, rows: {}, longestStepMs: 0, ms: 0 };
    for (;;) {
      if (stopping) break;
      if (options.startGate) {
        await options.startGate.whenOpen();
        if (stopping) break;
      }
      const step = await store.housekeepingStep(now());
      if (!step) break;
      result.steps++;
      result.rows[step.task] = (result.rows[step.task] ?? 0) + step.rows;
      result.longestStepMs = Math.max(result.longestStepMs, step.ms);
      if (step.ms > 250) options.log.warn({ task: step.task, rows: step.rows, ms: Math.round(step.ms) }, 'slow housekeeping step');
      await yieldToEventLoop();
    }
    result.ms = performance.now() - started;
    const pruned = (result.rows.prune_raw ?? 0) + (result.rows.prune_minute ?? 0) + (result.rows.prune_hour ?? 0) + (result.rows.prune_sstp_checks ?? 0);
    const fields = { steps: result.steps, rows: result.rows, longestStepMs: Math.round(result.longestStepMs * 10) / 10, ms: Math.round(result.ms) };
    if (pruned > 0) options.log.info(fields, 'housekeeping pass done');
    else options.log.debug(fields, 'housekeeping pass done');
    return result;
  }

  function runPass(): Promise<HousekeepingPass> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    start() {
      if (timer) return;
      stopping = false;
      timer = setInterval(() => {
        if (options.isHousekeeper && !options.isHousekeeper()) return;
        runPass().catch((err: unknown) => options.log.error({ err }, 'housekeeping pass failed'));
      }, intervalMs);
      timer.unref();
    },
    runPass,
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

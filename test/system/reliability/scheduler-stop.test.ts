// stop({ graceMs }): probes that finish within the grace are reported; the rest are aborted and not reported.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../../src/config/types.js';
import type { ProbeResult } from '../../../src/probe/types.js';
import { nextDue, phaseOffset } from '../../../src/scheduler/plan.js';
import { createScheduler } from '../../../src/scheduler/scheduler.js';
import { probeResult, probeSettings, targetConfig } from '../../fixtures/domain.js';

const log = pino({ level: 'silent' });

function target(name: string, intervalMs = 60_000): TargetConfig {
  return targetConfig(name, probeSettings({ intervalMs, timeoutMs: 30_000, path: '/' }), { group: 'g', url: 'https://127.0.0.1', hostname: 'vpn.test' });
}

/**
 * A clock standing still at a whole second when none of the targets falls due within the next 3 s (the scheduler
 * plans 2 s ahead), so the only probes are the ones a test asks for, whatever the wall clock says.
 */
function quietClock(names: string[], intervalMs: number): () => number {
  const base = Math.floor(Date.now() / 1000) * 1000;
  for (let at = base; at < base + intervalMs; at += 1000) {
    if (names.every((name) => nextDue(at, intervalMs, phaseOffset(name, intervalMs)) >= at + 3000)) return () => at;
  }
  throw new Error(`no 3 s without a due probe among ${names.length} targets every ${intervalMs} ms`);
}

function result(ok: boolean, message: string): ProbeResult {
  return { ...probeResult(Date.now(), ok, { kind: 'timeout', message }, 1), message };
}

describe('scheduler stop with a grace period', () => {
  it('reports the probe that finishes within the grace, aborts the hanging one without reporting it', async () => {
    const reported: string[] = [];
    const scheduler = createScheduler([target('quick'), target('hanging')], {
      // 'quick' answers after 100 ms; 'hanging' only ends when aborted (as the HEAD prober does).
      probe: (t, _check, signal) =>
        new Promise((resolve) => {
          if (t.name === 'quick') setTimeout(() => resolve(result(true, 'HTTP/1.1 401')), 100);
          signal.addEventListener('abort', () => resolve(result(false, 'probe aborted')), { once: true });
        }),
      onResult: (t, _check, r) => reported.push(`${t.name}: ${r.message}`),
      log,
      now: quietClock(['quick', 'hanging'], 60_000),
    });
    scheduler.start();
    const probes = [scheduler.probeNow('quick'), scheduler.probeNow('hanging')];
    expect(scheduler.stats().inFlight).toBe(2);

    const started = performance.now();
    await scheduler.stop({ graceMs: 300 });
    const waitedMs = performance.now() - started;

    expect(reported).toEqual(['quick: HTTP/1.1 401']);
    expect(scheduler.stats()).toMatchObject({ running: false, inFlight: 0, cancelled: 1 });
    // Returned to whoever asked for it, but never reported as a result of the target.
    expect((await probes[1])!.message).toBe('probe aborted');
    expect(waitedMs).toBeGreaterThanOrEqual(250);
  });

  it('probes after a stop that aborted others get a signal that is not aborted, and many in flight warn of nothing', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const seen: { name: string; aborted: boolean }[] = [];
      const names = Array.from({ length: 40 }, (_, i) => `t${i}`);
      const hourly = 3_600_000;
      const scheduler = createScheduler(names.map((name) => target(name, hourly)), {
        // Each probe ends when aborted, or after 50 ms once the scheduler has been started again.
        probe: (t, _check, signal) =>
          new Promise((resolve) => {
            seen.push({ name: t.name, aborted: signal.aborted });
            const done = () => resolve(result(!signal.aborted, signal.aborted ? 'probe aborted' : 'HTTP/1.1 401'));
            signal.addEventListener('abort', done, { once: true });
            if (seen.length > names.length) setTimeout(done, 50);
          }),
        onResult: () => undefined,
        log,
        now: quietClock(names, hourly),
      });
      scheduler.start();
      const first = names.map((name) => scheduler.probeNow(name));
      await scheduler.stop({ graceMs: 50 });
      expect((await Promise.all(first)).map((r) => r!.message)).toEqual(names.map(() => 'probe aborted'));
      expect(scheduler.stats().cancelled).toBe(names.length);

      scheduler.start();
      const again = await scheduler.probeNow('t0');
      await scheduler.stop();
      expect(again!.message).toBe('HTTP/1.1 401');
      expect(seen.at(-1)).toEqual({ name: 't0', aborted: false });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('without a grace it waits for every probe, as before', async () => {
    const reported: string[] = [];
    const scheduler = createScheduler([target('slow')], {
      probe: () => new Promise((resolve) => setTimeout(() => resolve(result(true, 'late but whole')), 400)),
      onResult: (t, _check, r) => reported.push(`${t.name}: ${r.message}`),
      log,
    });
    scheduler.start();
    void scheduler.probeNow('slow');
    await scheduler.stop();
    expect(reported).toEqual(['slow: late but whole']);
    expect(scheduler.stats().cancelled).toBe(0);
  });
});

// Benchmark hook (bench/fleet.ts): every scheduled probe's start lag as a raw sample, where the
// sstpwatch_scheduler_lag_seconds histogram only has buckets. Enabled by main.ts when SSTPWATCH_BENCH_LAG_LOG names a
// file; off in normal operation. Lines are `<epoch ms> <lag seconds>`, appended once a second (and at close).
import { closeSync, openSync, writeSync } from 'node:fs';

export interface LagLog {
  record(seconds: number): void;
  /** Writes what is buffered and stops the timer. */
  close(): void;
}

export function createLagLog(path: string, now: () => number = Date.now, flushEveryMs = 1000): LagLog {
  let buffered = '';
  // Opened once, at the first write: an append a second by path (open, write, close) was CPU the benchmark
  // counted as sstpwatch's.
  let fd: number | null = null;
  const flush = (): void => {
    if (buffered === '') return;
    const text = buffered;
    buffered = '';
    fd ??= openSync(path, 'a');
    writeSync(fd, text);
  };
  const timer = setInterval(flush, flushEveryMs);
  timer.unref();
  return {
    record(seconds) {
      buffered += `${now()} ${seconds}\n`;
    },
    close() {
      clearInterval(timer);
      flush();
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

// Pure formatting for the status page: durations, latencies, ratios, certificate levels.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A span for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. Two units at most, rounded down. */
export function formatSpan(ms: number): string {
  const t = Math.max(0, ms);
  if (t < MINUTE) return `${Math.floor(t / SECOND)} s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)} min`;
  if (t < DAY) {
    const h = Math.floor(t / HOUR);
    const m = Math.floor((t % HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(t / DAY);
  const h = Math.floor((t % DAY) / HOUR);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** A latency: `0.4 ms`, `12 ms`, `1.25 s`. */
export function formatLatency(ms: number): string {
  if (ms < 10) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 10) / 100} s`;
}

/**
 * An availability ratio as a percentage, rounded down so that 99.996 % never shows as 100 %: `100 %`,
 * `99.99 %`, `87.5 %`. Null (no probes counted) shows as `no data`.
 */
export function formatRatio(ratio: number | null): string {
  if (ratio === null) return 'no data';
  if (ratio >= 1) return '100 %';
  const hundredths = Math.floor(ratio * 10_000 + 1e-9);
  return `${(hundredths / 100).toFixed(2).replace(/\.?0+$/, '')} %`;
}

/** UTC time for people: `2026-11-26 21:00:05 UTC`. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Days left on a certificate: `64 days left`, `1 day left`, `less than a day left`, `expired 3 days ago`. */
export function formatDaysLeft(daysLeft: number): string {
  const d = Math.floor(Math.abs(daysLeft));
  const days = `${d} day${d === 1 ? '' : 's'}`;
  if (daysLeft > 0) return d === 0 ? 'less than a day left' : `${days} left`;
  return d === 0 ? 'expired today' : `expired ${days} ago`;
}

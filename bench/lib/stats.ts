// Pure helpers for the fleet benchmark: percentiles, the raw lag log, Prometheus text.

/** Nearest-rank percentile of unsorted samples (p in 0..100); NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface LagSample {
  at: number;
  seconds: number;
}

/** Parses sstpwatch's SSTPWATCH_BENCH_LAG_LOG lines (`<epoch ms> <seconds>`). */
export function parseLagLog(text: string): LagSample[] {
  const samples: LagSample[] = [];
  for (const line of text.split('\n')) {
    const [at, seconds] = line.split(' ');
    if (at && seconds) samples.push({ at: Number(at), seconds: Number(seconds) });
  }
  return samples;
}

export interface LagSummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarizeLag(samples: readonly LagSample[], from: number, to: number): LagSummary {
  const values = samples.filter((s) => s.at >= from && s.at < to).map((s) => s.seconds);
  return { samples: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: maxOf(values) };
}

/**
 * The largest value (NaN for none). A loop, not Math.max(...values): spread passes every value as an argument, and
 * a long run's 1.3 million lag samples overflowed the stack after 75 minutes of measuring.
 */
export function maxOf(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** The smallest value (NaN for none); see maxOf. */
export function minOf(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format samples (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const m = line.exec(raw);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sum of a metric's samples whose labels pass `filter`. */
export function sumOf(samples: readonly Sample[], name: string, filter: (labels: Record<string, string>) => boolean = () => true): number {
  return samples.filter((s) => s.name === name && filter(s.labels)).reduce((sum, s) => sum + s.value, 0);
}

/** Prometheus' histogram_quantile over one (unlabelled) histogram's cumulative buckets: linear within a bucket. */
export function histogramQuantile(samples: readonly Sample[], name: string, q: number): number {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

// Steady state over time (`npm run bench -- --steady 30m --sizes 10000 --retention short`): the real sstpwatch
// probes N targets for a long run while its RSS, CPU and database size are sampled and, as in a real deployment,
// a Prometheus scrapes its /metrics every 15 s (curl, gzip). The report gives RSS and V8 heap growth in MiB per
// hour after the warm-up and over the last half (least-squares slopes), shows whether the database stops growing
// once the (shortened) retention applies, and times every scrape with the scheduler's lag meanwhile.
import { existsSync, statSync } from 'node:fs';
import { curlScrape } from './api-load.js';
import { cpuSeconds, loadAverage, memory, sleep } from './proc.js';
import { histogramQuantile, maxOf, minOf, parseMetrics, percentile, sumOf, type LagSample, type LagSummary, type Sample } from './stats.js';

/** A retention short enough that a 30-minute run reaches its steady state (raw 5 min, minutes 10 min, hours 20 min). */
export const SHORT_RETENTION = { raw: '5m', minute: '10m', hour: '20m' } as const;

export interface SteadySample {
  /** Seconds since the service answered. */
  t: number;
  rssBytes: number;
  peakRssBytes: number;
  cpuSeconds: number;
  /** The database file and its WAL. */
  databaseBytes: number;
  load1: number;
}

/** What the service says of its own memory (prom-client's default metrics), bytes. */
export interface MemoryReading {
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  rssBytes: number;
}

/** One GET /metrics of the run, as Prometheus makes it (gzip). */
export interface SteadyScrape {
  /** Seconds since the service answered, at the request. */
  t: number;
  /** Epoch ms of the request and of its end (for the lag log). */
  from: number;
  to: number;
  /** curl's time_total; for a failed scrape the wall time until it failed. */
  ms: number;
  /** Bytes received (gzipped); NaN when it failed. */
  bytes: number;
  failed: boolean;
  error?: string;
  /** Its body was read for the memory lines (curl into grep instead of /dev/null): grep shares the cores. */
  read: boolean;
  /** From the body of one scrape every SAMPLE_EVERY_S seconds. */
  memory?: MemoryReading;
}

export interface ScrapeSummary {
  count: number;
  failures: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Scrapes (failed ones included) that took more than a second. */
  over1s: number;
  bodyBytes: { min: number; max: number };
}

export interface SteadyFigures {
  durationS: number;
  warmupS: number;
  /** Epoch ms of t = 0. */
  startedAt: number;
  samples: SteadySample[];
  /** Least-squares slope of RSS after the warm-up, MiB per hour. */
  rssMibPerHour: number;
  /** The same over the last half of the run: a heap that converges shows a smaller slope here. */
  rssMibPerHourLastHalf: number;
  /** Least-squares slope of the database size over the last third of the run, MiB per hour. */
  databaseMibPerHourLastThird: number;
  rssAfterWarmupMib: { min: number; max: number };
  cpuSecondsPer1000: number;
  probes: number;
  /** /metrics every `scrapeEveryS` seconds; 0: not scraped (no heap readings either). */
  scrapeEveryS: number;
  scrapeTimeoutS: number;
  scrapes: SteadyScrape[];
  /** The scrapes that started after the warm-up. */
  scrapesAfterWarmup: ScrapeSummary;
  /** Of those, the ones whose body was read for the heap and the others: what reading it costs the timing. */
  wallP50MsReadAndNot: { read: number; notRead: number };
  heapUsedMibPerHour: number;
  heapUsedMibPerHourLastHalf: number;
  heapUsedAfterWarmupMib: { min: number; max: number };
  heapTotalAfterWarmupMib: { min: number; max: number };
  externalAfterWarmupMib: { min: number; max: number };
  /** The service's sstpwatch_scheduler_lag_seconds at the last reading minus at the first after the warm-up. */
  lagHistogramAfterWarmup?: { probes: number; p50: number; p99: number };
  /** From the raw lag log (fleet.ts fills it once the service has stopped). */
  lag?: { afterWarmup: LagSummary; duringScrapes: LagSummary; byWindow?: LagWindow[] };
}

/** The series read from a scrape's body: the heap gauges and the scheduler's lag histogram. */
export const MEMORY_METRICS = [
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_external_memory_bytes',
  'process_resident_memory_bytes',
  'sstpwatch_scheduler_lag_seconds_bucket',
  'sstpwatch_scheduler_lag_seconds_sum',
  'sstpwatch_scheduler_lag_seconds_count',
] as const;

const LAG_HISTOGRAM = 'sstpwatch_scheduler_lag_seconds';

/** How often the process is sampled (and a scrape's body read for the heap), seconds. */
export const SAMPLE_EVERY_S = 30;

/** Prometheus' default scrape_timeout: a scrape that takes longer fails there. */
export const SCRAPE_TIMEOUT_S = 10;

/** The memory gauges in sample lines of the exposition; null when the heap figures are absent. */
export function memoryReading(samples: readonly Sample[]): MemoryReading | null {
  const value = (name: string) => samples.find((s) => s.name === name)?.value;
  const heapUsedBytes = value('nodejs_heap_size_used_bytes');
  const heapTotalBytes = value('nodejs_heap_size_total_bytes');
  if (heapUsedBytes === undefined || heapTotalBytes === undefined) return null;
  return { heapUsedBytes, heapTotalBytes, externalBytes: value('nodejs_external_memory_bytes') ?? NaN, rssBytes: value('process_resident_memory_bytes') ?? NaN };
}

/** The histogram `name`'s bucket, sum and count samples of `later` minus those of `earlier` (a counter's increase). */
export function histogramIncrease(later: readonly Sample[], earlier: readonly Sample[], name: string): Sample[] {
  const key = (s: Sample) => `${s.name}{le=${s.labels.le ?? ''}}`;
  const before = new Map(earlier.filter((s) => s.name.startsWith(`${name}_`)).map((s) => [key(s), s.value]));
  return later.filter((s) => s.name.startsWith(`${name}_`)).map((s) => ({ ...s, value: s.value - (before.get(key(s)) ?? 0) }));
}

export function summarizeScrapes(scrapes: readonly Pick<SteadyScrape, 'ms' | 'bytes' | 'failed'>[]): ScrapeSummary {
  const ms = scrapes.map((s) => s.ms);
  const bytes = scrapes.filter((s) => !s.failed).map((s) => s.bytes);
  return {
    count: scrapes.length,
    failures: scrapes.filter((s) => s.failed).length,
    p50Ms: percentile(ms, 50),
    p90Ms: percentile(ms, 90),
    p99Ms: percentile(ms, 99),
    maxMs: maxOf(ms),
    over1s: ms.filter((m) => m > 1000).length,
    bodyBytes: { min: minOf(bytes), max: maxOf(bytes) },
  };
}

/** The lag of the probes started in one stretch of the run (minutes after the warm-up). */
export interface LagWindow extends LagSummary {
  fromMin: number;
  toMin: number;
}

/**
 * The lag after `from` in stretches of `windowMs`: whether a long run's lag is spread over it or gathers in one part
 * (retention starting to delete, a scrape that fell behind).
 */
export function lagByWindow(samples: readonly LagSample[], from: number, windowMs: number): LagWindow[] {
  const byIndex = new Map<number, number[]>();
  for (const s of samples) {
    if (s.at < from) continue;
    const i = Math.floor((s.at - from) / windowMs);
    let values = byIndex.get(i);
    if (!values) byIndex.set(i, (values = []));
    values.push(s.seconds);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, values]) => ({
      fromMin: (i * windowMs) / 60_000,
      toMin: ((i + 1) * windowMs) / 60_000,
      samples: values.length,
      p50: percentile(values, 50),
      p99: percentile(values, 99),
      max: maxOf(values),
    }));
}

/**
 * The raw lag samples recorded while a window was open or within `slackMs` after it closed (a probe held back by
 * a scrape starts, and is recorded, just after it). Both lists in time order.
 */
export function lagDuring(samples: readonly LagSample[], windows: readonly { from: number; to: number }[], slackMs: number): LagSample[] {
  const out: LagSample[] = [];
  let w = 0;
  for (const s of samples) {
    while (w < windows.length && windows[w]!.to + slackMs < s.at) w++;
    if (w === windows.length) break;
    if (s.at >= windows[w]!.from) out.push(s);
  }
  return out;
}

const range = (values: number[]) => ({ min: minOf(values), max: maxOf(values) });

/** Seconds from `30m`, `1h`, `90s` or a bare number of seconds. */
export function parseDurationS(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (e.g. 30m, 1h, 600)`);
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600 }[match[2] ?? 's'] ?? 1);
}

export function databaseBytes(path: string): number {
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) if (existsSync(file)) bytes += statSync(file).size;
  return bytes;
}

/**
 * Samples the process every SAMPLE_EVERY_S seconds for `durationS` while, when `scrape` is given, a Prometheus
 * scrapes its /metrics every `scrape.everyS` seconds (gzip, curl). One scrape per sample period also has its body
 * read, in C (curl into grep), for the heap gauges and the lag histogram. `probesSoFar` reads the fleet's request count.
 */
export async function sampleSteady(
  pid: number,
  database: string,
  opts: { durationS: number; warmupS: number; probesSoFar: () => Promise<number>; log: (m: string) => void; scrape?: { url: string; everyS: number; timeoutS?: number } },
): Promise<SteadyFigures> {
  const started = Date.now();
  const elapsedS = () => (Date.now() - started) / 1000;
  const samples: SteadySample[] = [];
  const scrapes: SteadyScrape[] = [];
  const lagReadings: { t: number; lag: Sample[] }[] = [];
  const scrapeTimeoutS = opts.scrape?.timeoutS ?? SCRAPE_TIMEOUT_S;
  let probesAtWarmup: number | null = null;
  let cpuAtWarmup = 0;

  const sampler = async () => {
    for (;;) {
      const t = elapsedS();
      const mem = memory(pid);
      const sample: SteadySample = {
        t: Math.round(t),
        rssBytes: mem.rss,
        peakRssBytes: mem.peakRss,
        cpuSeconds: cpuSeconds(pid),
        databaseBytes: databaseBytes(database),
        load1: loadAverage()[0]!,
      };
      samples.push(sample);
      if (probesAtWarmup === null && t >= opts.warmupS) {
        probesAtWarmup = await opts.probesSoFar();
        cpuAtWarmup = sample.cpuSeconds;
      }
      if (samples.length % 10 === 1) {
        const last = scrapes.at(-1);
        const scraped = last ? `, last /metrics ${last.failed ? `failed (${last.error})` : `${last.ms} ms`}` : '';
        opts.log(`steady t=${sample.t}s RSS ${(sample.rssBytes / 1048576).toFixed(0)} MiB, database ${(sample.databaseBytes / 1048576).toFixed(1)} MiB, load ${sample.load1}${scraped}`);
      }
      if (t >= opts.durationS) break;
      await sleep(Math.min(SAMPLE_EVERY_S * 1000, Math.max(0, (opts.durationS - t) * 1000)));
    }
  };

  const scraper = async (url: string, everyS: number) => {
    let lastReadT = -Infinity;
    for (;;) {
      const from = Date.now();
      const t = (from - started) / 1000;
      if (t >= opts.durationS) break;
      // A second of slack: scrapes drift by their own duration, and a read must not skip a whole period for it.
      const read = t - lastReadT >= SAMPLE_EVERY_S - 1;
      if (read) lastReadT = t;
      const scrape: SteadyScrape = await curlScrape(`${url}/metrics`, true, { timeoutS: scrapeTimeoutS, keepMetrics: read ? MEMORY_METRICS : undefined }).then(
        (r) => {
          const lines = r.lines ? parseMetrics(r.lines.join('\n')) : [];
          const memory = memoryReading(lines) ?? undefined;
          if (lines.some((l) => l.name.startsWith(LAG_HISTOGRAM))) lagReadings.push({ t, lag: lines });
          return { t: Math.round(t), from, to: Date.now(), ms: r.ms, bytes: r.bytes, failed: false, read, ...(memory ? { memory } : {}) };
        },
        (err: unknown) => ({ t: Math.round(t), from, to: Date.now(), ms: Date.now() - from, bytes: NaN, failed: true, read, error: (err as Error).message.split('\n').find(Boolean)?.slice(0, 200) }),
      );
      scrapes.push(scrape);
      // Every `everyS` from the last start, as Prometheus does; one that overran its slot is followed at once.
      await sleep(Math.max(0, Math.min(from + everyS * 1000 - Date.now(), started + opts.durationS * 1000 - Date.now())));
    }
  };

  await Promise.all([sampler(), opts.scrape && opts.scrape.everyS > 0 ? scraper(opts.scrape.url, opts.scrape.everyS) : undefined]);

  const probes = (await opts.probesSoFar()) - (probesAtWarmup ?? 0);
  const last = samples[samples.length - 1]!;
  const afterWarmup = samples.filter((s) => s.t >= opts.warmupS);
  const lastHalf = samples.filter((s) => s.t >= opts.durationS / 2);
  const lastThird = samples.filter((s) => s.t >= (opts.durationS * 2) / 3);
  const readings = scrapes.filter((s): s is SteadyScrape & { memory: MemoryReading } => s.memory !== undefined);
  const readingsAfterWarmup = readings.filter((s) => s.t >= opts.warmupS);
  const mib = (b: number) => b / 1048576;
  const lagFrom = lagReadings.find((r) => r.t >= opts.warmupS);
  const lagTo = lagReadings.at(-1);
  let lagHistogramAfterWarmup: SteadyFigures['lagHistogramAfterWarmup'];
  if (lagFrom && lagTo && lagTo !== lagFrom) {
    const increase = histogramIncrease(lagTo.lag, lagFrom.lag, LAG_HISTOGRAM);
    lagHistogramAfterWarmup = { probes: sumOf(increase, `${LAG_HISTOGRAM}_count`), p50: histogramQuantile(increase, LAG_HISTOGRAM, 0.5), p99: histogramQuantile(increase, LAG_HISTOGRAM, 0.99) };
  }
  return {
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    startedAt: started,
    samples,
    rssMibPerHour: slopePerHour(afterWarmup.map((s) => [s.t, mib(s.rssBytes)])),
    rssMibPerHourLastHalf: slopePerHour(lastHalf.map((s) => [s.t, mib(s.rssBytes)])),
    databaseMibPerHourLastThird: slopePerHour(lastThird.map((s) => [s.t, mib(s.databaseBytes)])),
    rssAfterWarmupMib: range(afterWarmup.map((s) => mib(s.rssBytes))),
    cpuSecondsPer1000: probes > 0 ? ((last.cpuSeconds - cpuAtWarmup) / probes) * 1000 : NaN,
    probes,
    scrapeEveryS: opts.scrape?.everyS ?? 0,
    scrapeTimeoutS,
    scrapes,
    scrapesAfterWarmup: summarizeScrapes(scrapes.filter((s) => s.t >= opts.warmupS)),
    wallP50MsReadAndNot: {
      read: percentile(scrapes.filter((s) => s.t >= opts.warmupS && s.read).map((s) => s.ms), 50),
      notRead: percentile(scrapes.filter((s) => s.t >= opts.warmupS && !s.read).map((s) => s.ms), 50),
    },
    heapUsedMibPerHour: slopePerHour(readingsAfterWarmup.map((s) => [s.t, mib(s.memory.heapUsedBytes)])),
    heapUsedMibPerHourLastHalf: slopePerHour(readings.filter((s) => s.t >= opts.durationS / 2).map((s) => [s.t, mib(s.memory.heapUsedBytes)])),
    heapUsedAfterWarmupMib: range(readingsAfterWarmup.map((s) => mib(s.memory.heapUsedBytes))),
    heapTotalAfterWarmupMib: range(readingsAfterWarmup.map((s) => mib(s.memory.heapTotalBytes))),
    externalAfterWarmupMib: range(readingsAfterWarmup.map((s) => mib(s.memory.externalBytes))),
    lagHistogramAfterWarmup,
  };
}

/** Least-squares slope of (seconds, value) points, per hour; NaN with fewer than two points. */
export function slopePerHour(points: [number, number][]): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 3600;
}

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '-');
const lagText = (l: LagSummary) => `p50 ${ms(l.p50 * 1000)}, p99 ${ms(l.p99 * 1000)}, max ${ms(l.max * 1000)} (${l.samples.toLocaleString('en-US')} probes)`;

/** The scrape lines of the report; none when the run was not scraped. */
function renderScrapes(f: SteadyFigures): string[] {
  if (f.scrapeEveryS <= 0) return ['- /metrics: not scraped (`--steady-scrape-every 0`): no heap figures'];
  const s = f.scrapesAfterWarmup;
  const mb = (b: number) => (b / 1e6).toFixed(2);
  const lines = [
    `- /metrics every ${f.scrapeEveryS} s as Prometheus scrapes it (curl, gzip, timeout ${f.scrapeTimeoutS} s), ${s.count} scrapes after the warm-up: wall p50 ${ms(s.p50Ms)}, p90 ${ms(s.p90Ms)}, p99 ${ms(s.p99Ms)}, max ${ms(s.maxMs)}; **${s.over1s} over 1 s**, ${s.failures} failed; body ${mb(s.bodyBytes.min)} to ${mb(s.bodyBytes.max)} MB gzipped; wall p50 of the scrapes whose body was read for the heap (curl into grep) ${ms(f.wallP50MsReadAndNot.read)}, of the others (curl to /dev/null) ${ms(f.wallP50MsReadAndNot.notRead)}`,
    `- V8 heap used after the warm-up (the service's nodejs_heap_size_used_bytes, every ${SAMPLE_EVERY_S} s): ${f.heapUsedAfterWarmupMib.min.toFixed(0)} to ${f.heapUsedAfterWarmupMib.max.toFixed(0)} MiB; slope ${f.heapUsedMibPerHour.toFixed(1)} MiB per hour, over the last half ${f.heapUsedMibPerHourLastHalf.toFixed(1)}; heap total ${f.heapTotalAfterWarmupMib.min.toFixed(0)} to ${f.heapTotalAfterWarmupMib.max.toFixed(0)} MiB, external ${f.externalAfterWarmupMib.min.toFixed(0)} to ${f.externalAfterWarmupMib.max.toFixed(0)} MiB`,
  ];
  const failed = f.scrapes.filter((x) => x.failed);
  if (failed.length) lines.push(`- failed scrapes: ${failed.slice(0, 5).map((x) => `t=${x.t}s ${x.error}`).join('; ')}${failed.length > 5 ? `; ${failed.length - 5} more` : ''}`);
  return lines;
}

function renderLag(f: SteadyFigures): string[] {
  const lines: string[] = [];
  if (f.lag) {
    lines.push(`- scheduler lag after the warm-up (every probe, the raw lag log): ${lagText(f.lag.afterWarmup)}`);
    if (f.scrapeEveryS > 0) lines.push(`- scheduler lag of the probes started during a scrape or within 1 s after it: ${lagText(f.lag.duringScrapes)}`);
    const windows = f.lag.byWindow ?? [];
    if (windows.length > 1) {
      lines.push(`- scheduler lag by stretch of the run after the warm-up (minutes: p99 / max): ${windows.map((w) => `${w.fromMin}-${w.toMin}: ${ms(w.p99 * 1000)} / ${ms(w.max * 1000)}`).join('; ')}`);
    }
  }
  const h = f.lagHistogramAfterWarmup;
  if (h) lines.push(`- the service's sstpwatch_scheduler_lag_seconds, last reading minus the first after the warm-up: p50 ${ms(h.p50 * 1000)}, p99 ${ms(h.p99 * 1000)} (${h.probes.toLocaleString('en-US')} probes; interpolated within buckets)`);
  return lines;
}

export function renderSteady(targets: number, intervalS: number, f: SteadyFigures, command: string): string {
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const rows = f.samples.filter((_, i) => i % Math.max(1, Math.floor(f.samples.length / 30)) === 0 || i === f.samples.length - 1);
  const readings = f.scrapes.filter((s) => s.memory);
  /** The heap reading nearest the sample, within a sample period. */
  const heapAt = (t: number) => {
    let best: SteadyScrape | undefined;
    for (const r of readings) if (Math.abs(r.t - t) <= SAMPLE_EVERY_S / 2 && (!best || Math.abs(r.t - t) < Math.abs(best.t - t))) best = r;
    return best?.memory ? `${mib(best.memory.heapUsedBytes)} / ${mib(best.memory.heapTotalBytes)} MiB` : '-';
  };
  return [
    `## Steady state: ${targets.toLocaleString('en-US')} targets every ${intervalS} s for ${(f.durationS / 60).toFixed(0)} min`,
    '',
    `\`${command}\``,
    '',
    `- RSS after the ${f.warmupS} s warm-up: ${f.rssAfterWarmupMib.min.toFixed(0)} to ${f.rssAfterWarmupMib.max.toFixed(0)} MiB; slope ${f.rssMibPerHour.toFixed(1)} MiB per hour (least squares), over the last half of the run ${f.rssMibPerHourLastHalf.toFixed(1)}`,
    `- database (file + WAL) over the last third of the run: ${f.databaseMibPerHourLastThird.toFixed(1)} MiB per hour`,
    `- CPU after the warm-up: ${f.cpuSecondsPer1000.toFixed(3)} s per 1,000 probes (${f.probes.toLocaleString('en-US')} probes)`,
    ...renderScrapes(f),
    ...renderLag(f),
    '',
    '| t (s) | RSS | peak RSS | heap used / total | database | CPU s | load |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((s) => `| ${s.t} | ${mib(s.rssBytes)} MiB | ${mib(s.peakRssBytes)} MiB | ${heapAt(s.t)} | ${mib(s.databaseBytes)} MiB | ${s.cpuSeconds.toFixed(1)} | ${s.load1} |`),
    '',
  ].join('\n');
}

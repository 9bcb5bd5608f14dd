// Steady state over time (`npm run bench -- --steady 30m --sizes 10000 --retention short`): the real sstpwatch
// probes N targets for a long run while its RSS, CPU and database size are sampled; the report gives RSS growth
// in MiB per hour after the warm-up (a least-squares slope) and shows whether the database stops growing once
// the (shortened) retention applies.
import { existsSync, statSync } from 'node:fs';
import { cpuSeconds, loadAverage, memory, sleep } from './proc.js';

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

export interface SteadyFigures {
  durationS: number;
  warmupS: number;
  samples: SteadySample[];
  /** Least-squares slope of RSS after the warm-up, MiB per hour. */
  rssMibPerHour: number;
  /** Least-squares slope of the database size over the last third of the run, MiB per hour. */
  databaseMibPerHourLastThird: number;
  rssAfterWarmupMib: { min: number; max: number };
  cpuSecondsPer1000: number;
  probes: number;
}

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

/** Samples the process every `everyS` seconds for `durationS`; `probesSoFar` reads the fleet's request count. */
export async function sampleSteady(
  pid: number,
  database: string,
  opts: { durationS: number; warmupS: number; everyS: number; probesSoFar: () => Promise<number>; log: (m: string) => void },
): Promise<SteadyFigures> {
  const started = Date.now();
  const samples: SteadySample[] = [];
  let probesAtWarmup: number | null = null;
  let cpuAtWarmup = 0;
  for (;;) {
    const t = (Date.now() - started) / 1000;
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
      opts.log(`steady t=${sample.t}s RSS ${(sample.rssBytes / 1048576).toFixed(0)} MiB, database ${(sample.databaseBytes / 1048576).toFixed(1)} MiB, load ${sample.load1}`);
    }
    if (t >= opts.durationS) break;
    await sleep(Math.min(opts.everyS * 1000, Math.max(0, (opts.durationS - t) * 1000)));
  }
  const probes = (await opts.probesSoFar()) - (probesAtWarmup ?? 0);
  const last = samples[samples.length - 1]!;
  const afterWarmup = samples.filter((s) => s.t >= opts.warmupS);
  const lastThird = samples.filter((s) => s.t >= (opts.durationS * 2) / 3);
  const mib = (b: number) => b / 1048576;
  return {
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    samples,
    rssMibPerHour: slopePerHour(afterWarmup.map((s) => [s.t, mib(s.rssBytes)])),
    databaseMibPerHourLastThird: slopePerHour(lastThird.map((s) => [s.t, mib(s.databaseBytes)])),
    rssAfterWarmupMib: { min: Math.min(...afterWarmup.map((s) => mib(s.rssBytes))), max: Math.max(...afterWarmup.map((s) => mib(s.rssBytes))) },
    cpuSecondsPer1000: probes > 0 ? ((last.cpuSeconds - cpuAtWarmup) / probes) * 1000 : NaN,
    probes,
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

export function renderSteady(targets: number, intervalS: number, f: SteadyFigures, command: string): string {
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const rows = f.samples.filter((_, i) => i % Math.max(1, Math.floor(f.samples.length / 30)) === 0 || i === f.samples.length - 1);
  return [
    `## Steady state: ${targets.toLocaleString('en-US')} targets every ${intervalS} s for ${(f.durationS / 60).toFixed(0)} min`,
    '',
    `\`${command}\``,
    '',
    `- RSS after the ${f.warmupS} s warm-up: ${f.rssAfterWarmupMib.min.toFixed(0)} to ${f.rssAfterWarmupMib.max.toFixed(0)} MiB; slope ${f.rssMibPerHour.toFixed(1)} MiB per hour (least squares)`,
    `- database (file + WAL) over the last third of the run: ${f.databaseMibPerHourLastThird.toFixed(1)} MiB per hour`,
    `- CPU after the warm-up: ${f.cpuSecondsPer1000.toFixed(3)} s per 1,000 probes (${f.probes.toLocaleString('en-US')} probes)`,
    '',
    '| t (s) | RSS | peak RSS | database | CPU s | load |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows.map((s) => `| ${s.t} | ${mib(s.rssBytes)} MiB | ${mib(s.peakRssBytes)} MiB | ${mib(s.databaseBytes)} MiB | ${s.cpuSeconds.toFixed(1)} | ${s.load1} |`),
    '',
  ].join('\n');
}

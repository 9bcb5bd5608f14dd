// Benchmark (not a test): months of 30-second results for many targets, written through the real store code
// (record -> flush batches) with a simulated clock, with housekeeping (rollups, retention, vacuum, checkpoints)
// run every simulated hour exactly as the service runs it. Then reports the database size, rows per table, the
// longest single housekeeping step (write-lock hold), and the medians of a 30-day uptime query and a 30-day
// 1h-resolution history query.
//
//   npm run bench:history                          # one year, 50 targets, every 30 s (~52.6 M results)
//   npm run bench:history -- --days 60 --targets 50
//   npm run bench:history -- --db /tmp/h.db --keep # keep the file
//   npm run bench:history -- --stop-at 21:50        # stop writing at that UTC wall-clock time; report what was built
// With --stop-at, the simulated year ends where the wall clock ran out: the report says how many days were built,
// and the queries run at that simulated time, on that file. Writes bench/results/<date>-history.md too.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { ErrorKind, ProbeResult } from '../src/probe/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { incidentsFrom } from '../src/health/incidents.js';
import type { HousekeepingStep } from '../src/store/store.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    targets: { type: 'string', default: '50' },
    interval: { type: 'string', default: '30', description: 'seconds' },
    queries: { type: 'string', default: '200' },
    db: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'stop-at': { type: 'string', description: 'UTC wall-clock HH:MM at which writing stops' },
    out: { type: 'string', default: fileURLToPath(new URL('./results', import.meta.url)) },
  },
});
const stopAt = values['stop-at'] ? wallClockToday(values['stop-at']) : Infinity;

function wallClockToday(hhmm: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!match) throw new Error('--stop-at takes a UTC time as HH:MM');
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), Number(match[1]), Number(match[2]));
}
const days = Number(values.days);
const targetCount = Number(values.targets);
const intervalMs = Number(values.interval) * 1000;
const queryCount = Number(values.queries);
const dir = values.db ? null : mkdtempSync(join(tmpdir(), 'sstpwatch-bench-'));
const path = values.db ?? join(dir!, 'history.db');
if (values.db && existsSync(path)) throw new Error(`${path} exists; give a new file`);

// A deterministic PRNG, so runs are comparable.
let seed = 0x9e3779b9;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

const plannedEnd = Date.UTC(2026, 10, 26, 21, 0, 0);
const start = plannedEnd - days * DAY_MS;
const startedAt = new Date();
let now = start;
const store = openSqliteStore({ path, log: pino({ level: 'warn' }), now: () => now, maxPending: 10_000_000 });
const targets = Array.from({ length: targetCount }, (_, i) => `rras-${String(i).padStart(3, '0')}`);
await store.syncTargets(targets.map((name) => ({ name, group: `vpn-${name.slice(-1)}`, role: 'server' as const, url: `https://${name}.example` })));

const certificate = 'AB'.repeat(32);
function result(at: number, ok: boolean): ProbeResult {
  const kind: ErrorKind = ok ? 'ok' : random() < 0.5 ? 'timeout' : 'connect_refused';
  const durationMs = ok ? 2 + random() * 6 + (random() < 0.02 ? random() * 200 : 0) : kind === 'timeout' ? 5000 : 0.4;
  return {
    at,
    ok,
    errorKind: kind,
    message: ok ? '' : kind === 'timeout' ? 'no answer within 5 s' : 'connection refused',
    statusCode: ok ? 401 : null,
    httpVersion: ok ? '1.1' : null,
    durationMs,
    phasesMs: ok ? { dns: 0.01, connect: durationMs * 0.1, tls: durationMs * 0.6, processing: durationMs * 0.29 } : {},
    tlsVersion: ok ? 'TLSv1.3' : null,
    certificateSha256: ok ? certificate : null,
    certificate: null,
  };
}

/** Per task: the longest step by wall time, and the most CPU time (user + system) any one step used. */
const longest: Partial<Record<HousekeepingStep['task'], { ms: number; rows: number; cpuMs: number }>> = {};
let housekeepingMs = 0;
let housekeepingSteps = 0;
async function housekeep(): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const cpu = process.cpuUsage();
    const step = await store.housekeepingStep(now);
    if (!step) break;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    housekeepingSteps++;
    const best = longest[step.task] ?? { ms: 0, rows: 0, cpuMs: 0 };
    longest[step.task] = step.ms > best.ms ? { ms: step.ms, rows: step.rows, cpuMs: Math.max(best.cpuMs, cpuMs) } : { ...best, cpuMs: Math.max(best.cpuMs, cpuMs) };
  }
  housekeepingMs += performance.now() - t0;
}

// Each target has a down period of a few minutes about once a week, with its transitions.
const downUntil = new Map<string, number>();
const t0 = performance.now();
let written = 0;
let lastReport = t0;
let end = plannedEnd;
for (let at = start; at < plannedEnd; at += intervalMs) {
  now = at;
  for (const name of targets) {
    let down = (downUntil.get(name) ?? 0) > at;
    if (!down && random() < intervalMs / (7 * DAY_MS)) {
      downUntil.set(name, at + (2 + Math.floor(random() * 10)) * 60_000);
      store.recordTransition({ target: name, at, from: 'up', to: 'down', cause: 'timeout', message: 'no answer within 5 s' });
      down = true;
    } else if (!down && downUntil.has(name)) {
      downUntil.delete(name);
      store.recordTransition({ target: name, at, from: 'down', to: 'up', cause: 'ok', message: '' });
    }
    store.record(name, 'head', result(at, !down && random() > 0.001));
    written++;
  }
  if ((at - start) % (10 * 60_000) === 0) await store.flush();
  if ((at - start) % HOUR_MS === 0) {
    await housekeep();
    if (Date.now() >= stopAt) {
      end = at + intervalMs;
      break;
    }
  }
  if (performance.now() - lastReport > 30_000) {
    lastReport = performance.now();
    const rate = written / ((lastReport - t0) / 1000);
    process.stderr.write(`  ${((at - start) / DAY_MS).toFixed(1)} of ${days} days, ${(written / 1e6).toFixed(1)} M results, ${Math.round(rate)} results/s\n`);
  }
}
now = end;
await store.flush();
await housekeep();
const generateS = (performance.now() - t0) / 1000;

// Queries as the API runs them, at the end of the year.
function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
const uptimeMs: number[] = [];
const historyMs: number[] = [];
const incidentsMs: number[] = [];
let buckets = 0;
let incidents = 0;
for (let i = 0; i < queryCount; i++) {
  const name = targets[i % targets.length]!;
  let q = performance.now();
  await store.uptime(name, end - 30 * DAY_MS, end + 1);
  uptimeMs.push(performance.now() - q);
  q = performance.now();
  buckets = (await store.rollups(name, '1h', { from: end - 30 * DAY_MS, to: end, limit: 1000 })).items.length;
  historyMs.push(performance.now() - q);
  q = performance.now();
  incidents = incidentsFrom(await store.transitionsBetween(name, end - 30 * DAY_MS, end)).length;
  incidentsMs.push(performance.now() - q);
}
const uptimeSample = await store.uptime(targets[0]!, end - 30 * DAY_MS, end + 1);
await store.close();

const db = new Database(path, { readonly: true });
const rows = Object.fromEntries(
  ['results', 'rollups_minute', 'rollups_hour', 'state_transitions', 'certificates', 'targets'].map((table) => [
    table,
    (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
  ]),
);
const pageSize = db.pragma('page_size', { simple: true }) as number;
const freePages = db.pragma('freelist_count', { simple: true }) as number;
db.close();
const size = statSync(path).size;
const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const builtDays = (end - start) / DAY_MS;
const lines = [
  `sstpwatch history bench: ${targetCount} targets, every ${intervalMs / 1000} s, ${builtDays.toFixed(2)} of ${days} days built (${(written / 1e6).toFixed(2)} M results written)${end < plannedEnd ? `: stopped at the wall-clock limit ${values['stop-at']} UTC` : ''}`,
  `started ${startedAt.toISOString()}, finished ${new Date().toISOString()}`,
  `generate + hourly housekeeping: ${generateS.toFixed(0)} s (${Math.round(written / generateS)} results/s; housekeeping ${(housekeepingMs / 1000).toFixed(0)} s in ${housekeepingSteps} steps)`,
  `database file: ${mb(size)} (+ WAL ${mb(wal)}), ${freePages} free pages of ${pageSize} bytes`,
  `rows: ${Object.entries(rows).map(([t, n]) => `${t} ${n}`).join(', ')}`,
  `longest single housekeeping step (write transaction) by task, wall time (rows; most CPU time of any step): ${Object.entries(longest).map(([t, s]) => `${t} ${s.ms.toFixed(1)} ms (${s.rows} rows; cpu ${s.cpuMs.toFixed(1)} ms)`).join(', ')}`,
  `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on this shared machine (wall times include waiting for a CPU)`,
  `30-day uptime query: median ${median(uptimeMs).toFixed(3)} ms, max ${Math.max(...uptimeMs).toFixed(3)} ms over ${queryCount} (e.g. ${JSON.stringify(uptimeSample)})`,
  `30-day 1h history query (${buckets} buckets): median ${median(historyMs).toFixed(3)} ms, max ${Math.max(...historyMs).toFixed(3)} ms over ${queryCount}`,
  `30-day incidents query (${incidents} incidents of one target): median ${median(incidentsMs).toFixed(3)} ms, max ${Math.max(...incidentsMs).toFixed(3)} ms over ${queryCount}`,
];
console.log(lines.join('\n'));
mkdirSync(values.out, { recursive: true });
const report = join(values.out, `${startedAt.toISOString().slice(0, 16).replace(':', '-')}-history-${targetCount}x${days}d.md`);
writeFileSync(report, `# History bench\n\n\`npm run bench:history -- ${process.argv.slice(2).join(' ')}\`\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
console.log(`wrote ${report}`);
if (!values.keep && dir) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${path}`);

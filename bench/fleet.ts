// Benchmark (not a test): how many SSTP endpoints one sstpwatch watches, at what cost, against Debian's
// blackbox_exporter doing the same checks and against the floor (a bare Node loop of connect + TLS + HEAD).
//
// For each N: a fake RRAS fleet (child process, `--ports` TLS listeners on 127.0.0.1, one full handshake per
// probe) serves N targets; then, one after the other against the same fleet:
//   sstpwatch  the real service (node bin/sstpwatch.js serve), N targets every --interval s, a temp database;
//              after --warmup s (60: every target's second probe, and with rise 2 its one change from unknown to
//              up, a log line and a transition row, fall before the window, as in the issue's method), a --measure s window of probing only (CPU, probes, raw lag, commits), then
//              autocannon on /api/v1/status and /metrics (--api s each) while probing goes on.
//   blackbox   prometheus-blackbox-exporter driven at the same schedule (GET /probe per target per interval)
//   floor      a minimal Node loop doing the same probes with nothing else
// CPU is utime+stime of the measured process from /proc (never the fake fleet's or a driver's).
//
//   npm run bench                                   # N = 100, 1000, 10000 (about 12 minutes)
//   npm run bench -- --sizes 1000 --measure 30      # quicker
//   npm run bench -- --sizes 10000 --profile        # also a CPU profile of sstpwatch (--cpu-prof; work dir kept)
//   npm run bench -- --baseline /tmp/old/bin/sstpwatch.js   # also an older sstpwatch (a git worktree), same fakes
//   npm run bench -- --store postgres --systems sstpwatch   # sstpwatch on PostgreSQL 15 (started here), + its CPU
//   npm run bench -- --sizes 3000 --group-size 3000 # one group of 3,000 servers (default: groups of 10)
//   npm run bench -- --sizes 1000 --heap            # also a heap snapshot after the window, summarised (work dir kept)
//   npm run bench -- --node-args="--max-semi-space-size=8"   # node flags for sstpwatch (--baseline-node-args: the baseline's)
//   npm run bench -- --baseline bin/sstpwatch.js --baseline-node-options=""   # NODE_OPTIONS: by default what the
//                                                   # checkout's systemd unit sets (the service as installed)
//   npm run bench -- --steady 30m --sizes 10000 --retention short   # RSS, heap and database size over a long run, /metrics
//                                                   # scraped every 15 s meanwhile (--steady-scrape-every, 0: none)
//   npm run bench -- --sizes 1000 --rounds 3 --api 0 --api-load 0 --scrapes 0   # the systems in turn three times,
//                                                   # the order rotated each round; per-round CPU ratios and their medians
//   npm run bench -- --sizes 3000 --api-load 10 --scrapes 46   # status with 4 connections (wrk: gzip, a fixed-buffer control, /healthz, identity, ?group=, page) 10 s each, then /metrics every 15 s for 46 s (curl, gzip and identity), with the lag of each (0: skip)
// Writes bench/results/<date>.json and .md (the markdown is also printed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestCa, issueIntermediate, issueLeaf, type KeyType } from '../src/demo/certs.js';
import type { DriverStats } from './lib/driver.js';
import type { FleetStats } from './lib/fake-fleet.js';
import { TEST_PG_PASSWORD, startPostgres, type TestPostgres } from '../test/fixtures/postgres.js';
import { summarizeHeap, takeHeapSnapshot, type HeapSnapshotJson } from './lib/heap.js';
import { cpuSeconds, forkTs, loadAverage, memory, resetPeakRss, sleep, type IpcChild } from './lib/proc.js';
import { renderMemory } from './lib/memory-report.js';
import { apiLoad, renderApiLoad } from './lib/api-load.js';
import { requireWrk } from './lib/wrk.js';
import { databaseFigures, postgresCpu, postgresFigures, watchCommits } from './lib/database-figures.js';
import { renderMarkdown, SYSTEM_ORDER, type BenchReport, type RoundFigures, type SizeReport, type SystemFigures, type SystemName } from './lib/report.js';
import { histogramQuantile, parseLagLog, parseMetrics, summarizeLag, sumOf } from './lib/stats.js';
import { lagByWindow, lagDuring, parseDurationS, renderSteady, sampleSteady, SHORT_RETENTION, type SteadyFigures } from './lib/steady.js';
import { BENCH_HOSTNAME, DEFAULT_GROUP_SIZE, SSTP_PATH, endpointLatency, installedNodeOptions, requireBlackbox, startBlackbox, startSstpwatch, targetPort, type Fleet } from './lib/systems.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    interval: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '60' },
    'warmup-others': { type: 'string', default: '10' },
    measure: { type: 'string', default: '60' },
    api: { type: 'string', default: '10' },
    'api-load': { type: 'string', default: '10' },
    scrapes: { type: 'string', default: '46' },
    systems: { type: 'string', default: 'sstpwatch,blackbox,floor' },
    key: { type: 'string', default: 'rsa' },
    ports: { type: 'string', default: '16' },
    out: { type: 'string', default: fileURLToPath(new URL('./results', import.meta.url)) },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    label: { type: 'string', default: '' },
    baseline: { type: 'string' },
    store: { type: 'string', default: 'sqlite' },
    'group-size': { type: 'string', default: String(DEFAULT_GROUP_SIZE) },
    heap: { type: 'boolean', default: false },
    steady: { type: 'string' },
    /** --steady: GET /metrics (gzip) every this many seconds, as Prometheus; 0: not scraped. */
    'steady-scrape-every': { type: 'string', default: '15' },
    retention: { type: 'string', default: 'built-in' },
    'node-args': { type: 'string', default: '' },
    'baseline-node-args': { type: 'string', default: '' },
    /** NODE_OPTIONS of sstpwatch / the baseline; default: what deploy/systemd/sstpwatch.service of its checkout sets. */
    'node-options': { type: 'string' },
    'baseline-node-options': { type: 'string' },
    /** Run the systems of each size this many times in turn; the first round's figures fill the main tables. */
    rounds: { type: 'string', default: '1' },
  },
});
const groupSize = Number(values['group-size']);
if (!(groupSize >= 1)) throw new Error('--group-size must be a positive number');
if (values.retention !== 'short' && values.retention !== 'built-in') throw new Error('--retention must be short or built-in');
const retention = values.retention === 'short' ? SHORT_RETENTION : undefined;
const keepWorkDir = values.keep || values.profile || values.heap;
const sizes = values.sizes.split(',').map(Number);
const intervalS = Number(values.interval);
const warmupS = Number(values.warmup);
const warmupOthersS = Number(values['warmup-others']);
const measureS = Number(values.measure);
const apiS = Number(values.api);
const systems = new Set(values.systems.split(','));
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number of at least 1');
const keyType = values.key as KeyType;
if (keyType !== 'rsa' && keyType !== 'ec') throw new Error('--key must be rsa or ec');
if (values.store !== 'sqlite' && values.store !== 'postgres') throw new Error('--store must be sqlite or postgres');
for (const n of [...sizes, intervalS, warmupS, measureS]) if (!(n > 0)) throw new Error('sizes and durations must be positive numbers');

const workDir = mkdtempSync(join(tmpdir(), 'sstpwatch-fleet-'));
const children: IpcChild[] = [];
const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
/** --store postgres: one PostgreSQL 15 (Debian's, fsync on, default settings) for every run, a database each. */
let postgres = null as TestPostgres | null;

async function main(): Promise<void> {
  const started = new Date();
  // The API load phases measure with wrk: without it, stop now, before minutes of warm-up.
  if (!values.steady && Number(values['api-load']) > 0) requireWrk();
  // blackbox_exporter runs after sstpwatch's minutes of warm-up and measuring: without it, stop now too.
  if (!values.steady && systems.has('blackbox')) requireBlackbox();
  log(`work dir ${workDir}; load average ${loadAverage().join(' ')}`);
  const ca = await createTestCa({ keyType });
  const intermediate = await issueIntermediate(ca, { keyType });
  const leaf = await issueLeaf(intermediate, { commonName: BENCH_HOSTNAME, dnsNames: [BENCH_HOSTNAME], keyType });
  const caFile = join(workDir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);

  const fake = forkTs(fileURLToPath(new URL('./lib/fake-fleet.ts', import.meta.url)));
  children.push(fake);
  const { ports } = await fake.request<{ ports: number[] }>({ type: 'start', ports: Number(values.ports), cert: leaf.chainPem, key: leaf.keyPem }, 'ready');
  const fleet: Fleet = { ports, caFile };
  log(`fake fleet: ${ports.length} TLS listeners (${keyType === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'}, leaf + intermediate)`);

  if (values.store === 'postgres') {
    postgres = await startPostgres({ fsync: true });
    process.env.PGPASSWORD = TEST_PG_PASSWORD; // inherited by sstpwatch: the URL in its config has no password
    log(`PostgreSQL on 127.0.0.1:${postgres.port} (${postgres.dir})`);
  }

  if (values.steady) return steady(fleet, fake, started);
  const reports: SizeReport[] = [];
  const run: Record<SystemName, (n: number, roundIndex: number) => Promise<SystemFigures>> = {
    sstpwatch: (n, roundIndex) => runSstpwatch(n, roundIndex, fleet, fake),
    baseline: (n, roundIndex) => runSstpwatch(n, roundIndex, fleet, fake, values.baseline),
    blackbox: (n, roundIndex) => runDriven('blackbox', n, roundIndex, fleet, fake, ca.certPem),
    floor: (n, roundIndex) => runDriven('floor', n, roundIndex, fleet, fake, ca.certPem),
  };
  const order = SYSTEM_ORDER.filter((name) => (name === 'baseline' ? Boolean(values.baseline) : systems.has(name)));
  for (const n of sizes) {
    const size: SizeReport = { targets: n, scheduledPerS: n / intervalS, systems: {} };
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      // Rotated so that no system always runs first (or last) in a round: the machine drifts over minutes.
      const turn = [...order.slice(roundIndex % order.length), ...order.slice(0, roundIndex % order.length)];
      const cpu: RoundFigures['cpuSecondsPer1000'] = {};
      for (const name of turn) {
        if (rounds > 1) log(`N=${n} round ${roundIndex + 1} of ${rounds}: ${name}`);
        const figures = await run[name](n, roundIndex);
        if (roundIndex === 0) size.systems[name] = figures;
        cpu[name] = figures.cpuSecondsPer1000;
      }
      if (rounds > 1) (size.rounds ??= []).push({ order: turn, cpuSecondsPer1000: cpu });
    }
    // The main tables list the systems in one order whatever the first round's was.
    size.systems = Object.fromEntries(order.filter((name) => size.systems[name]).map((name) => [name, size.systems[name]]));
    reports.push(size);
  }

  const report: BenchReport = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    label: values.label,
    machine: machine(),
    settings: { rounds, intervalS, warmupS, warmupOthersS, measureS, apiS, key: keyType === 'rsa' ? 'RSA-2048' : 'ECDSA P-256', ports: ports.length, store: values.store, groupSize, nodeArgs: values['node-args'], baselineNodeArgs: values['baseline-node-args'], nodeOptions: values['node-options'] ?? installedNodeOptions(), baselineNodeOptions: values.baseline ? (values['baseline-node-options'] ?? installedNodeOptions(values.baseline)) : undefined, command: `npm run bench -- ${process.argv.slice(2).join(' ')}` },
    sizes: reports,
  };
  mkdirSync(values.out, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace(':', '-');
  const base = join(values.out, `${stamp}${values.label ? `-${values.label}` : ''}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = `${renderMarkdown(report)}\n${renderMemory(report)}\n${renderApiLoad(report)}`;
  writeFileSync(`${base}.md`, markdown);
  console.log(markdown);
  log(`wrote ${base}.json and ${base}.md`);
}

function machine(): BenchReport['machine'] {
  const blackboxVersion = (() => {
    try {
      return /version (\S+)/.exec(execFileSync('/usr/bin/prometheus-blackbox-exporter', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))?.[1] ?? null;
    } catch (err) {
      return /version (\S+)/.exec(String((err as { stderr?: string }).stderr ?? ''))?.[1] ?? null;
    }
  })();
  return {
    nproc: cpus().length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
    node: process.version,
    blackbox: blackboxVersion,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  };
}

async function fleetStats(fake: IpcChild): Promise<FleetStats> {
  return fake.request<FleetStats>({ type: 'stats' }, 'stats');
}

function windowFigures(
  pid: number,
  before: { cpu: number; fleet: FleetStats },
  after: { cpu: number; fleet: FleetStats },
  n: number,
  load: number[],
): SystemFigures {
  const seconds = (after.fleet.at - before.fleet.at) / 1000;
  const probes = after.fleet.requests - before.fleet.requests;
  const cpu = after.cpu - before.cpu;
  const mem = memory(pid);
  return {
    windowS: round(seconds, 1),
    scheduledPerS: round(n / intervalS, 2),
    achievedPerS: round(probes / seconds, 2),
    probes,
    failures: 0,
    fleetTlsErrors: after.fleet.tlsErrors - before.fleet.tlsErrors,
    cpuSeconds: round(cpu, 2),
    cpuSecondsPer1000: probes > 0 ? round((cpu / probes) * 1000, 3) : NaN,
    fleetCpuSeconds: round(after.fleet.cpuSeconds - before.fleet.cpuSeconds, 2),
    peakRssBytes: mem.peakRss,
    rssBytes: mem.rss,
    loadAverage: load,
  };
}

/** A run's own name (its work directory, its PostgreSQL database): one per system, size and round. */
const runName = (system: string, n: number, roundIndex: number): string => `${system}-${n}${roundIndex > 0 ? `-round${roundIndex + 1}` : ''}`;

async function runSstpwatch(n: number, roundIndex: number, fleet: Fleet, fake: IpcChild, bin?: string): Promise<SystemFigures> {
  const name = bin ? 'baseline' : 'sstpwatch';
  const dir = join(workDir, runName(name, n, roundIndex));
  mkdirSync(dir);
  const profileDir = join(dir, 'profile');
  log(`N=${n} ${name}: starting`);
  const t0 = Date.now();
  const database = postgres ? postgres.url(await postgres.createDatabase(runName(name, n, roundIndex).replaceAll('-', '_'))) : undefined;
  const extraArgs = (bin ? values['baseline-node-args'] : values['node-args']).split(' ').filter(Boolean);
  const nodeArgs = [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(values.heap ? ['--heapsnapshot-signal=SIGUSR2'] : []), ...extraArgs];
  const nodeOptions = bin ? values['baseline-node-options'] : values['node-options'];
  const start = () => startSstpwatch(dir, n, fleet, intervalS, { bin, database, nodeArgs, nodeOptions, groupSize, retention });
  // One retry: on a machine shared with test suites, the free port found may be taken before sstpwatch binds it.
  const service = await start().catch((err: unknown) => {
    log(`N=${n} ${name}: did not start (${(err as Error).message.slice(0, 300)}); once more`);
    rmSync(join(dir, 'sstpwatch.db'), { force: true });
    return start();
  });
  const startupS = (Date.now() - t0) / 1000;
  let figures: SystemFigures;
  try {
    log(`N=${n} ${name}: answering after ${startupS.toFixed(1)} s; warm-up ${warmupS} s`);
    await sleep(warmupS * 1000);
    const commits = postgres ? null : watchCommits(service.database);
    const serverCpu0 = postgres ? postgresCpu(postgres) : 0;
    const before = { cpu: cpuSeconds(service.pid), fleet: await fleetStats(fake) };
    log(`N=${n} ${name}: measuring ${measureS} s`);
    await sleep(measureS * 1000);
    const after = { cpu: cpuSeconds(service.pid), fleet: await fleetStats(fake) };
    const serverCpu = postgres ? postgresCpu(postgres) - serverCpu0 : 0;
    const commitsSeen = commits?.stop();
    figures = windowFigures(service.pid, before, after, n, loadAverage());
    figures.startupS = round(startupS, 1);
    if (commitsSeen !== undefined) figures.commitsPerS = round(commitsSeen / figures.windowS, 2);
    if (postgres) figures.databaseServerCpuSecondsPer1000 = figures.probes > 0 ? round((serverCpu / figures.probes) * 1000, 3) : NaN;
    figures.peakRssProbingBytes = figures.peakRssBytes;
    // Which phase sets the whole run's peak: VmHWM reset at the start of each, read at its end.
    // The RSS each starts from too: RSS seldom falls, so a phase's peak holds what the phases before it left.
    const peaks: { phase: string; bytes: number; startBytes: number }[] = [];
    const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      resetPeakRss(service.pid);
      const startBytes = memory(service.pid).rss;
      try {
        return await run();
      } finally {
        peaks.push({ phase: name, bytes: memory(service.pid).peakRss, startBytes });
      }
    };
    figures.peakRssByPhase = peaks;
    // A /metrics that does not answer (a starved machine, a large fleet) must not lose the run's figures.
    figures.memoryBreakdown = await phase('/metrics once (memory breakdown)', () => fetchMetrics(service.baseUrl)).then(memoryBreakdown, (err: unknown) => {
      log(`N=${n} ${name}: /metrics for the memory breakdown failed: ${(err as Error).message}`);
      return {};
    });
    if (values.heap) {
      log(`N=${n} ${name}: heap snapshot`);
      figures.heapSnapshot = await phase('heap snapshot', () => takeHeapSnapshot(service.pid, dir));
      log(`N=${n} ${name}: heap snapshot ${figures.heapSnapshot}`);
    }

    log(`N=${n} ${name}: API latency under load (${apiS} s per endpoint)`);
    const apiFrom = Date.now();
    figures.api = [];
    if (apiS > 0) {
      figures.api.push(await phase('status list, 1 connection', () => endpointLatency(service.baseUrl, '/api/v1/status', apiS)));
      figures.api.push(await phase('/metrics back to back, 1 connection', () => endpointLatency(service.baseUrl, '/metrics', apiS)));
    }
    const apiTo = Date.now();
    if (Number(values['api-load']) > 0 || Number(values.scrapes) > 0) {
      log(`N=${n} ${name}: /api/v1/status with 4 connections, then /metrics every 15 s`);
      figures.apiLoad = await apiLoad(service.baseUrl, { seconds: Number(values['api-load']), scrapeS: Number(values.scrapes), filter: 'group=g0000', phase });
    }
    figures.peakRssBytes = Math.max(figures.peakRssProbingBytes, memory(service.pid).peakRss, ...peaks.map((p) => p.bytes));

    const metrics = await fetchMetrics(service.baseUrl).catch((err: unknown) => {
      log(`N=${n} ${name}: final /metrics failed (${(err as Error).message}): failures and lag histogram unknown`);
      return [] as ReturnType<typeof parseMetrics>;
    });
    figures.failures = sumOf(metrics, 'sstp_probes_total', (l) => l.result !== 'ok');
    figures.failuresScope = 'whole run';
    figures.probesWholeRun = sumOf(metrics, 'sstp_probes_total');
    figures.lagHistogram = {
      p50: round(histogramQuantile(metrics, 'sstpwatch_scheduler_lag_seconds', 0.5), 4),
      p99: round(histogramQuantile(metrics, 'sstpwatch_scheduler_lag_seconds', 0.99), 4),
    };
    await sleep(1200); // the lag log is appended once a second
    const lag = parseLagLog(readFileSync(service.lagLog, 'utf8'));
    figures.lag = roundLag(summarizeLag(lag, before.fleet.at, after.fleet.at));
    if (apiS > 0) figures.lagDuringApi = roundLag(summarizeLag(lag, apiFrom, apiTo));
    for (const phase of [...(figures.apiLoad?.status ?? []), ...(figures.apiLoad?.scrape ? [figures.apiLoad.scrape] : [])]) {
      phase.lag = roundLag(summarizeLag(lag, phase.from, phase.to));
    }
  } finally {
    const code = await service.stop();
    if (code !== 0) log(`N=${n} ${name} exited with ${code}; see ${join(dir, 'sstpwatch.log')}`);
  }
  figures.database = postgres ? await postgresFigures(postgres, service.database) : databaseFigures(service.database);
  if (figures.heapSnapshot) {
    const summary = summarizeHeap(JSON.parse(readFileSync(figures.heapSnapshot, 'utf8')) as HeapSnapshotJson, 25);
    figures.heap = { totalBytes: summary.totalBytes, byConstructor: summary.byConstructor, largest: summary.largest };
  }
  if (values.profile) {
    const profiles = existsSync(profileDir) ? readdirSync(profileDir).map((f) => join(profileDir, f)) : [];
    figures.profile = profiles[0] ?? null;
    log(`N=${n} ${name}: CPU profile ${figures.profile ?? '(none written)'}`);
  }
  log(`N=${n} ${name}: ${figures.achievedPerS}/${figures.scheduledPerS} probes/s, ${figures.cpuSecondsPer1000} CPU s/1k, lag p99 ${figures.lag?.p99}s, failures ${figures.failures}`);
  return figures;
}

async function fetchMetrics(baseUrl: string): Promise<ReturnType<typeof parseMetrics>> {
  return parseMetrics(await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(120_000) })).text());
}

/** Where the resident memory is, from sstpwatch's own process and Node.js series (prom-client's default metrics), bytes. */
function memoryBreakdown(metrics: ReturnType<typeof parseMetrics>): Record<string, number> {
  const out: Record<string, number> = {
    rss: sumOf(metrics, 'process_resident_memory_bytes'),
    heapTotal: sumOf(metrics, 'nodejs_heap_size_total_bytes'),
    heapUsed: sumOf(metrics, 'nodejs_heap_size_used_bytes'),
    external: sumOf(metrics, 'nodejs_external_memory_bytes'),
  };
  for (const sample of metrics) {
    if (sample.name === 'nodejs_heap_space_size_used_bytes') out[`used ${sample.labels.space}`] = sample.value;
    if (sample.name === 'nodejs_heap_space_size_total_bytes') out[`total ${sample.labels.space}`] = sample.value;
  }
  return out;
}

async function runDriven(mode: 'blackbox' | 'floor', n: number, roundIndex: number, fleet: Fleet, fake: IpcChild, caPem: string): Promise<SystemFigures> {
  const dir = join(workDir, runName(mode, n, roundIndex));
  mkdirSync(dir);
  const blackbox = mode === 'blackbox' ? await startBlackbox(dir, fleet.caFile) : null;
  const driver = forkTs(fileURLToPath(new URL('./lib/driver.ts', import.meta.url)));
  children.push(driver);
  try {
    const portsOf = Array.from({ length: n }, (_, i) => targetPort(fleet, i));
    await driver.request({ type: 'start', mode, ports: portsOf, intervalMs: intervalS * 1000, hostname: BENCH_HOSTNAME, path: SSTP_PATH, caPem, timeoutMs: 5000, blackboxUrl: blackbox?.baseUrl }, 'started');
    const pid = blackbox ? blackbox.pid : driver.child.pid!;
    log(`N=${n} ${mode}: warm-up ${warmupOthersS} s`);
    await sleep(warmupOthersS * 1000);
    const beforeDriver = await driver.request<DriverStats>({ type: 'stats' }, 'stats');
    const before = { cpu: cpuSeconds(pid), fleet: await fleetStats(fake) };
    log(`N=${n} ${mode}: measuring ${measureS} s`);
    await sleep(measureS * 1000);
    const after = { cpu: cpuSeconds(pid), fleet: await fleetStats(fake) };
    const afterDriver = await driver.request<DriverStats>({ type: 'stats' }, 'stats');
    const figures = windowFigures(pid, before, after, n, loadAverage());
    figures.failures = afterDriver.failed;
    figures.failuresScope = 'whole run';
    figures.probesWholeRun = afterDriver.completed;
    figures.failureSamples = afterDriver.failures;
    figures.driverMaxLateS = round(afterDriver.maxLateSeconds, 3);
    figures.driverCpuSeconds = round(afterDriver.cpuSeconds - beforeDriver.cpuSeconds, 2);
    log(`N=${n} ${mode}: ${figures.achievedPerS}/${figures.scheduledPerS} probes/s, ${figures.cpuSecondsPer1000} CPU s/1k, failures ${figures.failures}`);
    return figures;
  } finally {
    await driver.stop();
    children.splice(children.indexOf(driver), 1);
    await blackbox?.stop();
  }
}

function roundLag(lag: { samples: number; p50: number; p99: number; max: number }) {
  return { samples: lag.samples, p50: round(lag.p50, 4), p99: round(lag.p99, 4), max: round(lag.max, 4) };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** --steady: sstpwatch alone for a long run at each size, sampled every 30 s and scraped every 15 s. */
async function steady(fleet: Fleet, fake: IpcChild, started: Date): Promise<void> {
  const durationS = parseDurationS(values.steady!);
  const scrapeEveryS = Number(values['steady-scrape-every']);
  if (!(scrapeEveryS >= 0)) throw new Error('--steady-scrape-every must be a number of seconds (0: no scrapes)');
  const parts: string[] = [`# sstpwatch steady-state run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`, ''];
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const json: unknown[] = [];
  mkdirSync(values.out, { recursive: true });
  const base = join(values.out, `${started.toISOString().slice(0, 16).replace(':', '-')}-steady${values.label ? `-${values.label}` : ''}`);
  const saveJson = (runs: unknown[]) =>
    writeFileSync(`${base}.json`, `${JSON.stringify({ startedAt: started.toISOString(), finishedAt: new Date().toISOString(), runs }, null, 2)}\n`);
  for (const n of sizes) {
    const dir = join(workDir, `steady-${n}`);
    mkdirSync(dir);
    log(`N=${n} steady: starting (retention ${values.retention}, groups of ${groupSize}, /metrics every ${scrapeEveryS || '(never)'} s)`);
    const nodeArgs = values['node-args'].split(' ').filter(Boolean);
    const service = await startSstpwatch(dir, n, fleet, intervalS, { groupSize, retention, nodeArgs });
    let figures: SteadyFigures;
    try {
      figures = await sampleSteady(service.pid, service.database, {
        durationS,
        warmupS: Math.min(warmupS, durationS / 2),
        probesSoFar: async () => (await fleetStats(fake)).requests,
        log,
        scrape: { url: service.baseUrl, everyS: scrapeEveryS },
      });
    } finally {
      await service.stop();
    }
    // An hour of samples and scrapes is on disk before anything else is worked out of them.
    saveJson([...json, { targets: n, intervalS, groupSize, retention: retention ?? 'built-in', figures, lag: 'not yet summarized' }]);
    // Read once the service has stopped (its last second flushed), so parsing it costs the service nothing.
    // No file: the service never started a probe; the figures say 0 probes rather than the run failing here.
    const lag = existsSync(service.lagLog) ? parseLagLog(readFileSync(service.lagLog, 'utf8')) : [];
    const warm = figures.startedAt + figures.warmupS * 1000;
    figures.lag = {
      afterWarmup: roundLag(summarizeLag(lag, warm, Infinity)),
      duringScrapes: roundLag(summarizeLag(lagDuring(lag, figures.scrapes.filter((s) => s.from >= warm), 1000), warm, Infinity)),
      // About six stretches of whole minutes, whatever the run's length.
      byWindow: lagByWindow(lag, warm, Math.max(1, Math.round(figures.durationS / 6 / 60)) * 60_000).map((w) => ({ ...w, ...roundLag(w) })),
    };
    const load = loadAverage();
    parts.push(renderSteady(n, intervalS, figures, command), `Load average at the end: ${load.join(' ')}; machine: ${JSON.stringify(machine())}.`, '');
    json.push({ targets: n, intervalS, groupSize, retention: retention ?? 'built-in', figures, load });
  }
  saveJson(json);
  writeFileSync(`${base}.md`, parts.join('\n'));
  console.log(parts.join('\n'));
  log(`wrote ${base}.json and ${base}.md`);
}

try {
  await main();
} finally {
  for (const child of children) await child.stop();
  postgres?.destroy();
  if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  else log(`kept ${workDir}`);
}

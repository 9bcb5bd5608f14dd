// Benchmark (not a test): what a /metrics scrape costs at N targets, and what the per-target series keep in
// memory, for this checkout and optionally an older one (--baseline <checkout>), each in a child process of its own,
// one after the other in one run. No probing and no sockets: each target gets realistic results (HEAD with phases
// and a leaf certificate, health, interval, thresholds, chain checks) through the real createMetrics and
// createCertificateMetrics, then --scrapes scrapes are written by the real exposition while a 1 ms timer measures
// how long the event loop is held (what a probe due meanwhile would wait). Each checkout's exposition is used as its
// /metrics route uses it: streamed chunk by chunk where it has expositionChunks, else built as one string. Between scrapes, the share of the fleet
// a 30 s interval probes in a 15 s scrape interval (half) gets a new result.
//
// --probing <per second> keeps the event loop as busy as that many probes a second do, during the whole run: per
// probe, --probe-callbacks callbacks of (--probe-cpu-ms / callbacks) ms of CPU each, each due at a fixed rate and
// run by a 1 ms timer in the first turn of the loop after it fell due, all of them together. That is what the
// socket and TLS callbacks of real probes do to a scrape (every callback ready when the loop comes back runs
// before the scrape's next slice), without a fleet of fake servers taking the other core. Its lag (how late each
// callback ran, p99 during the scrapes) stands for the scheduler's. 333/s at 1.8 ms is 10,000 targets every 30 s
// at the CPU per probe measured in the fleet bench.
// --http serves the registry through the checkout's own /metrics route (fastify on 127.0.0.1) and scrapes it with
// curl (--compressed with --gzip, as Prometheus asks), so the socket's writes are in the measure too.
//
// Each scrape also reports the collections during it (perf_hooks), the RSS before it and its own peak (VmHWM reset
// before each), and the most Buffer memory seen meanwhile (the chunks in flight); the first scrape of the process is
// shown against the later ones. --gcs-before N runs N full collections before each scrape (what other work between
// two scrapes does to the heap and to code not run for a while: V8 drops the bytecode of functions unused for 5
// major collections); --node-args gives each child node flags (--max-semi-space-size=8, as the systemd unit sets it).
//
//   npx tsx bench/metrics.ts --targets 10000 --scrapes 5 [--gzip] [--http] [--probing 333] [--gcs-before 6] [--node-args="--max-semi-space-size=8"] [--baseline /tmp/old-checkout] [--label x]
//
// Writes bench/results/<date>-metrics[-label].json and .md (the markdown is also printed).
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { probeResult } from '../test/fixtures/domain.js';
import { withCertificate } from '../test/fixtures/metric-families.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '10000' },
    scrapes: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    label: { type: 'string', default: '' },
    /** Scrapes as Prometheus asks for them: gzipped by the checkout's own src/api/encoding.ts. */
    gzip: { type: 'boolean', default: false },
    http: { type: 'boolean', default: false },
    probing: { type: 'string', default: '0' },
    /** Full collections before each scrape: what other work between two scrapes (the API's load) does to the heap. */
    'gcs-before': { type: 'string', default: '0' },
    /** Node flags of each checkout's child, e.g. --max-semi-space-size=8 as the systemd unit sets it. */
    'node-args': { type: 'string', default: '' },
    'probe-cpu-ms': { type: 'string', default: '1.8' },
    'probe-callbacks': { type: 'string', default: '8' },
    child: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results', import.meta.url)) },
  },
});

/**
 * cpuMs: the process's CPU during the scrape, less the stand-in probing's. lagP99Ms: of the probing's callbacks during
 * the scrape. turns: ticks of a 1 ms timer during the scrape (it runs at most once a turn of the loop: about the
 * turns the scrape waited for).
 */
interface Scrape {
  wallMs: number; cpuMs: number; bytes: number; maxLoopGapMs: number; lagP99Ms: number; turns: number;
  /** RSS right before the scrape, and VmHWM over it (reset before it). */
  rssBeforeMiB?: number; peakRssMiB?: number;
  /** The most Buffer memory (process.memoryUsage().arrayBuffers) seen during the scrape: the chunks in flight. */
  maxArrayBuffersMiB?: number;
  /** Collections during the scrape (perf_hooks 'gc' entries): minor (scavenges) and major, and their pause in ms. */
  gc?: { minor: number; major: number; ms: number };
}
interface Figures { checkout: string; targets: number; heapMiB: number; rssMiB: number; peakRssMiB: number; scrapes: Scrape[]; droppedCallbacks?: number }

const MiB = 2 ** 20;
const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
/** Starts VmHWM over from the RSS now (clear_refs 5), so that each scrape's own peak is read. */
const resetPeakRss = () => writeFileSync('/proc/self/clear_refs', '5');

/** Fills a fleet in this process with the metrics code of `checkout`, scrapes it, and prints the figures. */
async function child(checkout: string, n: number, scrapes: number): Promise<void> {
  // Another checkout's code, typed as this checkout's: the calls below exist in both.
  const src = <T>(path: string) => import(pathToFileURL(join(checkout, 'src/metrics', path)).href) as Promise<T>;
  const { Registry } = await import('prom-client');
  const { createMetrics } = await src<typeof import('../src/metrics/metrics.js')>('metrics.ts');
  const { createCertificateMetrics } = await src<typeof import('../src/metrics/certificates.js')>('certificates.ts');
  // What the checkout's /metrics route does: stream the chunks where it has them, else build the whole string.
  const exposition = await src<{
    expositionChunks?: (registry: unknown) => AsyncIterable<string | Uint8Array>;
    renderExposition: (registry: unknown) => Promise<string>;
  }>('exposition.ts');
  const encoding = values.gzip
    ? await import(pathToFileURL(join(checkout, 'src/api/encoding.ts')).href) as { gzipChunks: (chunks: AsyncIterable<Buffer>, level: number) => AsyncIterable<Buffer> }
    : null;
  const scrape = async (registry: unknown): Promise<number> => {
    if (!exposition.expositionChunks) return Buffer.byteLength(await exposition.renderExposition(registry));
    const chunks = exposition.expositionChunks(registry) as AsyncIterable<Buffer>;
    let bytes = 0;
    // Level 1, as routes/metrics.ts serves it.
    for await (const chunk of encoding ? encoding.gzipChunks(chunks, 1) : chunks) bytes += Buffer.byteLength(chunk);
    return bytes;
  };
  const scrapeOverHttp = async (registry: unknown) => {
    const { default: Fastify } = await import('fastify');
    const { metricsRoutes } = await import(pathToFileURL(join(checkout, 'src/api/routes/metrics.ts')).href) as { metricsRoutes: never };
    const app = Fastify();
    await app.register(metricsRoutes, { deps: { registry } } as never);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const curl = promisify(execFile);
    const scrape = async () => {
      const { stdout } = await curl('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download}', ...(values.gzip ? ['-H', 'accept-encoding: gzip'] : []), `${address}/metrics`]);
      return Number(stdout);
    };
    return { scrape, close: () => app.close() };
  };
  const gc = globalThis.gc!;
  gc();
  const base = process.memoryUsage().heapUsed;
  const registry = new Registry();
  const metrics = createMetrics(registry, { processMetrics: false });
  const certificates = createCertificateMetrics(registry);
  const now = Date.now();
  const labelsOf = (i: number) => ({ target: `rras-${String(i).padStart(5, '0')}.vpn.example.com`, group: `g${String(Math.floor(i / 10)).padStart(4, '0')}`, role: 'server' as const });
  const result = (i: number, round: number) => withCertificate(probeResult(now + round * 30_000, i % 97 !== 0, undefined, 8 + (i % 40)), now);
  for (let i = 0; i < n; i++) {
    const labels = labelsOf(i);
    metrics.setProbeInterval(labels, 30);
    metrics.setThresholds(labels, { certificates: { warnDays: 21, criticalDays: 7 }, slowThresholdMs: 1000 });
    metrics.observe('head', labels, result(i, 0));
    metrics.setHealth(labels, { state: 'up', since: now, consecutiveFailures: 0, consecutiveSuccesses: 2, lastResult: null, maintenance: null, underlying: 'up' });
    certificates.setChain(labels, { serverAuthEku: true, nameMatchesHostname: true, chainTrusted: true, chainError: null, earliestExpiry: { notAfter: now + 90 * 86_400_000, position: 'leaf', subject: 'CN=x', sha256: 'AB' } }, null);
  }
  for (let g = 0; g < n / 10; g++) metrics.setGroup(`g${String(g).padStart(4, '0')}`, { state: 'ok', serversUp: 10, serversTotal: 10 });
  const figures: Figures = { checkout, targets: n, heapMiB: 0, rssMiB: 0, peakRssMiB: 0, scrapes: [] };
  const { scrape: viaHttp, close: closeHttp } = values.http ? await scrapeOverHttp(registry) : { scrape: null, close: null };
  const probing = standInProbing(Number(values.probing), Number(values['probe-cpu-ms']), Number(values['probe-callbacks']));
  await new Promise((done) => setTimeout(done, 1000)); // the probing's pace set before the first scrape
  let runPeak = peakRss(); // VmHWM is reset before each scrape: the run's peak is the largest of each stretch's
  for (let s = 0; s < scrapes; s++) {
    runPeak = Math.max(runPeak, peakRss());
    for (let i = s % 2; i < n; i += 2) metrics.observe('head', labelsOf(i), result(i, s + 1));
    for (let g = 0; g < Number(values['gcs-before']); g++) gc();
    resetPeakRss();
    const rssBefore = process.memoryUsage().rss;
    const collections = { minor: 0, major: 0, ms: 0 };
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as unknown as { detail: { kind: number } }).detail.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) collections.major++;
        else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) collections.minor++;
        collections.ms += entry.duration;
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    let maxGap = 0;
    let turns = 0;
    let maxArrayBuffers = process.memoryUsage().arrayBuffers;
    let last = performance.now();
    const timer = setInterval(() => {
      turns++;
      if (turns % 5 === 0) maxArrayBuffers = Math.max(maxArrayBuffers, process.memoryUsage().arrayBuffers);
      const t = performance.now();
      maxGap = Math.max(maxGap, t - last);
      last = t;
    }, 1);
    probing.startWindow();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const bytes = viaHttp ? await viaHttp() : await scrape(registry);
    const wallMs = performance.now() - started;
    await new Promise((done) => setImmediate(done)); // the observer's last entries delivered
    gcObserver.disconnect();
    const used = process.cpuUsage(cpu);
    clearInterval(timer);
    const window = probing.endWindow();
    maxGap = Math.max(maxGap, performance.now() - last); // the hold that ended the scrape, if no tick came after it
    const cpuMs = (used.user + used.system) / 1000 - window.cpuMs;
    runPeak = Math.max(runPeak, peakRss());
    figures.scrapes.push({ wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs), bytes, maxLoopGapMs: Math.round(maxGap), lagP99Ms: Math.round(window.lagP99Ms), turns, rssBeforeMiB: Math.round(rssBefore / MiB), peakRssMiB: Math.round(peakRss() / MiB), maxArrayBuffersMiB: Math.round((maxArrayBuffers / MiB) * 10) / 10, gc: { ...collections, ms: Math.round(collections.ms) } });
    await new Promise((done) => setTimeout(done, 200)); // the probing catches up between scrapes
  }
  figures.droppedCallbacks = probing.stop();
  await closeHttp?.();
  gc();
  figures.heapMiB = Math.round(((process.memoryUsage().heapUsed - base) / MiB) * 10) / 10;
  // The registry read after the measure: until then it is live, or the collection above would have freed the fleet.
  if (registry.getMetricsAsArray().length === 0) throw new Error('the registry lost its metrics');
  figures.rssMiB = Math.round(process.memoryUsage().rss / MiB);
  figures.peakRssMiB = Math.round(Math.max(runPeak, peakRss()) / MiB);
  process.stdout.write(JSON.stringify(figures));
}

/** A 99th percentile (0 for none). */
const p99 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]! : 0);

/**
 * Keeps the loop busy as `perSecond` probes do (see the header): callbacks due at a fixed rate, each doing a fixed
 * amount of work (SHA-256 of a buffer sized at start to take its share of a probe's CPU: a fixed amount of work,
 * not of wall time, so a loaded machine slows it as it slows TLS), run by a 1 ms timer in the first turn after
 * they fell due. More than a second behind, the oldest are dropped (counted), as a scheduler past its capacity would.
 */
function standInProbing(perSecond: number, cpuMsPerProbe: number, callbacksPerProbe: number) {
  const rate = perSecond * callbacksPerProbe; // callbacks a second
  const work = calibrate(cpuMsPerProbe / callbacksPerProbe);
  const start = performance.now();
  let done = 0;
  let dropped = 0;
  let lags: number[] = [];
  let spent = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const owed = Math.floor(((performance.now() - start) * rate) / 1000);
    if (owed - done > rate) {
      dropped += owed - done - rate;
      done = owed - rate;
    }
    if (done < owed) {
      const cpu = process.cpuUsage();
      for (; done < owed; done++) {
        lags.push(performance.now() - (start + (done * 1000) / rate));
        work();
      }
      const used = process.cpuUsage(cpu);
      spent += (used.user + used.system) / 1000;
    }
    timer = setTimeout(tick, 1);
  };
  if (rate > 0) tick();
  return {
    startWindow() {
      lags = [];
      spent = 0;
    },
    endWindow: () => ({ lagP99Ms: p99(lags), cpuMs: spent }),
    stop() {
      clearTimeout(timer);
      return dropped;
    },
  };
}

/** A function that does `ms` of CPU work (the fastest of a few timed runs, so a busy machine does not shrink it). */
function calibrate(ms: number): () => void {
  const block = Buffer.alloc(64 * 1024, 7);
  const hash = (blocks: number) => {
    for (let i = 0; i < blocks; i++) createHash('sha256').update(block).digest();
  };
  let fastest = Infinity;
  for (let run = 0; run < 20; run++) {
    const t = performance.now();
    hash(20);
    fastest = Math.min(fastest, (performance.now() - t) / 20);
  }
  const blocks = Math.max(1, Math.round(ms / fastest));
  return () => hash(blocks);
}

function run(checkout: string): Figures {
  const output = execFileSync(process.execPath, [...values['node-args'].split(' ').filter(Boolean), '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', checkout, '--targets', values.targets, '--scrapes', values.scrapes, '--probing', values.probing, '--probe-cpu-ms', values['probe-cpu-ms'], '--probe-callbacks', values['probe-callbacks'], '--gcs-before', values['gcs-before'], ...(values.gzip ? ['--gzip'] : []), ...(values.http ? ['--http'] : [])], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    maxBuffer: 16 * MiB,
  });
  return JSON.parse(output) as Figures;
}

function markdown(runs: Figures[], load: number[][], started: Date): string {
  const rows = runs.map((f) => {
    const s = f.scrapes;
    const list = (pick: (x: Scrape) => number) => s.map(pick).join(', ');
    const median = (pick: (x: Scrape) => number) => [...s.map(pick)].sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
    return `| ${f.checkout} | **${median((x) => x.wallMs)}** / ${median((x) => x.cpuMs)} / ${median((x) => x.maxLoopGapMs)} / ${median((x) => x.lagP99Ms)} | ${list((x) => x.cpuMs)} | ${list((x) => x.wallMs)} | ${list((x) => x.maxLoopGapMs)} | ${list((x) => x.lagP99Ms)} | ${list((x) => x.turns)} | ${(s.at(-1)!.bytes / 1e6).toFixed(1)} MB (${Math.round(s.at(-1)!.bytes / f.targets)} B/target) | ${f.droppedCallbacks ?? 0} | ${f.heapMiB} MiB | ${f.rssMiB} / ${f.peakRssMiB} MiB |`;
  });
  return [
    `# /metrics at ${Number(values.targets).toLocaleString('en')} targets${values.gzip ? ', gzipped' : ''}${values.http ? ', over HTTP (curl)' : ''}${Number(values.probing) > 0 ? `, while ${values.probing} stand-in probes/s run (${values['probe-cpu-ms']} ms CPU in ${values['probe-callbacks']} callbacks each)` : ''} (${started.toISOString()})`,
    '',
    `${cpus().length} CPUs, Node ${process.version}, load average before each run: ${load.map((l) => l.map((x) => x.toFixed(1)).join(' ')).join('; ')}.`,
    `One process per checkout${Number(values.probing) > 0 ? '' : ', no probing'}: half of the fleet gets a new result before each scrape (a 30 s interval, a 15 s scrape interval).${Number(values.probing) > 0 ? ' Scrape CPU is the process\'s less the stand-in probing\'s; lag is how late the probing\'s callbacks ran during the scrape.' : ''}`,
    '',
    '| checkout | median wall / CPU / longest hold / lag p99 ms | scrape CPU ms (each) | scrape wall ms (each) | longest event-loop hold ms (each) | lag p99 ms (each) | loop turns (each) | body | probing callbacks dropped (over 1 s late) | heap kept by the metrics | RSS / peak RSS |',
    '|---|---|---|---|---|---|---|---|---:|---:|---|',
    ...rows,
    '',
    'The first scrape of a process against the later ones (JIT warm-up), and what each scrape collected and held: collections during it',
    '(minor / major, pause ms), RSS right before it -> its own peak (VmHWM reset before it), and the most Buffer memory seen meanwhile',
    '(the chunks in flight, process.memoryUsage().arrayBuffers).',
    '',
    '| checkout | first scrape wall / CPU ms | later scrapes median wall / CPU ms | collections minor / major / ms (each) | RSS before -> peak MiB (each) | Buffers in flight, most MiB (each) |',
    '|---|---|---|---|---|---|',
    ...runs.map((f) => {
      const [first, ...later] = f.scrapes;
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      const each = (pick: (x: Scrape) => string) => f.scrapes.map(pick).join(', ');
      return `| ${f.checkout} | ${first!.wallMs} / ${first!.cpuMs} | ${median(later.map((x) => x.wallMs))} / ${median(later.map((x) => x.cpuMs))} | ${each((x) => (x.gc ? `${x.gc.minor}/${x.gc.major}/${x.gc.ms}` : '?'))} | ${each((x) => `${x.rssBeforeMiB ?? '?'}->${x.peakRssMiB ?? '?'}`)} | ${each((x) => `${x.maxArrayBuffersMiB ?? '?'}`)} |`;
    }),
    '',
  ].join('\n');
}

if (values.child) {
  await child(resolve(values.child), Number(values.targets), Number(values.scrapes));
} else {
  const started = new Date();
  const checkouts = [fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''), ...(values.baseline ? [resolve(values.baseline)] : [])];
  const runs: Figures[] = [];
  const load: number[][] = [];
  for (const checkout of checkouts) {
    load.push(loadavg());
    runs.push(run(checkout));
  }
  const md = markdown(runs, load, started);
  const name = `${started.toISOString().slice(0, 16).replace(':', '-')}-metrics${values.label ? `-${values.label}` : ''}`;
  writeFileSync(join(values.out, `${name}.json`), `${JSON.stringify({ started, load, runs }, null, 2)}\n`);
  writeFileSync(join(values.out, `${name}.md`), md);
  console.log(md);
}

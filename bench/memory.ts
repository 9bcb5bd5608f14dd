// Benchmark (not a test): what sstpwatch itself keeps in memory per target, apart from TLS and the machine's CPU.
// The real service (createService: monitor, certificate monitor, metrics, SQLite store, housekeeping, API built
// but not listening) runs N targets every --interval s, but each probe is answered by a stand-in that returns a
// copy of one real result: a real TLS probe of a fake RRAS server (RSA-2048 leaf + intermediate) made at the start,
// with a fresh time, duration and phases, and the transport's shared certificate and chain, as a real probe's.
// So what is measured is what results cost once the socket has closed, on a machine too busy for 10,000 real
// probes every 30 s (the fleet benchmark measures those; its RSS adds the sockets in flight).
//
//   node [--max-semi-space-size=8 ...] --import tsx bench/memory.ts --targets 10000 --warmup 60 --measure 60 [--heap]
//   ... bench/memory.ts --targets 10000 --api 10    # then the fleet bench's API load (bench/lib/api-load.ts, run
//                                                   # by a child process), the peak RSS and memory of each phase
//   ... --api 10 --heap --heap-phases "identity,/metrics" [--heap-after 4]   # also a heap snapshot that many seconds
//                                                   # into each phase named (its writing inflates that phase's RSS)
//
// Prints (and writes with --out) RSS, peak RSS, V8 heap by space, external memory and, with --heap, a heap
// snapshot's summary by owner; node flags go before --import and are stated in the output.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.js';
import { createTestCa, issueIntermediate, issueLeaf } from '../src/demo/certs.js';
import { startFakeRras } from '../src/demo/fake-rras.js';
import { createProbes } from '../src/probe/checks.js';
import type { ProbeResult } from '../src/probe/types.js';
import { createService } from '../src/service.js';
import { summarizeHeap, type HeapSnapshotJson } from './lib/heap.js';
import { freePort } from './lib/proc.js';
import { BENCH_HOSTNAME, DEFAULT_GROUP_SIZE } from './lib/systems.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '60' },
    measure: { type: 'string', default: '60' },
    heap: { type: 'boolean', default: false },
    /** Seconds per API load phase after the window (0: none); /metrics is then scraped every 15 s for 46 s. */
    api: { type: 'string', default: '0' },
    /** With --api: a heap snapshot this many seconds into each phase whose name contains one of these (comma-separated). */
    'heap-phases': { type: 'string', default: '' },
    'heap-after': { type: 'string', default: '5' },
    out: { type: 'string' },
  },
});
const n = Number(values.targets);
const intervalS = Number(values.interval);
const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function procStatus(): { rss: number; peak: number; anon: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), anon: kb('RssAnon') };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function sample() {
  const mem = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: mib(s.space_used_size), size: mib(s.space_size) }]));
  return { ...procStatus(), heapTotal: mem.heapTotal, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers, spaces };
}

/**
 * The fleet bench's API load (api-load.ts), run by a child so that its clients' memory is not counted here, while
 * this process samples its own memory every 250 ms; VmHWM is reset at the start of each phase.
 */
async function apiPhases(service: { app: { listen(o: { host: string; port: number }): Promise<unknown> } }, port: number, seconds: number) {
  await service.app.listen({ host: '127.0.0.1', port });
  const script = `import { apiLoad } from ${JSON.stringify(new URL('./lib/api-load.ts', import.meta.url).href)};
    const r = await apiLoad('http://127.0.0.1:${port}', { seconds: ${seconds}, scrapeS: 46, filter: 'group=g0000',
      phase: async (name, run) => { process.send({ phase: name }); try { return await run(); } finally { process.send({ phase: null }); } } });
    process.send({ done: r }); process.disconnect();`;
  writeFileSync(join(dir, 'api-load-child.mts'), script);
  const child = fork(join(dir, 'api-load-child.mts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const phases: { phase: string; samples: ReturnType<typeof sample>[]; snapshot?: string }[] = [];
  const heapPhases = values['heap-phases'].split(',').map((p) => p.trim()).filter(Boolean);
  let current: (typeof phases)[number] | null = null;
  child.on('message', (m: { phase?: string | null }) => {
    if (m.phase === undefined) return;
    current?.samples.push(sample());
    current = m.phase === null ? null : { phase: m.phase, samples: [] };
    if (current) {
      writeFileSync('/proc/self/clear_refs', '5');
      phases.push(current);
      const wanted = heapPhases.some((p) => current!.phase.includes(p));
      if (wanted) {
        const named = current;
        setTimeout(() => {
          if (current !== named) return;
          named.snapshot = v8.writeHeapSnapshot(join(dir, `phase-${phases.length}.heapsnapshot`));
        }, Number(values['heap-after']) * 1000);
      }
    }
  });
  const timer = setInterval(() => current?.samples.push(sample()), 250);
  await new Promise((resolve, reject) => child.on('exit', resolve).on('error', reject));
  clearInterval(timer);
  return phases.map(({ phase, samples, snapshot }) => {
    const max = (pick: (s: ReturnType<typeof sample>) => number): number => mib(Math.max(...samples.map(pick)));
    const spaceMax = Object.fromEntries(Object.keys(samples[0]?.spaces ?? {}).map((name) => [name, max((s) => (s.spaces[name]?.size ?? 0) * 1048576)]));
    return { phase, peakRss: max((s) => s.peak), rssMax: max((s) => s.rss), anonMax: max((s) => s.anon), heapTotalMax: max((s) => s.heapTotal), heapUsedMax: max((s) => s.heapUsed), externalMax: max((s) => s.external), arrayBuffersMax: max((s) => s.arrayBuffers), spaceSizeMax: spaceMax, snapshot };
  });
}

const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-memory-'));
const ca = await createTestCa({ keyType: 'rsa' });
const intermediate = await issueIntermediate(ca, { keyType: 'rsa' });
const leaf = await issueLeaf(intermediate, { commonName: BENCH_HOSTNAME, dnsNames: [BENCH_HOSTNAME], keyType: 'rsa' });
writeFileSync(join(dir, 'ca.pem'), ca.certPem);
const rras = await startFakeRras({ tls: { cert: leaf.chainPem, key: leaf.keyPem } });

const apiS = Number(values.api);
const apiPort = apiS > 0 ? await freePort() : 9;
const lines = [
  `listen: "127.0.0.1:${apiPort}"`, // listened on only with --api; otherwise the API is built, not started
  `database: ${JSON.stringify(join(dir, 'sstpwatch.db'))}`,
  'auth: { token_env: null }',
  'defaults:',
  `  interval: ${intervalS}s`,
  '  timeout: 5s',
  `  tls: { verify: true, ca_file: ${JSON.stringify(join(dir, 'ca.pem'))} }`,
  'groups:',
];
for (let g = 0; g * DEFAULT_GROUP_SIZE < n; g++) {
  lines.push(`  - name: g${String(g).padStart(4, '0')}`, `    hostname: ${BENCH_HOSTNAME}`, '    servers:');
  for (let i = g * DEFAULT_GROUP_SIZE; i < Math.min(n, (g + 1) * DEFAULT_GROUP_SIZE); i++) lines.push(`      - { name: t${String(i).padStart(5, '0')}, url: "${rras.url}" }`);
}
const config = parseConfig(`${lines.join('\n')}\n`, { baseDir: dir });

// One real probe: its certificate and chain objects are the transport's, shared by every result as in service.
const real = createProbes();
const template = await real.head(config.targets[0]!);
if (!template.ok || !template.chain) throw new Error(`the real probe of the fake RRAS failed: ${template.message}`);
await rras.close();

const standIn = async (): Promise<ProbeResult> => {
  await new Promise((resolve) => setImmediate(resolve));
  const connect = Math.round(Math.random() * 10) / 10;
  return {
    ...template,
    at: Date.now(),
    message: `HTTP/1.1 ${template.statusCode} Unauthorized`,
    durationMs: 3 + connect,
    phasesMs: { dns: 0, connect, tls: 2.1, processing: 0.4 },
    tlsVersion: 'TLSv1.3'.slice(0),
  };
};

const service = await createService(config, { log: pino({ level: 'warn' }), probes: { head: standIn } });
const before = sample();
await service.start();
const started = Date.now();
await sleep(Number(values.warmup) * 1000);
const cpu0 = cpuSeconds();
const probes0 = service.scheduler.stats().started;
const samples: (ReturnType<typeof sample> & { t: number })[] = [];
for (let t = 0; t < Number(values.measure); t += 5) {
  await sleep(5000);
  samples.push({ t: Math.round((Date.now() - started) / 1000), ...sample() });
}
const probes = service.scheduler.stats().started - probes0;
const cpu = cpuSeconds() - cpu0;
const end = sample();
const summary = (file: string) => {
  const h = summarizeHeap(JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotJson, 40);
  return { reachable: mib(h.totalBytes), byOwner: h.byOwner.slice(0, 15).map((o) => ({ owner: o.owner, mib: mib(o.self), kinds: o.kinds })), largest: h.largest.slice(0, 15).map((o) => `${mib(o.retained)} MiB ${o.path}`) };
};
// Written now (after the window, before any API load), summarised once the service has stopped.
const heapFile = values.heap ? v8.writeHeapSnapshot(join(dir, 'memory.heapsnapshot')) : null;
const api = apiS > 0 ? await apiPhases(service, apiPort, apiS) : null;
await service.stop();
const heap = heapFile ? summarizeHeap(JSON.parse(readFileSync(heapFile, 'utf8')) as HeapSnapshotJson, 40) : null;
const phaseHeaps = (api ?? []).filter((p) => p.snapshot).map((p) => ({ phase: p.phase, heap: summary(p.snapshot!) }));
rmSync(dir, { recursive: true, force: true });

const maxOf = (pick: (s: (typeof samples)[number]) => number): number => Math.max(...samples.map(pick));
const report = {
  targets: n,
  intervalS,
  nodeFlags: process.execArgv.filter((a) => a !== '--import' && !a.includes('tsx')),
  probes,
  probesPerS: Math.round((probes / Number(values.measure)) * 10) / 10,
  cpuSecondsPer1000: Math.round((cpu / probes) * 1000 * 1000) / 1000,
  /** After the config was parsed and the service created (every target's state read back), before probing. */
  afterStart: { rss: mib(before.rss), peakRss: mib(before.peak), heapTotal: mib(before.heapTotal), heapUsed: mib(before.heapUsed) },
  peakRss: mib(end.peak),
  rssMax: mib(maxOf((s) => s.rss)),
  heapTotalMax: mib(maxOf((s) => s.heapTotal)),
  heapUsedMax: mib(maxOf((s) => s.heapUsed)),
  externalMax: mib(maxOf((s) => s.external)),
  end: { rss: mib(end.rss), heapTotal: mib(end.heapTotal), heapUsed: mib(end.heapUsed), external: mib(end.external), spaces: end.spaces },
  api: api?.map(({ snapshot: _file, ...p }) => p) ?? null,
  phaseHeaps,
  heap: heap && { reachable: mib(heap.totalBytes), byOwner: heap.byOwner.slice(0, 15).map((o) => ({ owner: o.owner, mib: mib(o.self), kinds: o.kinds })), largest: heap.largest.map((o) => `${mib(o.retained)} MiB ${o.path}`) },
};
console.log(JSON.stringify(report, null, 2));
if (api) console.error(api.map((p) => `${p.phase}: peak RSS ${p.peakRss} MiB, RSS max ${p.rssMax} (anon ${p.anonMax}), heap total max ${p.heapTotalMax}, external max ${p.externalMax}`).join('\n'));
if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
process.exit(0);

// Benchmark (not a test): GET /api/v1/status at 10,000 targets, the API alone (no probing, no database: the
// live state is built here) while results keep coming as the monitor gives them (33 every 100 ms: 10,000 targets
// every 30 s). wrk (bench/lib/wrk.ts: a C client in its own process, 4 connections over loopback) asks for the full list, ?group=, the
// gzipped list and ?state=down in turn; reported per phase: requests, latency p50/p99/max, this process's CPU per
// request, the event loop's delay meanwhile (what a probe due then would wait) and the peak RSS so far. The gzip
// phase comes first (what clients send), identity after it (so its buffers do not count in the gzip phase's RSS).
// bench/fleet.ts --api-load
// measures the same with the real service probing a fake fleet; this one still says something on a loaded machine.
// Two controls under the same churn tell what the list itself adds: `healthz` (the same 4 connections on a trivial
// endpoint of the same app) and `fixed` (a plain node:http server in this process sending a fixed buffer the size
// of the gzipped list, prepared once): a p99 or a loop delay they show too is the process's, not the list's.
//   npx tsx bench/status-list.ts [--targets 10000] [--seconds 10] [--phases gzip,identity,group,state,limit,healthz,fixed,poll]
// Run from an older checkout (copy this file into its bench/) to compare.
import { createServer, get } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { groupHealth } from '../src/health/group.js';
import type { GroupView, StatusSource, TargetView } from '../src/health/views.js';
import type { ProbeResult } from '../src/probe/types.js';
import { buildTestApp } from '../test/fixtures/app.js';
import { probeResult, targetConfig, targetHealth, targetView } from '../test/fixtures/domain.js';
import { requireWrk, runWrk, socketErrorCount } from './lib/wrk.js';

const { values } = parseArgs({ options: { targets: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '10' }, phases: { type: 'string', default: 'gzip,identity,group,state,limit' } } });
const PHASES = new Set(values.phases.split(','));
requireWrk();
const N = Number(values.targets);
const SECONDS = Number(values.seconds);
const GROUP = 10;

function result(at: number, i: number): ProbeResult {
  return {
    ...probeResult(at, true),
    message: 'HTTP/1.1 401 Unauthorized', statusCode: 401, httpVersion: '1.1', durationMs: 5 + (i % 7) / 3,
    phasesMs: { dns: 0.1, connect: 0.4, tls: 4.1, processing: 0.7 }, tlsVersion: 'TLSv1.3', certificateSha256: 'AB'.repeat(32),
    certificate: {
      subject: 'CN=vpn.bench.test', issuer: 'CN=Bench Intermediate', san: ['vpn.bench.test'], notBefore: at - 86_400_000,
      notAfter: at + 90 * 86_400_000, sha256: 'AB'.repeat(32), keyType: 'RSA', keyBits: 2048,
    },
  };
}

const views: TargetView[] = [];
const groups: GroupView[] = [];
for (let g = 0; g < N / GROUP; g++) {
  const name = `g${String(g).padStart(4, '0')}`;
  const servers: string[] = [];
  for (let s = 0; s < GROUP; s++) {
    const config = targetConfig(`${name}-rras-${s}`, undefined, { group: name, hostname: 'vpn.bench.test', url: `https://127.0.0.1:${10000 + s}/` });
    servers.push(config.name);
    const r = result(Date.now(), views.length);
    views.push(targetView(config, targetHealth('up', { lastResult: r, consecutiveSuccesses: 3, since: Date.now() }), { head: r }));
  }
  groups.push({ config: { name, hostname: 'vpn.bench.test', servers, vip: null }, health: groupHealth(servers.map(() => 'up'), null) });
}
const status: StatusSource = { targets: () => [...views], target: (name) => views.find((v) => v.config.name === name), groups: () => [...groups] };
const app = await buildTestApp({ status });
console.log(`live state of ${N} targets built; RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB`);

// The scheduler spreads targets over the interval by a hash of their name (src/scheduler/plan.ts): results land at
// scattered places in the list, not in config order. A fixed shuffle (seeded) stands for that.
const order = Array.from({ length: N }, (_, i) => i);
for (let i = N - 1, seed = 1; i > 0; i--) {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  const j = seed % (i + 1);
  [order[i], order[j]] = [order[j]!, order[i]!];
}
let next = 0;
const churn = setInterval(() => {
  // 33 results every 100 ms, as the monitor gives them: a new health object carrying the new result.
  for (let k = 0; k < N / 300; k++) {
    const view = views[order[next++ % N]!]!;
    const r = result(Date.now(), next);
    view.health = { ...view.health, lastResult: r, consecutiveSuccesses: view.health.consecutiveSuccesses + 1 };
    view.lastResults = { head: r };
  }
}, 100);


async function phase(name: string, url: string, headers: Record<string, string>, origin = base) {
  // One request first, as bench/lib/api-load.ts does: the phase measures a list in use, not its first build.
  await (await fetch(origin + url, { headers: { 'accept-encoding': 'identity', ...headers } })).arrayBuffer();
  // Then 2 s of the same load, its figures dropped, so the measured run starts on a list polled continuously.
  await runWrk(origin + url, { seconds: 2, connections: 4, headers });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const cpu = process.cpuUsage();
  const r = await runWrk(origin + url, { seconds: SECONDS, connections: 4, headers });
  const used = process.cpuUsage(cpu);
  delay.disable();
  const ms = (v: number) => `${Math.round(v)} ms`;
  console.log(
    `| ${name} | ${r.requests} | ${ms(r.p50Ms)} / ${ms(r.p99Ms)} / ${ms(r.maxMs)} | ${((used.user + used.system) / 1000 / Math.max(1, r.requests)).toFixed(2)} ms | ` +
      `${(r.bytesRead / Math.max(1, r.requests) / 1e6).toFixed(2)} MB | ${r.non2xx + socketErrorCount(r)} | ${ms(delay.percentile(99) / 1e6)} / ${ms(delay.max / 1e6)} | ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB |`,
  );
}

const base = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`N = ${N}, ${SECONDS} s per phase, 4 connections, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| phase | requests | p50 / p99 / max | CPU / request | bytes / response | errors | event loop delay p99 / max | peak RSS so far |');
console.log('|---|---:|---|---:|---:|---:|---|---:|');
// gzip first: it is what clients send (browsers, Grafana, curl --compressed, requests, fetch); identity beside it.
if (PHASES.has('gzip')) await phase('/api/v1/status (gzip, as clients ask)', '/api/v1/status', { 'accept-encoding': 'gzip' });
if (PHASES.has('identity')) await phase('/api/v1/status (identity: no Accept-Encoding)', '/api/v1/status', {});
if (PHASES.has('group')) await phase('/api/v1/status?group=g0000', '/api/v1/status?group=g0000', {});
if (PHASES.has('state')) await phase('/api/v1/status?state=down', '/api/v1/status?state=down', {});
if (PHASES.has('limit')) await phase('/api/v1/status?limit=500 (first page)', '/api/v1/status?limit=500', {});
if (PHASES.has('healthz')) await phase('control: /healthz', '/healthz', {});
if (PHASES.has('poll')) {
  // CPU time, not wall time (robust on a loaded machine): a client polling the gzipped list 4 times a second makes
  // the service build a version a second; the same seconds with no client (results still arriving) are the control.
  const cpuPerSecond = async (poll: boolean) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    while (performance.now() - started < SECONDS * 1000) {
      // node:http, not fetch: fetch would gunzip the body here, on this process's CPU.
      if (poll) await new Promise((resolve, reject) => get(base + '/api/v1/status', { headers: { 'accept-encoding': 'gzip' } }, (res) => res.resume().on('end', resolve)).on('error', reject));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / ((performance.now() - started) / 1000);
  };
  const idle = await cpuPerSecond(false);
  const polled = await cpuPerSecond(true);
  console.log(`| polled 4/s, gzip: CPU per second minus the same without a client | | ${Math.round(polled)} - ${Math.round(idle)} = **${Math.round(polled - idle)} ms/s** | | | | | |`);
}
if (PHASES.has('fixed')) {
  // fetch decodes gzip: gzip the identity body here, about the bytes the list sends.
  const gzipped = gzipSync(Buffer.from(await (await fetch(base + '/api/v1/status', { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()), { level: 1 });
  const fixed = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': gzipped.length }).end(gzipped));
  await new Promise<void>((resolve) => fixed.listen(0, '127.0.0.1', resolve));
  const { port } = fixed.address() as { port: number };
  await phase(`control: a fixed ${(gzipped.length / 1e6).toFixed(2)} MB buffer (node:http)`, '/', {}, `http://127.0.0.1:${port}`);
  fixed.close();
}
clearInterval(churn);
await app.close();

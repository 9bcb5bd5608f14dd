// Benchmark (not a test): CPU per probe of two sstpwatch builds side by side, at the same time, on a loaded machine.
// Each build probes N targets every --interval s of its own fake RRAS fleet (bench/lib/fake-fleet.ts, a child
// process each, so each build's probes are counted apart); after --warmup s, --windows windows of --window s, and in
// each the CPU of both builds from /proc and the probes their fleets answered. Both share whatever else loads the
// machine in the same seconds, so their ratio means something where their absolute figures do not.
//
//   npx tsx bench/cpu-pair.ts --baseline /tmp/old/bin/sstpwatch.js --targets 100 [--interval 30] [--windows 6 --window 30]
//   npx tsx bench/cpu-pair.ts --baseline ... --targets 100 --interval 3600   # idle cost: nothing due, CPU per second
//   npx tsx bench/cpu-pair.ts ... --floor     # a third process at the same time: the floor (a bare Node loop of the same probes)
//   npx tsx bench/cpu-pair.ts ... --profile   # also --cpu-prof of both (work dir kept; bench/profile-summary.ts reads them)
//   npx tsx bench/cpu-pair.ts ... --node-args="--trace-gc" --keep   # node flags for this build (--baseline-node-args: the other's)
//   npx tsx bench/cpu-pair.ts ... --variant "maglev=--maglev" --variant "lazy=--max-lazy"   # more copies of this build at
//                                 the same time, each with its own node flags and fleet (V8 flags compared side by side)
// A build is a checkout's bin/sstpwatch.js with its dist/ built (`npm run build`).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestCa, issueIntermediate, issueLeaf } from '../src/demo/certs.js';
import type { FleetStats } from './lib/fake-fleet.js';
import { cpuSeconds, forkTs, loadAverage, sleep, type IpcChild } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import { BENCH_HOSTNAME, SSTP_PATH, startSstpwatch, targetPort, type Fleet } from './lib/systems.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    build: { type: 'string', default: fileURLToPath(new URL('../bin/sstpwatch.js', import.meta.url)) },
    targets: { type: 'string', default: '100' },
    interval: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '40' },
    window: { type: 'string', default: '30' },
    windows: { type: 'string', default: '6' },
    ports: { type: 'string', default: '8' },
    profile: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    'baseline-node-args': { type: 'string', default: '' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.baseline) throw new Error('--baseline <checkout>/bin/sstpwatch.js is required');
const n = Number(values.targets);
const intervalS = Number(values.interval);
const windowS = Number(values.window);
const windows = Number(values.windows);
const workDir = mkdtempSync(join(tmpdir(), 'sstpwatch-cpu-pair-'));
const log = (message: string): void => console.error(`[pair ${new Date().toISOString().slice(11, 19)}] ${message}`);

interface Side {
  name: string;
  /** A build's bin/sstpwatch.js, or 'floor': bench/lib/driver.ts's bare loop of connect + TLS + HEAD. */
  bin: string;
  /** Node flags on the command line before bin/sstpwatch.js. */
  nodeArgs: string[];
  fake: IpcChild;
  service: { pid: number; stop(): Promise<unknown> } | null;
  dir: string;
}

const median = (xs: number[]): number => percentile(xs, 50);
const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const ca = await createTestCa({ keyType: 'rsa' });
  const intermediate = await issueIntermediate(ca, { keyType: 'rsa' });
  const leaf = await issueLeaf(intermediate, { commonName: BENCH_HOSTNAME, dnsNames: [BENCH_HOSTNAME], keyType: 'rsa' });
  const caFile = join(workDir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const sides: Side[] = [];
  const split = (args: string): string[] => args.split(' ').filter(Boolean);
  const builds: [string, string, string[]][] = [
    ['this', values.build, split(values['node-args'])],
    ['baseline', values.baseline!, split(values['baseline-node-args'])],
    ...values.variant.map((v): [string, string, string[]] => {
      const eq = v.indexOf('=');
      if (eq < 1) throw new Error(`--variant ${v}: expected name=node flags`);
      return [v.slice(0, eq), values.build, split(v.slice(eq + 1))];
    }),
    ...(values.floor ? [['floor', 'floor', []] as [string, string, string[]]] : []),
  ];
  for (const [name, bin, nodeArgs] of builds) {
    const fake = forkTs(fileURLToPath(new URL('./lib/fake-fleet.ts', import.meta.url)));
    const dir = join(workDir, name);
    mkdirSync(dir);
    sides.push({ name, bin, nodeArgs, fake, service: null, dir });
  }
  try {
    for (const side of sides) {
      const { ports } = await side.fake.request<{ ports: number[] }>({ type: 'start', ports: Number(values.ports), cert: leaf.chainPem, key: leaf.keyPem }, 'ready');
      const fleet: Fleet = { ports, caFile };
      if (side.bin === 'floor') {
        side.service = await startFloor(fleet, ca.certPem);
        log(`floor: bench/lib/driver.ts pid ${side.service.pid}`);
        continue;
      }
      const nodeArgs = [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(side.dir, 'profile')}`] : []), ...side.nodeArgs];
      side.service = await startSstpwatch(side.dir, n, fleet, intervalS, { bin: side.bin, nodeArgs });
      log(`${side.name}: ${side.nodeArgs.join(' ')} ${side.bin} pid ${side.service.pid}`);
    }
    log(`warm-up ${values.warmup} s (work dir ${workDir})`);
    await sleep(Number(values.warmup) * 1000);
    const rows: Record<string, { cpuPerS: number; probes: number; msPerProbe: number }>[] = [];
    for (let w = 0; w < windows; w++) {
      const before = await Promise.all(sides.map(async (s) => ({ cpu: cpuSeconds(s.service!.pid), fleet: await s.fake.request<FleetStats>({ type: 'stats' }, 'stats') })));
      await sleep(windowS * 1000);
      const after = await Promise.all(sides.map(async (s) => ({ cpu: cpuSeconds(s.service!.pid), fleet: await s.fake.request<FleetStats>({ type: 'stats' }, 'stats') })));
      const row: (typeof rows)[number] = {};
      sides.forEach((s, i) => {
        const seconds = (after[i]!.fleet.at - before[i]!.fleet.at) / 1000;
        const cpu = after[i]!.cpu - before[i]!.cpu;
        const probes = after[i]!.fleet.requests - before[i]!.fleet.requests;
        row[s.name] = { cpuPerS: round((cpu / seconds) * 1000, 2), probes, msPerProbe: probes > 0 ? round((cpu / probes) * 1000) : NaN };
      });
      rows.push(row);
      const figures = sides.map(({ name }) => `${name} ${row[name]!.cpuPerS} ms CPU/s, ${row[name]!.probes} probes, ${row[name]!.msPerProbe} ms/probe`);
      log(`window ${w + 1}/${windows} load ${loadAverage()[0]}: ${figures.join(' | ')}`);
    }
    const med = (side: string, key: 'cpuPerS' | 'msPerProbe'): number => round(median(rows.map((r) => r[side]![key])));
    // CPU per probe, not per second: a side whose fleet answered fewer probes in a window must not look cheaper.
    const ratios = (side: string, other: string): string => {
      const each = rows.map((r) => r[side]!.msPerProbe / r[other]!.msPerProbe);
      return `${side}/${other} median ${round(median(each), 2)} (windows: ${each.map((r) => round(r, 2)).join(' ')})`;
    };
    console.log(`${n} targets every ${intervalS} s, ${windows} windows of ${windowS} s (${workDir})`);
    for (const { name, nodeArgs } of sides) console.log(`  ${name}${nodeArgs.length ? ` (${nodeArgs.join(' ')})` : ''}: CPU ${med(name, 'cpuPerS')} ms/s, ${med(name, 'msPerProbe')} ms/probe (medians)`);
    const references = ['baseline', ...(values.floor ? ['floor'] : [])];
    for (const { name } of sides) for (const other of references) if (name !== 'floor' && name !== other) console.log(`  ${ratios(name, other)}`);
  } finally {
    for (const side of sides) {
      await side.service?.stop();
      await side.fake.stop();
    }
    if (values.profile) {
      for (const side of sides) {
        const dir = join(side.dir, 'profile');
        if (side.bin === 'floor') continue;
        for (const file of readdirSync(dir)) log(`${side.name}: profile ${join(dir, file)}`);
      }
    }
    if (values.profile || values.keep) log(`work dir kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

/** The floor: a bare Node loop doing the same probes (the fleet benchmark's), its CPU being its process's. */
async function startFloor(fleet: Fleet, caPem: string): Promise<{ pid: number; stop(): Promise<void> }> {
  const driver = forkTs(fileURLToPath(new URL('./lib/driver.ts', import.meta.url)));
  const ports = Array.from({ length: n }, (_, i) => targetPort(fleet, i));
  await driver.request({ type: 'start', mode: 'floor', ports, intervalMs: intervalS * 1000, hostname: BENCH_HOSTNAME, path: SSTP_PATH, caPem, timeoutMs: 5000 }, 'started');
  return { pid: driver.child.pid!, stop: () => driver.stop() };
}

await main();

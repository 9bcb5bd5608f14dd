// Benchmark (not a test): N targets (default 10,000) every --interval s (default 30) shared by two sstpwatch
// instances of one site on one PostgreSQL 15 (fsync on). Measures, with the real service (bin/sstpwatch.js):
//   cpu      each instance's CPU per 1,000 probes over a --measure s window once both own 32 of the 64 shards
//   join     a third instance starts: seconds from its /healthz answering to the three owning 21-22 shards each
//   takeover SIGKILL of one: seconds until the survivors own all 64 shards, and until every target the killed
//            one probed has been probed again by a survivor (bound: rebalance tick 5 s + interval)
// Same fake fleet as bench/fleet.ts (TLS listeners in a child process, one full handshake per probe).
//
//   npx tsx bench/shared-site.ts                          # 10,000 targets, 30 s
//   npx tsx bench/shared-site.ts --targets 1000 --measure 30
// Writes bench/results/<date>T<hh-mm>-shared-site.md (a run never overwrites another) (and prints it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestCa, issueIntermediate, issueLeaf } from '../src/demo/certs.js';
import { startPostgres, TEST_PG_PASSWORD } from '../test/fixtures/postgres.js';
import { cpuSeconds, forkTs, loadAverage, sleep } from './lib/proc.js';
import { parseMetrics, sumOf } from './lib/stats.js';
import { BENCH_HOSTNAME, startSstpwatch, type Fleet } from './lib/systems.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '30' },
    measure: { type: 'string', default: '60' },
    ports: { type: 'string', default: '16' },
    out: { type: 'string', default: fileURLToPath(new URL('./results', import.meta.url)) },
  },
});
const n = Number(values.targets);
const intervalS = Number(values.interval);
const measureS = Number(values.measure);
const SHARDS = 64;

const log = (line: string): void => console.error(`[shared-site] ${line}`);

type Instance = Awaited<ReturnType<typeof startSstpwatch>>;

async function metricsOf(instance: Instance): Promise<ReturnType<typeof parseMetrics>> {
  // generous: an overloaded instance with 5,000 targets took over 60 s to answer on a shared machine
  const res = await fetch(`${instance.baseUrl}/metrics`, { signal: AbortSignal.timeout(180_000) });
  return parseMetrics(await res.text());
}
/** Shards owned, from /readyz (a few hundred bytes, where /metrics is megabytes at 10,000 targets). */
async function owned(instance: Instance): Promise<number> {
  const res = await fetch(`${instance.baseUrl}/readyz`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { checks: { ownership?: { shards_owned: number } } };
  return body.checks.ownership?.shards_owned ?? -1;
}
const probes = async (i: Instance): Promise<number> => sumOf(await metricsOf(i), 'sstp_probes_total');

async function until(what: string, check: () => Promise<boolean>, timeoutS: number, everyMs = 500): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutS * 1000) {
    if (await check()) return (Date.now() - start) / 1000;
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutS} s`);
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'sstpwatch-bench-shared-'));
  const started = new Date();
  const load0 = loadAverage();
  const ca = await createTestCa({ keyType: 'rsa' });
  const intermediate = await issueIntermediate(ca, { keyType: 'rsa' });
  const leaf = await issueLeaf(intermediate, { commonName: BENCH_HOSTNAME, dnsNames: [BENCH_HOSTNAME], keyType: 'rsa' });
  const caFile = join(workDir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const fake = forkTs(fileURLToPath(new URL('./lib/fake-fleet.ts', import.meta.url)));
  const { ports } = await fake.request<{ ports: number[] }>({ type: 'start', ports: Number(values.ports), cert: leaf.chainPem, key: leaf.keyPem }, 'ready');
  const fleet: Fleet = { ports, caFile };
  const postgres = await startPostgres({ fsync: true });
  process.env.PGPASSWORD = TEST_PG_PASSWORD;
  const database = postgres.url(await postgres.createDatabase('shared_site'));
  const instances: Instance[] = [];
  const start = async (name: string): Promise<Instance> => {
    const dir = join(workDir, name);
    mkdirSync(dir);
    const instance = await startSstpwatch(dir, n, fleet, intervalS, { database });
    instances.push(instance);
    return instance;
  };
  try {
    log(`${n} targets every ${intervalS} s; PostgreSQL on 127.0.0.1:${postgres.port}; load ${load0.join(' ')}`);
    const [a, b] = [await start('a'), await start('b')];
    const evenS = await until(
      '32 + 32 shards',
      async () => {
        const shares = [await owned(a), await owned(b)];
        log(`shares ${shares.join(' + ')}`);
        return shares[0] === SHARDS / 2 && shares[1] === SHARDS / 2;
      },
      300,
      2000,
    );
    log(`a and b at 32 shards each after ${evenS} s; warming up one interval`);
    await sleep((intervalS + 10) * 1000);

    const cpu0 = [cpuSeconds(a.pid), cpuSeconds(b.pid)];
    const probes0 = [await probes(a), await probes(b)];
    await sleep(measureS * 1000);
    const cpu1 = [cpuSeconds(a.pid), cpuSeconds(b.pid)];
    const probes1 = [await probes(a), await probes(b)];
    const perThousand = [0, 1].map((i) => ((cpu1[i]! - cpu0[i]!) / Math.max(1, probes1[i]! - probes0[i]!)) * 1000);
    const probed = [0, 1].map((i) => probes1[i]! - probes0[i]!);
    log(`cpu per 1000 probes: a ${perThousand[0]!.toFixed(3)} s (${probed[0]} probes), b ${perThousand[1]!.toFixed(3)} s (${probed[1]} probes)`);

    const c = await start('c');
    const joinS = await until(
      'three fair shares',
      async () => {
        const shares = await Promise.all([a, b, c].map(owned));
        return shares.reduce((x, y) => x + y, 0) === SHARDS && shares.every((s) => s >= 20 && s <= 22);
      },
      180,
      1000,
    );
    log(`third instance joined: fair shares after ${joinS} s`);
    await sleep((intervalS + 5) * 1000);

    const lastProbes = async (i: Instance): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      for (const s of await metricsOf(i)) if (s.name === 'sstp_probe_last_timestamp_seconds' && s.labels.target) out.set(s.labels.target, s.value);
      return out;
    };
    const orphans = [...(await lastProbes(c)).keys()];
    const killedAt = Date.now();
    c.child.kill('SIGKILL');
    const sharesS = await until('64 shards owned by the survivors', async () => (await owned(a)) + (await owned(b)) === SHARDS, 120);
    const reprobedS = await until(
      'every orphan probed again',
      async () => {
        const [la, lb] = await Promise.all([lastProbes(a), lastProbes(b)]);
        return orphans.every((t) => Math.max(la.get(t) ?? 0, lb.get(t) ?? 0) * 1000 > killedAt);
      },
      180,
      3000,
    );
    log(`takeover: shards after ${sharesS} s, all ${orphans.length} targets probed again after ${reprobedS} s`);

    const load1 = loadAverage();
    const md = [
      `## ${n} targets every ${intervalS} s shared by two instances of one site on one PostgreSQL (${started.toISOString()})`,
      '',
      `Command: \`npx tsx bench/shared-site.ts ${process.argv.slice(2).join(' ')}\`. Load average ${load0.join(' ')} at the start, ${load1.join(' ')} at the end (2 vCPUs; above 2, CPU figures are upper bounds).`,
      '',
      '| figure | value |',
      '|---|---|',
      `| both at 32 of 64 shards after the second started | ${evenS.toFixed(1)} s |`,
      `| CPU per 1,000 probes, instance a / b (${measureS} s window) | ${perThousand[0]!.toFixed(3)} s / ${perThousand[1]!.toFixed(3)} s (${probed[0]} / ${probed[1]} probes) |`,
      `| a third joins: fair shares (20-22 each) after its /healthz answered | ${joinS.toFixed(1)} s |`,
      `| SIGKILL of the third: its shards owned by the survivors | ${sharesS.toFixed(1)} s |`,
      `| SIGKILL of the third: its ${orphans.length} targets all probed again | ${reprobedS.toFixed(1)} s (bound: tick 5 s + interval ${intervalS} s) |`,
      '',
    ].join('\n');
    mkdirSync(values.out, { recursive: true });
    const file = join(values.out, `${started.toISOString().slice(0, 16).replace(':', '-')}-shared-site.md`);
    writeFileSync(file, md);
    console.log(md);
    log(`wrote ${file}`);
  } finally {
    await Promise.allSettled(instances.map((i) => i.stop(10_000)));
    await fake.stop();
    postgres.destroy();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

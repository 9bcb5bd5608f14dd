// Hostile targets cannot starve the rest: 50 healthy servers beside 50 that stall, stall mid-TLS, trickle a
// byte a second, send endless headers, a 10 MB body on HEAD, garbage or a reset. Every healthy target is
// still probed on time and memory stays bounded (the real service); 1,000 rounds of every hostile behavior
// leave no socket or timer behind (in-process, counting the process's active handles).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeRras, type FakeRras, type RrasBehaviorInput } from '../../../src/demo/fake-rras.js';
import { createHeadProber } from '../../../src/probe/head.js';
import type { ProbeTarget } from '../../../src/probe/types.js';
import { phaseOffset } from '../../../src/scheduler/plan.js';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { probeTarget } from '../../fixtures/fake-rras.js';
import { startLeanFleet, type LeanFleet } from '../../fixtures/lean-fleet.js';
import { freePort, startService, type RunningService } from '../../fixtures/service.js';
import { sample, sleep, watchStalls, writeFleetConfig } from './helpers.js';

/** The hostile behaviors, and whether each speaks TLS in the in-process rounds (plain HTTP is cheaper). */
const HOSTILE: { behavior: RrasBehaviorInput; tls: boolean }[] = [
  { behavior: 'accept-stall', tls: false },
  { behavior: 'tls-partial', tls: true },
  { behavior: 'tls-stall', tls: true },
  { behavior: 'trickle', tls: false },
  { behavior: 'endless-headers', tls: false },
  { behavior: 'huge-body', tls: false },
  { behavior: 'garbage', tls: false },
  { behavior: 'reset', tls: false },
];
/** A hold-up of this process longer than this excuses the rounds around it (the lag histogram's 250 ms bucket). */
const STALL_MS = 250;
const kindOf = (b: RrasBehaviorInput) => (typeof b === 'object' ? b.mode : String(b));

describe('hostile targets cannot starve the rest', () => {
  const servers: FakeRras[] = [];
  let fleet: LeanFleet | null = null;
  let service: RunningService | null = null;
  let dir: string | null = null;

  afterEach(async () => {
    await service?.stop();
    service = null;
    await fleet?.close();
    fleet = null;
    await Promise.all(servers.splice(0).map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('50 healthy targets beside 50 hostile ones are all probed on time, with bounded memory (real service)', async () => {
    const certs = await testCertificates();
    const pem = { cert: certs.valid.chainPem, key: certs.valid.keyPem };
    fleet = await startLeanFleet(Array.from({ length: 50 }, () => 'answer' as const), pem);
    for (let i = 0; i < 50; i++) servers.push(await startFakeRras({ tls: pem, behavior: HOSTILE[i % HOSTILE.length]!.behavior }));
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-hostile-'));
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    const healthyNames = fleet.urls.map((_, i) => `healthy-${i}`);
    const port = await freePort();
    writeFleetConfig(join(dir, 'sstpwatch.yml'), {
      port,
      database: join(dir, 'sstpwatch.db'),
      hostname: VPN_HOSTNAME,
      caFile: join(dir, 'ca.pem'),
      targets: [
        ...fleet.urls.map((url, i) => ({ name: healthyNames[i]!, url })),
        ...servers.map((s, i) => ({ name: `hostile-${kindOf(HOSTILE[i % HOSTILE.length]!.behavior)}-${i}`, url: s.url })),
      ],
      defaults: ['interval: 1s', 'timeout: 900ms', 'rise: 1', 'fall: 2'],
    });
    service = await startService(join(dir, 'sstpwatch.yml'), port);
    await sleep(3_000); // warm-up: the first round of every target
    const from = Date.now();
    const memoryAt = async () => {
      const text = (await service!.get('/metrics')).body;
      return { rss: sample(text, 'process_resident_memory_bytes')!, heap: sample(text, 'nodejs_heap_size_used_bytes')! };
    };
    const early = await memoryAt();
    const connectionsBefore = servers.reduce((n, s) => n + s.connections, 0);
    // The healthy fakes answer from this process: while it is held up by the machine's load, none of them answers.
    const stallWatch = watchStalls(STALL_MS);
    await sleep(15_000);
    const to = Date.now() - 1_500; // requests after this may belong to rounds not finished yet
    const stalls = stallWatch.stop();
    const late = await memoryAt();
    const hostileProbes = servers.reduce((n, s) => n + s.connections, 0) - connectionsBefore;

    // Lag of each healthy probe: its request's arrival against the target's grid (interval 1 s, phase by name).
    let maxLagMs = 0;
    let missedRounds = 0;
    // A round is missed through no fault of the service when the healthy fake was not running in the second before
    // it (the previous probe waited for it, so the scheduler skipped this one) or around it: those are counted
    // apart, and every other round must be there. On a quiet machine there are none of them.
    let stalledRounds = 0;
    const stalledAround = (at: number) => stalls.some((s) => s.to > at - 1_000 && s.from < at + 1_000);
    let healthyProbes = 0;
    for (let i = 0; i < 50; i++) {
      const offset = phaseOffset(healthyNames[i]!, 1000);
      // With every lag under the interval (asserted below from the scheduler's own histogram), a request
      // belongs to round floor((at - offset) / interval).
      const rounds = new Set<number>();
      for (const at of fleet.requests(i)) {
        rounds.add(Math.floor((at - offset) / 1000));
        if (at >= from && at < to) {
          healthyProbes++;
          maxLagMs = Math.max(maxLagMs, (((at - offset) % 1000) + 1000) % 1000);
        }
      }
      for (let k = Math.ceil((from - offset) / 1000); k * 1000 + offset < to; k++) {
        if (rounds.has(k)) continue;
        if (stalledAround(k * 1000 + offset)) stalledRounds++;
        else missedRounds++;
      }
    }
    const status = (await service.get('/api/v1/status')).json<{ targets: { name: string; state: string; last_result: { error_kind: string } | null }[] }>();
    const metrics = (await service.get('/metrics')).body;
    const lagCount = sample(metrics, 'sstpwatch_scheduler_lag_seconds_count')!;
    const lagUnder250ms = sample(metrics, 'sstpwatch_scheduler_lag_seconds_bucket{le="0.25"}')!;

    const skippedHealthy = (service.output().match(/"target":"healthy-\d+"[^\n]*probe skipped/g) ?? []).length;
    const stalledMs = stalls.reduce((ms, s) => ms + s.to - s.from, 0);
    const figures = `healthy probes ${healthyProbes}, missed rounds ${missedRounds} (skipped ${skippedHealthy}; ${stalledRounds} more while this process was held up ${stalls.length} times over ${STALL_MS} ms, ${stalledMs} ms in all), max lag ${maxLagMs} ms, lag samples ${lagCount}, ${lagCount - lagUnder250ms} over 250 ms, over 1 s ${lagCount - sample(metrics, 'sstpwatch_scheduler_lag_seconds_bucket{le="1"}')!}`;
    expect(lagCount - sample(metrics, 'sstpwatch_scheduler_lag_seconds_bucket{le="1"}')!, figures).toBe(0);
    expect(missedRounds, figures).toBe(0);
    expect(maxLagMs, figures).toBeLessThan(1_000);
    expect(healthyProbes).toBeGreaterThanOrEqual(50 * 12);
    expect(hostileProbes).toBeGreaterThan(50 * 10);
    for (const t of status.targets) {
      if (t.name.startsWith('healthy-') || t.name.startsWith('hostile-huge-body')) expect(t.state, `${t.name}: ${t.last_result?.error_kind}`).toBe('up');
      else expect(t.state, t.name).toBe('down');
    }
    // Memory: 10 MB bodies are never read, stalled connections are dropped at the timeout.
    expect(late.rss).toBeLessThan(400 * 2 ** 20);
    expect(late.heap - early.heap).toBeLessThan(64 * 2 ** 20);
    console.log(
      `hostile targets (real service, 15 s): ${figures} (request arrival vs schedule, incl. connect+TLS); ` +
        `hostile probes ${hostileProbes}; RSS ${(early.rss / 2 ** 20).toFixed(0)} -> ${(late.rss / 2 ** 20).toFixed(0)} MiB, ` +
        `heap ${(early.heap / 2 ** 20).toFixed(0)} -> ${(late.heap / 2 ** 20).toFixed(0)} MiB`,
    );
  }, 90_000);

  it('1,000 rounds of every hostile behavior leave no socket or timer behind (in-process)', async () => {
    const certs = await testCertificates();
    const pem = { cert: certs.valid.chainPem, key: certs.valid.keyPem };
    const healthy = await startFakeRras({ tls: pem, behavior: 'answer' });
    servers.push(healthy);
    // Hostile targets get a short timeout (150 ms) so 1,000 rounds fit in seconds; the ones that answer get room
    // for a busy CPU (this process runs every server too), which they never use up.
    const targets: { kind: string; target: ProbeTarget }[] = [{ kind: 'healthy', target: probeTarget({ url: healthy.url, ca: certs.ca.certPem, timeoutMs: 5_000 }) }];
    for (const h of HOSTILE) {
      const server = await startFakeRras({ tls: h.tls ? pem : null, behavior: h.behavior });
      servers.push(server);
      const timeoutMs = kindOf(h.behavior) === 'huge-body' ? 5_000 : 150;
      targets.push({ kind: kindOf(h.behavior), target: probeTarget({ url: server.url, ca: certs.ca.certPem, timeoutMs }) });
    }
    const probe = createHeadProber();
    const kinds = new Map<string, Map<string, number>>();
    const round = async () => {
      await Promise.all(
        targets.map(async ({ kind, target }) => {
          const result = await probe(target, new AbortController().signal);
          const seen = kinds.get(kind) ?? new Map<string, number>();
          seen.set(result.errorKind, (seen.get(result.errorKind) ?? 0) + 1);
          kinds.set(kind, seen);
        }),
      );
    };
    const rounds = async (n: number, parallel: number) => {
      for (let done = 0; done < n; done += parallel) await Promise.all(Array.from({ length: Math.min(parallel, n - done) }, round));
    };
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const handles = () => process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap');
    const settle = async (limit: number) => {
      for (let i = 0; i < 50 && handles().length > limit; i++) await sleep(100);
    };

    await rounds(20, 10);
    await settle(0);
    gc();
    const before = handles();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    await rounds(1_000, 20);
    const ms = performance.now() - started;
    await settle(before.length);
    gc();
    const after = handles();
    const heapAfter = process.memoryUsage().heapUsed;

    const count = (list: string[]) => list.reduce<Record<string, number>>((acc, type) => ({ ...acc, [type]: (acc[type] ?? 0) + 1 }), {});
    expect(after.length, `before ${JSON.stringify(count(before))}, after ${JSON.stringify(count(after))}`).toBeLessThanOrEqual(before.length + 3);
    expect(heapAfter - heapBefore).toBeLessThan(32 * 2 ** 20);
    // Every round reached every behavior; the healthy target answered each time, the huge body was never read.
    expect(kinds.get('healthy')).toEqual(new Map([['ok', 1_020]]));
    expect(kinds.get('huge-body')).toEqual(new Map([['ok', 1_020]]));
    for (const kind of ['accept-stall', 'tls-partial', 'tls-stall', 'trickle']) expect([...kinds.get(kind)!.keys()], kind).toEqual(['timeout']);
    for (const [kind, seen] of kinds) expect([...seen.values()].reduce((a, b) => a + b), kind).toBe(1_020);
    const summary = [...kinds].map(([kind, seen]) => `${kind}: ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`).join('; ');
    console.log(
      `hostile rounds (in-process): 1000 rounds x ${targets.length} probes in ${Math.round(ms)} ms; ` +
        `active handles before ${before.length} ${JSON.stringify(count(before))}, after ${after.length} ${JSON.stringify(count(after))}; ` +
        `heap ${(heapBefore / 2 ** 20).toFixed(1)} -> ${(heapAfter / 2 ** 20).toFixed(1)} MiB; ${summary}`,
    );
  }, 120_000);
});

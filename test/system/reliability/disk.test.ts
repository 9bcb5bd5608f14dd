// Disk trouble: the database on a full filesystem (a small tmpfs) and on one the kernel turned read-only
// (ext4 on a loop device, errors=remount-ro, after an injected filesystem error). Probing, /api/v1/status and
// /metrics go on from memory, /readyz says why it is not ready, failed writes are counted, the queue in memory
// is bounded (oldest dropped first), and writing resumes by itself once there is space again.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../../src/probe/types.js';
import { createHousekeeping } from '../../../src/store/housekeeping.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite.js';
import { startLeanFleet, type LeanFleet } from '../../fixtures/lean-fleet.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';
import { sample, sleep, writeFleetConfig } from './helpers.js';

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed (these tests need root, mount, and for the read-only case loop devices, e2fsprogs): ${e.stderr || e.message}`);
  }
}

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** An ext4 filesystem on a loop device that the kernel turns read-only on its first error. Returns its device. */
function mountExt4(image: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(image, '');
  run('truncate', ['-s', '64M', image]);
  run('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', image]);
  run('mount', ['-o', 'loop,errors=remount-ro', image, dir]);
  return run('findmnt', ['-n', '-o', 'SOURCE', dir]).trim();
}

/** Unmounts, lazily if something still holds it; never throws (cleanup). */
function unmount(dir: string): void {
  for (const args of [[dir], ['-l', dir]]) {
    try {
      execFileSync('umount', args, { stdio: 'ignore' });
      return;
    } catch {
      // try the lazy way
    }
  }
}

/** Fills the filesystem of `dir` to the last block with one file; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** A logger whose lines are kept for assertions. */
function capturingLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

function okResult(at: number): ProbeResult {
  return {
    at,
    ok: true,
    errorKind: 'ok',
    message: 'HTTP/1.1 401 Unauthorized',
    statusCode: 401,
    httpVersion: '1.1',
    durationMs: 3.2,
    phasesMs: { dns: 0, connect: 0.4, processing: 2.8 },
    tlsVersion: null,
    certificateSha256: null,
    certificate: null,
  };
}

interface Readiness {
  ready: boolean;
  checks: { database: { ok: boolean; reason: string | null; pending_results: number } };
  error?: { code: string; message: string };
}

describe('disk trouble', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up
      }
    }
  });

  it('the store keeps at most maxPending results while the disk is full, drops the oldest, and writes the rest once space returns; housekeeping fails without stalling', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sstpwatch-full-store-'));
    const mnt = join(root, 'mnt');
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    mountTmpfs(mnt, '4m');
    cleanups.push(() => unmount(mnt));
    const { log, lines } = capturingLog();
    const store: SqliteStore = openSqliteStore({ path: join(mnt, 'sstpwatch.db'), log, maxPending: 500 });
    cleanups.push(() => store.close());
    await store.syncTargets([{ name: 't1', group: 'g', role: 'server', url: 'https://127.0.0.1' }]);
    const base = Date.now() - 2 * 3_600_000;
    for (let i = 0; i < 100; i++) store.record('t1', 'head', okResult(base + i * 1000));
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });

    const filler = fillDisk(mnt);
    for (let i = 100; i < 2_100; i++) {
      store.record('t1', 'head', okResult(base + i * 1000));
      if (i % 100 === 0) await store.flush();
    }
    await store.flush();
    const full = store.writeHealth();
    expect(full.ok).toBe(false);
    expect(full.reason).toMatch(/full/i);
    expect(full.pending).toBe(500);
    expect(full.dropped).toBeGreaterThan(0);
    expect(full.failedWrites).toBeGreaterThan(0);
    expect(lines.join('')).toContain('database write failed; rows stay queued');

    // Housekeeping on the full disk: rollups of two hours of results to write. The pass ends (no throw, no hang).
    const housekeeping = createHousekeeping(store, { log });
    const pass = await Promise.race([housekeeping.runPass(), sleep(20_000).then(() => 'stalled' as const)]);
    expect(pass).not.toBe('stalled');
    expect(lines.join('')).toContain('housekeeping step failed; it is retried on the next pass');

    unlinkSync(filler);
    await store.flush();
    expect(store.writeHealth()).toMatchObject({ ok: true, pending: 0 });
    // What survived is the newest 500: everything queued before them was dropped first.
    const items = (await store.history('t1', { limit: 10_000 })).items.map((r) => r.at);
    const written = items.filter((at) => at >= base + 100 * 1000);
    expect(written).toHaveLength(500);
    expect(Math.min(...written)).toBe(base + 1_600 * 1000);
    expect(Math.max(...written)).toBe(base + 2_099 * 1000);
    // And housekeeping works again.
    const after = await housekeeping.runPass();
    expect(after.rows.rollup_minute ?? 0).toBeGreaterThan(0);
    expect((await store.rollups('t1', '1m', { limit: 10 })).items.length).toBeGreaterThan(0);
    await housekeeping.stop();
  }, 60_000);

  describe('the real service', () => {
    let fleet: LeanFleet | null = null;
    let service: RunningService | null = null;

    async function start(dbPath: string, dir: string): Promise<RunningService> {
      fleet = await startLeanFleet(Array.from({ length: 50 }, () => 'answer' as const));
      cleanups.push(() => fleet?.close());
      const port = await freePort();
      const configPath = join(dir, 'sstpwatch.yml');
      writeFleetConfig(configPath, {
        port,
        database: dbPath,
        targets: fleet.urls.map((url, i) => ({ name: `t${i}`, url })),
        defaults: ['interval: 1s', 'timeout: 800ms', 'rise: 1', 'fall: 2'],
      });
      service = await startService(configPath, port);
      cleanups.push(async () => {
        await service?.stop(3_000);
      });
      await waitFor('results written', async () => (await service!.get('/api/v1/targets/t0/history?limit=1')).json<{ items: unknown[] }>().items.length > 0, 20_000);
      expect((await service.get('/readyz')).status).toBe(200);
      return service;
    }

    const readiness = async () => {
      const res = await service!.get('/readyz');
      return { status: res.status, body: res.json<Readiness>() };
    };
    const lastResultAt = async (name: string) =>
      Date.parse((await service!.get(`/api/v1/targets/${name}`)).json<{ last_result: { at: string } }>().last_result.at);

    /** While writes fail: probing, status and metrics from memory; readyz 503 with the reason; failures counted. */
    async function expectServingFromMemory(reasonPattern: RegExp, since: number): Promise<void> {
      let ready: Awaited<ReturnType<typeof readiness>> | null = null;
      await waitFor('readyz not ready', async () => (ready = await readiness()).status === 503, 30_000);
      expect(ready!.body.ready).toBe(false);
      expect(ready!.body.checks.database.ok).toBe(false);
      expect(ready!.body.checks.database.reason).toMatch(reasonPattern);
      expect(ready!.body.error?.message).toMatch(/^database not writable: /);
      console.log(`disk trouble: /readyz 503 "${ready!.body.error?.message}", ${Date.now() - since} ms after the fault`);
      expect((await service!.get('/healthz')).status).toBe(200);

      const status = await service!.get('/api/v1/status');
      expect(status.status).toBe(200);
      expect(status.json<{ summary: { up: number } }>().summary.up).toBe(50);
      const before = await lastResultAt('t7');
      await waitFor('probing goes on', async () => (await lastResultAt('t7')) > Math.max(before, since), 10_000);

      const metrics = await service!.get('/metrics');
      expect(metrics.status).toBe(200);
      expect(sample(metrics.body, 'sstpwatch_store_write_failures_total')).toBeGreaterThan(0);
      expect(sample(metrics.body, 'sstpwatch_store_pending_results')).toBeGreaterThan(0);
      expect(sample(metrics.body, 'sstpwatch_store_dropped_results_total')).toBe(0);
      expect(sample(metrics.body, 'sstp_probe_success{target="t7",group="vpn-0",role="server"}')).toBe(1);
    }

    it('on a full disk: keeps serving from memory, not ready with the reason, and catches up once space returns', async () => {
      const root = mkdtempSync(join(tmpdir(), 'sstpwatch-full-'));
      const mnt = join(root, 'mnt');
      cleanups.push(() => rmSync(root, { recursive: true, force: true }));
      mountTmpfs(mnt, '24m');
      cleanups.push(() => unmount(mnt));
      await start(join(mnt, 'sstpwatch.db'), root);

      const filler = fillDisk(mnt);
      const fullAt = Date.now();
      await expectServingFromMemory(/SQLITE_FULL|full/i, fullAt);
      // A result taken while the disk is full, held in memory only.
      const heldAt = await lastResultAt('t3');
      expect(heldAt).toBeGreaterThan(fullAt);
      const history = async () => (await service!.get('/api/v1/targets/t3/history?limit=50')).json<{ items: { at: string }[] }>().items.map((i) => Date.parse(i.at));
      expect(await history()).not.toContain(heldAt);

      unlinkSync(filler);
      await waitFor('ready again', async () => (await readiness()).status === 200, 30_000);
      expect(await history()).toContain(heldAt);
      const metrics = (await service!.get('/metrics')).body;
      expect(sample(metrics, 'sstpwatch_store_pending_results')).toBeLessThan(100);
      expect(service!.output()).toContain('database writes recovered');
      expect(await service!.stop()).toBe(0);
      service = null;
    }, 120_000);

    it('on a filesystem turned read-only: keeps serving from memory and says why it is not ready', async () => {
      const root = mkdtempSync(join(tmpdir(), 'sstpwatch-ro-'));
      const mnt = join(root, 'mnt');
      cleanups.push(() => rmSync(root, { recursive: true, force: true }));
      const device = mountExt4(join(root, 'disk.img'), mnt);
      cleanups.push(() => unmount(mnt));
      await start(join(mnt, 'sstpwatch.db'), root);

      // What ext4 does on a metadata error with errors=remount-ro: every write from now on fails with EROFS.
      const trigger = `/sys/fs/ext4/${device.replace('/dev/', '')}/trigger_fs_error`;
      expect(existsSync(trigger), `${trigger} (ext4 error injection) is missing`).toBe(true);
      writeFileSync(trigger, 'sstpwatch test: read-only filesystem\n');
      const roAt = Date.now();
      await expectServingFromMemory(/READONLY|read-only|IOERR|I\/O/i, roAt);

      // Still running; a clean stop says what it could not write (recovery needs the filesystem remounted).
      const running = service!;
      expect(await running.stop()).toBe(0);
      service = null;
      expect(running.output()).toContain('database write failed; rows stay queued');
      expect(running.output()).toContain('closing the database with unwritten rows; they are lost');
    }, 120_000);
  });
});

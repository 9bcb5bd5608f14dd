// Ownership managers on separate sessions of one real PostgreSQL 15: they share a site's 64 virtual shards, a
// joining peer gets its share, a terminated session's shards are taken over, and no shard ever has two owners.
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OwnershipManager } from '../../src/scheduler/ownership-manager.js';
import { siteKey, VIRTUAL_SHARDS } from '../../src/scheduler/ownership.js';
import { MEMBER_SLOT, shardLockOpener } from '../../src/store/postgres/shard-locks.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../fixtures/postgres.js';
import { waitFor } from '../fixtures/service.js';

const quiet = pino({ level: 'silent' });
const TICK_MS = 150;

let server: TestPostgres;
let database: string;

beforeAll(async () => {
  server = await startPostgres();
  database = await server.createDatabase();
}, 120_000);
afterAll(() => server?.destroy());

/** Who owns what as the managers report it through apply(); a second owner of a shard is recorded as a violation. */
class Owners {
  readonly byManager = new Map<string, Set<number>>();
  readonly violations: string[] = [];

  apply(name: string, shards: ReadonlySet<number>): void {
    for (const shard of shards) {
      for (const [other, owned] of this.byManager) {
        if (other !== name && owned.has(shard)) this.violations.push(`${name} took shard ${shard} while ${other} owned it`);
      }
    }
    this.byManager.set(name, new Set(shards));
  }

  sizes(): number[] {
    return [...this.byManager.values()].map((set) => set.size);
  }

  union(): number[] {
    return [...new Set([...this.byManager.values()].flatMap((set) => [...set]))].sort((a, b) => a - b);
  }
}

const managers: OwnershipManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.stop()));
});

function manager(name: string, owners: Owners, site = 'lan'): OwnershipManager {
  const opener = shardLockOpener(
    { database: server.url(database), databasePasswordFile: null },
    { siteKey: siteKey(site), log: quiet, env: { PGPASSWORD: TEST_PG_PASSWORD } },
  );
  const created = new OwnershipManager({
    open: opener,
    apply: async (shards) => owners.apply(name, shards),
    log: quiet,
    site,
    tickMs: TICK_MS,
    maxBackoffMs: 500,
  });
  managers.push(created);
  return created;
}

const all = Array.from({ length: VIRTUAL_SHARDS }, (_, i) => i);

async function ownerPid(shard: number, site = 'lan'): Promise<number> {
  const client = await server.client(database);
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1::int::oid AND objid = $2 AND mode = 'ExclusiveLock' AND granted",
      [siteKey(site), shard],
    );
    if (rows.length !== 1) throw new Error(`shard ${shard} has ${rows.length} holders`);
    return rows[0]!.pid;
  } finally {
    await client.end();
  }
}

describe('instances of a site sharing 64 virtual shards through advisory locks', () => {
  it('a lone instance owns every shard and runs housekeeping after its first tick', async () => {
    const owners = new Owners();
    const a = manager('a', owners);
    await a.begin();
    expect(owners.union()).toEqual(all);
    expect(a.state()).toEqual({ site: 'lan', connected: true, owned: 64, peers: 1, housekeeper: true });
    expect(a.isHousekeeper()).toBe(true);
  });

  it('a joining peer gets half, then a third peer a third each; no shard ever has two owners', async () => {
    const owners = new Owners();
    const a = manager('a', owners);
    await a.begin();
    const b = manager('b', owners);
    await b.begin();
    await waitFor('a and b own 32 each', async () => owners.sizes().join() === '32,32', 5_000);
    expect(owners.union()).toEqual(all);
    const c = manager('c', owners);
    await c.begin();
    await waitFor('three owners with 22, 22, 20 in some order', async () => owners.sizes().sort().join() === '20,22,22', 5_000);
    expect(owners.union()).toEqual(all);
    expect(owners.violations).toEqual([]);
    expect([a, b, c].filter((m) => m.isHousekeeper())).toHaveLength(1);
    expect(c.state().peers).toBe(3);
  });

  it('another site on the same database is not a peer: it owns all of its own shards', async () => {
    const lan = new Owners();
    const internet = new Owners();
    const a = manager('a', lan, 'lan');
    const b = manager('b', internet, 'internet');
    await a.begin();
    await b.begin();
    expect(lan.union()).toEqual(all);
    expect(internet.union()).toEqual(all);
    expect(a.state().peers).toBe(1);
    expect(b.state().peers).toBe(1);
    expect([a, b].filter((m) => m.isHousekeeper())).toHaveLength(1); // housekeeping is per database
  });

  it('a terminated session gives up its shards at once; the survivors take them over on their next ticks', async () => {
    const owners = new Owners();
    const a = manager('a', owners);
    const b = manager('b', owners);
    const c = manager('c', owners);
    await a.begin();
    await b.begin();
    await c.begin();
    await waitFor('three owners', async () => owners.sizes().sort().join() === '20,22,22', 5_000);
    const victim = [...owners.byManager.get('b')!][0]!;
    const pid = await ownerPid(victim);
    const admin = await server.client(database);
    const killedAt = Date.now();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    await waitFor('b gave up every shard', async () => owners.byManager.get('b')!.size === 0, 5_000);
    await waitFor('every shard owned again', async () => owners.union().length === 64, 5_000);
    const takeoverMs = Date.now() - killedAt;
    expect(owners.union()).toEqual(all);
    expect(owners.violations).toEqual([]);
    // b reconnects with backoff and the three settle on fair shares again: nobody above ceil(64/3) = 22, so every one
    // holds 20-22 (20,22,22 or 21,21,22, depending on who took the freed shards first)
    const fair = () => owners.union().length === 64 && owners.sizes().every((size) => size >= 20 && size <= 22);
    await waitFor('b back with its share', async () => owners.sizes().length === 3 && fair(), 15_000);
    expect(owners.violations).toEqual([]);
    expect(takeoverMs).toBeLessThan(5_000);
  });

  it('an instance alone in its site goes on probing when its session is cut, and takes its shards again', async () => {
    const owners = new Owners();
    const a = manager('a', owners);
    await a.begin();
    const pid = await ownerPid(0);
    const admin = await server.client(database);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    await waitFor('a noticed', async () => !a.state().connected, 5_000);
    expect(owners.byManager.get('a')!.size).toBe(64);
    await waitFor('a holds its shards again', async () => a.state().connected && (await ownerPid(0)) !== pid, 10_000);
    expect(owners.byManager.get('a')!.size).toBe(64);
    expect(a.state()).toMatchObject({ connected: true, owned: 64, peers: 1 });
  });

  it('the housekeeping lock moves when its holder goes', async () => {
    const owners = new Owners();
    const a = manager('a', owners);
    const b = manager('b', owners);
    await a.begin();
    await b.begin();
    expect(a.isHousekeeper()).toBe(true);
    expect(b.isHousekeeper()).toBe(false);
    await a.stop();
    await waitFor('b runs housekeeping', async () => b.isHousekeeper(), 5_000);
    await waitFor('b owns every shard', async () => owners.byManager.get('b')!.size === 64, 5_000);
    expect(owners.violations).toEqual([]);
  });

  it('counts members through the shared member slot that any user can read in pg_locks', async () => {
    const owners = new Owners();
    await manager('a', owners).begin();
    await manager('b', owners).begin();
    const client = await server.client(database);
    try {
      const { rows } = await client.query<{ members: number }>(
        "SELECT count(*)::int AS members FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1::int::oid AND objid = $2 AND mode = 'ShareLock' AND granted",
        [siteKey('lan'), MEMBER_SLOT],
      );
      expect(rows[0]!.members).toBe(2);
    } finally {
      await client.end();
    }
  });
});

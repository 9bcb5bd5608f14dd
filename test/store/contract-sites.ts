// The store contract for vantage points (`site:`): every store names its site, publishes live states and reads its
// own site's history; a store that holds several sites (PostgreSQL) keeps each site's history apart, shows every
// site's live states, and records a maintenance window for every site of a target.
import { describe, expect, it } from 'vitest';
import type { PublishedState, Store } from '../../src/store/store.js';
import { TargetNotFoundError, UnknownSiteError } from '../../src/store/store.js';
import { HOUR, MINUTE, SHA, T0, failedResult, okResult, stored, target, transition, type ContractContext } from './contract-support.js';

const upState = (at: number): PublishedState => ({
  state: 'up',
  since: T0,
  consecutiveFailures: 0,
  consecutiveSuccesses: 3,
  intervalMs: 30_000,
  lastResult: { at, ok: true, errorKind: 'ok', statusCode: 401, durationMs: 12.345, message: 'HTTP/1.1 401 Unauthorized' },
  certificate: { sha256: SHA, notAfter: T0 + 90 * 24 * HOUR },
});

const downState = (at: number): PublishedState => ({
  state: 'down',
  since: at - MINUTE,
  consecutiveFailures: 4,
  consecutiveSuccesses: 0,
  intervalMs: 30_000,
  lastResult: { at, ok: false, errorKind: 'timeout', statusCode: null, durationMs: 5000, message: 'no answer within 5s' },
  certificate: null,
});

async function siteStore(open: () => Promise<Store>, names: string[] = ['rras-1']): Promise<Store> {
  const store = await open();
  await store.syncTargets(names.map(target));
  return store;
}

export function describeSitesContract(context: ContractContext): void {
  describe('sites', () => {
    it('writes for the unnamed site unless told one, and knows that site', async () => {
      const store = await siteStore(() => context.open());
      expect(store.site).toBe('');
      expect(await store.sites()).toEqual(['']);
      const named = await siteStore(() => context.open({ site: 'lan' }));
      expect(named.site).toBe('lan');
      expect(await named.sites()).toEqual(['lan']);
    });

    it('reads its own site by name as without one, and refuses a site it has no targets of with UnknownSiteError', async () => {
      const store = await siteStore(() => context.open({ site: 'lan' }));
      store.record('rras-1', 'head', okResult(T0));
      store.recordTransition(transition(T0, { from: 'unknown', to: 'up' }));
      await store.flush();
      expect((await store.history('rras-1', { limit: 10 }, 'lan')).items).toEqual([stored(okResult(T0))]);
      expect(await store.transitionsBetween('rras-1', T0, T0, 'lan')).toHaveLength(1);
      await expect(store.history('rras-1', { limit: 10 }, 'nowhere')).rejects.toThrow(UnknownSiteError);
      await expect(store.rollups('rras-1', '1m', { limit: 10 }, 'nowhere')).rejects.toThrow(UnknownSiteError);
      await expect(store.uptime('rras-1', T0, T0 + HOUR, 'nowhere')).rejects.toThrow(UnknownSiteError);
      await expect(store.transitionsBetween('rras-1', T0, T0, 'nowhere')).rejects.toThrow(/no site named "nowhere".*"lan"/);
    });

    it('publishes the newest live state of each target at the flush, and keeps a row that did not change as it was', async () => {
      let now = T0;
      const store = await siteStore(() => context.open({ site: 'lan', now: () => now }), ['rras-1', 'rras-2']);
      expect((await store.siteStates()).states).toEqual([]);
      store.publishState('rras-1', downState(T0));
      store.publishState('rras-1', upState(T0 + 1000));
      store.publishState('ghost', upState(T0));
      expect((await store.siteStates()).states).toEqual([]); // nothing before the flush
      await store.flush();
      const first = await store.siteStates();
      expect(first.states).toHaveLength(1);
      const row = first.states[0]!;
      expect(row).toMatchObject({ site: 'lan', target: 'rras-1', ...upState(T0 + 1000) });
      expect(row.updatedAt).toBeGreaterThan(0);
      now += 5000;
      store.publishState('rras-2', downState(T0 + 5000));
      await store.flush();
      const second = await store.siteStates();
      expect(second.states).toHaveLength(2);
      expect(second.states.find((s) => s.target === 'rras-1')).toBe(row);
      expect(second.states.find((s) => s.target === 'rras-2')).toMatchObject({ site: 'lan', state: 'down', lastResult: downState(T0 + 5000).lastResult });
      expect(second.at).toBeGreaterThanOrEqual(row.updatedAt);
    });

    it('lists the maintenance windows recorded for its targets', async () => {
      const store = await siteStore(() => context.open(), ['rras-1', 'rras-2']);
      await store.setMaintenance('rras-2', { until: T0 + HOUR, reason: 'patching' });
      expect(await store.maintenanceWindows()).toEqual(new Map([['rras-2', { until: T0 + HOUR, reason: 'patching' }]]));
      await store.setMaintenance('rras-2', null);
      expect(await store.maintenanceWindows()).toEqual(new Map());
    });

    // Only a store that holds several sites (SQLite and memory hold one: the file or process is one instance's).
    if (!context.openBeside) return;
    const openBeside: NonNullable<ContractContext['openBeside']> = context.openBeside;
    describe('several sites on one database', () => {
      async function twoSites(): Promise<{ lan: Store; internet: Store }> {
        const lan = await siteStore(() => context.open({ site: 'lan' }), ['rras-1', 'rras-2']);
        const internet = await siteStore(() => openBeside(lan, { site: 'internet' }), ['rras-1']);
        return { lan, internet };
      }

      it('keeps each site\'s results, transitions and uptime apart, and reads another site\'s by name', async () => {
        const { lan, internet } = await twoSites();
        lan.record('rras-1', 'head', okResult(T0));
        lan.recordTransition(transition(T0, { from: 'unknown', to: 'up' }));
        internet.record('rras-1', 'head', failedResult(T0 + 10));
        internet.recordTransition(transition(T0 + 10, { from: 'unknown', to: 'down' }));
        await Promise.all([lan.flush(), internet.flush()]);
        expect(lan.writeHealth().ok && internet.writeHealth().ok).toBe(true);
        expect((await lan.history('rras-1', { limit: 10 })).items).toEqual([stored(okResult(T0))]);
        expect((await internet.history('rras-1', { limit: 10 })).items).toEqual([stored(failedResult(T0 + 10))]);
        expect((await lan.history('rras-1', { limit: 10 }, 'internet')).items).toEqual([stored(failedResult(T0 + 10))]);
        expect((await internet.transitionsBetween('rras-1', T0, T0 + HOUR, 'lan')).map((t) => t.to)).toEqual(['up']);
        expect(await lan.uptime('rras-1', T0, T0 + HOUR)).toEqual({ probes: 1, failures: 0 });
        expect(await lan.uptime('rras-1', T0, T0 + HOUR, 'internet')).toEqual({ probes: 1, failures: 1 });
        expect(await lan.lastResult('rras-1', 'head')).toEqual(stored(okResult(T0)));
        expect(await internet.lastTransition('rras-1')).toMatchObject({ to: 'down' });
        // rras-2 is probed from lan only.
        await expect(lan.history('rras-2', { limit: 10 }, 'internet')).rejects.toThrow(TargetNotFoundError);
        expect(await lan.sites()).toEqual(['internet', 'lan']);
        expect(await internet.sites()).toEqual(['internet', 'lan']);
      });

      it('rolls up the results of every site on the instance that runs housekeeping, those other instances wrote too', async () => {
        const { lan, internet } = await twoSites();
        for (let k = 0; k < 4; k++) {
          lan.record('rras-1', 'head', okResult(T0 + k * 15_000));
          internet.record('rras-1', 'head', failedResult(T0 + k * 15_000 + 10));
        }
        await Promise.all([lan.flush(), internet.flush()]);
        for (let step = await lan.housekeepingStep(T0 + 2 * MINUTE); step; step = await lan.housekeepingStep(T0 + 2 * MINUTE));
        expect((await lan.rollups('rras-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 4, failures: 0 }]);
        expect((await internet.rollups('rras-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 4, failures: 4 }]);
        expect(await internet.uptime('rras-1', T0, T0 + 2 * MINUTE)).toEqual({ probes: 4, failures: 4 });
      });

      it('rolls up again what another instance writes late, into buckets the instance that runs housekeeping had rolled up', async () => {
        const { lan, internet } = await twoSites();
        const housekeep = async (now: number) => {
          for (let step = await lan.housekeepingStep(now); step; step = await lan.housekeepingStep(now));
        };
        for (let k = 0; k < 3; k++) {
          lan.record('rras-1', 'head', okResult(T0 + k * 15_000));
          internet.record('rras-1', 'head', failedResult(T0 + k * 15_000 + 10));
        }
        await Promise.all([lan.flush(), internet.flush()]);
        await housekeep(T0 + 2 * HOUR);
        expect((await internet.rollups('rras-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 3 }]);
        // internet was cut off from the database for a while: its queued result arrives after lan rolled both its
        // minute and its hour up. internet never ran housekeeping, so the marks it last read may be old.
        internet.record('rras-1', 'head', failedResult(T0 + 50_000));
        await internet.flush();
        await housekeep(T0 + 2 * HOUR);
        expect((await internet.rollups('rras-1', '1m', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 4, failures: 4 }]);
        expect((await internet.rollups('rras-1', '1h', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 4, failures: 4 }]);
        expect((await lan.rollups('rras-1', '1h', { limit: 10 })).items).toMatchObject([{ at: T0, probes: 3, failures: 0 }]);
      });

      it('shows every site\'s live states to every instance', async () => {
        const { lan, internet } = await twoSites();
        lan.publishState('rras-1', upState(T0));
        internet.publishState('rras-1', downState(T0 + 10));
        await Promise.all([lan.flush(), internet.flush()]);
        for (const store of [lan, internet]) {
          const { states } = await store.siteStates();
          expect(states.map((s) => [s.site, s.target, s.state]).sort()).toEqual([
            ['internet', 'rras-1', 'down'],
            ['lan', 'rras-1', 'up'],
          ]);
        }
      });

      it('never lets an instance overwrite a site\'s state with an older result than the one published', async () => {
        const { lan } = await twoSites();
        const peer = await openBeside(lan, { site: 'lan' });
        await peer.syncTargets([target('rras-1'), target('rras-2')]);
        lan.publishState('rras-1', upState(T0 + 60_000));
        await lan.flush();
        peer.publishState('rras-1', downState(T0)); // the peer probed it before the lan store took it over
        await peer.flush();
        const { states } = await peer.siteStates();
        expect(states.find((s) => s.site === 'lan' && s.target === 'rras-1')).toMatchObject({ state: 'up' });
      });

      it('records a maintenance window for the target at every site, and ends it everywhere', async () => {
        const { lan, internet } = await twoSites();
        await internet.setMaintenance('rras-1', { until: T0 + HOUR, reason: 'patching' });
        expect(await lan.maintenance('rras-1')).toEqual({ until: T0 + HOUR, reason: 'patching' });
        expect(await lan.maintenanceWindows()).toEqual(new Map([['rras-1', { until: T0 + HOUR, reason: 'patching' }]]));
        await lan.setMaintenance('rras-1', null);
        expect(await internet.maintenance('rras-1')).toBeNull();
      });
    });
  });
}

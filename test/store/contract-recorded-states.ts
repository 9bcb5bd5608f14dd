// The store contract for recordedStates(): the batch read a start, a reload or a takeover restores arriving targets
// from. Each name must get exactly what lastTransition() and maintenance() answer for it, whatever the batching.
import { describe, expect, it } from 'vitest';
import { RECORDED_STATES_BATCH } from '../../src/store/recorded-states.js';
import type { RecordedState, Store } from '../../src/store/store.js';
import { DAY, HOUR, MINUTE, T0, target, transition, type ContractContext } from './contract-support.js';

/** Names a query built by pasting strings would break on. */
const AWKWARD_NAMES = [`o'brien "vpn"`, "rras-1'); DROP TABLE targets; --", 'rras-%_\\', 'rras-ü-1', '[1,2]'];

/** What the one-target reads answer for each name: what the batch read must answer. */
async function oneByOne(store: Store, names: readonly string[]): Promise<Map<string, RecordedState>> {
  const states = new Map<string, RecordedState>();
  for (const name of names) states.set(name, { transition: await store.lastTransition(name), maintenance: await store.maintenance(name) });
  return states;
}

export function describeRecordedStatesContract(context: ContractContext): void {
  describe('recorded states (the batch read of arriving targets)', () => {
    it('gives each name its newest transition and its maintenance window, and nulls to a target with neither or no row', async () => {
      const names = ['rras-1', 'rras-2', 'rras-3', 'rras-quiet', ...AWKWARD_NAMES];
      const store = await context.open();
      await store.syncTargets(names.map(target));
      store.recordTransition(transition(T0, { target: 'rras-1', from: 'unknown', to: 'up', cause: 'ok', message: null }));
      store.recordTransition(transition(T0 + HOUR, { target: 'rras-1' }));
      store.recordTransition(transition(T0 + 2 * HOUR, { target: 'rras-3', from: 'up', to: 'maintenance', cause: null, message: 'patching' }));
      AWKWARD_NAMES.forEach((name, i) => store.recordTransition(transition(T0 + i * MINUTE, { target: name, message: name })));
      await store.flush();
      await store.setMaintenance('rras-2', { until: T0 + 3 * HOUR, reason: 'new firmware' });
      await store.setMaintenance('rras-3', { until: T0 + 4 * HOUR, reason: 'patching' });
      await store.setMaintenance(AWKWARD_NAMES[1]!, { until: T0 + 5 * HOUR, reason: `it's "planned"` });

      const asked = [...names, 'ghost'];
      const states = await store.recordedStates(asked);
      expect([...states.keys()].sort()).toEqual([...asked].sort());
      expect(states.get('rras-1')).toEqual({ transition: transition(T0 + HOUR, { target: 'rras-1' }), maintenance: null });
      expect(states.get('rras-2')).toEqual({ transition: null, maintenance: { until: T0 + 3 * HOUR, reason: 'new firmware' } });
      expect(states.get('rras-3')).toEqual({
        transition: transition(T0 + 2 * HOUR, { target: 'rras-3', from: 'up', to: 'maintenance', cause: null, message: 'patching' }),
        maintenance: { until: T0 + 4 * HOUR, reason: 'patching' },
      });
      expect(states.get('rras-quiet')).toEqual({ transition: null, maintenance: null });
      expect(states.get('ghost')).toEqual({ transition: null, maintenance: null });
      expect(states.get(AWKWARD_NAMES[1]!)?.maintenance).toEqual({ until: T0 + 5 * HOUR, reason: `it's "planned"` });
      expect(states).toEqual(await oneByOne(store, asked));
      expect(await store.recordedStates([])).toEqual(new Map());

      if (!context.reopen) return;
      await store.close();
      const reopened = await context.reopen(store);
      expect(await reopened.recordedStates(asked)).toEqual(states);
    });

    it('answers every name when there are more than one batch of them, each with its own rows', async () => {
      const names = Array.from({ length: 2 * RECORDED_STATES_BATCH + 7 }, (_, i) => `rras-${String(i).padStart(5, '0')}`);
      const store = await context.open({ maxPending: 100_000 });
      await store.syncTargets(names.map(target));
      names.forEach((name, i) => {
        if (i % 3 === 2) return; // every third target has no history
        store.recordTransition(transition(T0 + i, { target: name, from: 'unknown', to: 'up', cause: 'ok', message: null }));
        store.recordTransition(transition(T0 + HOUR + i, { target: name, message: `down #${i}` }));
      });
      await store.flush();
      const windowed = [names[1]!, names[RECORDED_STATES_BATCH]!, names.at(-1)!];
      for (const name of windowed) await store.setMaintenance(name, { until: T0 + DAY, reason: `window of ${name}` });

      // Asked newest name first: the answer follows the names, not the order of ids or batches.
      const asked = [...names].reverse();
      const states = await store.recordedStates(asked);
      expect(states.size).toBe(names.length);
      names.forEach((name, i) => {
        const expected: RecordedState = {
          transition: i % 3 === 2 ? null : transition(T0 + HOUR + i, { target: name, message: `down #${i}` }),
          maintenance: windowed.includes(name) ? { until: T0 + DAY, reason: `window of ${name}` } : null,
        };
        expect(states.get(name), name).toEqual(expected);
      });
    });

    // Only a store that holds several sites (SQLite and memory hold one).
    if (!context.openBeside) return;
    const openBeside: NonNullable<ContractContext['openBeside']> = context.openBeside;
    it('reads only its own site\'s transitions when several sites share the database and target names', async () => {
      const lan = await context.open({ site: 'lan' });
      await lan.syncTargets([target('rras-1'), target('rras-2')]);
      const internet = await openBeside(lan, { site: 'internet' });
      await internet.syncTargets([target('rras-1'), target('rras-3')]);
      lan.recordTransition(transition(T0, { target: 'rras-1', from: 'unknown', to: 'up', cause: 'ok', message: null }));
      lan.recordTransition(transition(T0 + HOUR, { target: 'rras-2' }));
      internet.recordTransition(transition(T0 + 10, { target: 'rras-1', from: 'unknown', to: 'down' }));
      await Promise.all([lan.flush(), internet.flush()]);
      await internet.setMaintenance('rras-1', { until: T0 + HOUR, reason: 'patching' });

      const atInternet = await internet.recordedStates(['rras-1', 'rras-2', 'rras-3']);
      expect(atInternet.get('rras-1')).toEqual({
        transition: transition(T0 + 10, { target: 'rras-1', from: 'unknown', to: 'down' }),
        maintenance: { until: T0 + HOUR, reason: 'patching' },
      });
      // rras-2 is probed from lan only: the internet site has no row of it, so nothing of lan's.
      expect(atInternet.get('rras-2')).toEqual({ transition: null, maintenance: null });
      expect(atInternet.get('rras-3')).toEqual({ transition: null, maintenance: null });
      const atLan = await lan.recordedStates(['rras-1', 'rras-2', 'rras-3']);
      expect(atLan.get('rras-1')?.transition).toEqual(transition(T0, { target: 'rras-1', from: 'unknown', to: 'up', cause: 'ok', message: null }));
      // A window is about the server: recorded for every site of the target.
      expect(atLan.get('rras-1')?.maintenance).toEqual({ until: T0 + HOUR, reason: 'patching' });
      expect(atLan.get('rras-2')?.transition).toEqual(transition(T0 + HOUR, { target: 'rras-2' }));
      expect(atLan.get('rras-3')).toEqual({ transition: null, maintenance: null });
    });
  });
}

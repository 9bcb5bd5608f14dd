import { describe, expect, it } from 'vitest';
import { applyResult, enterMaintenance, exitMaintenance, expireMaintenance, initialHealth } from '../../src/health/state.js';
import { groupHealth, healthOfTally, retally, tallyGroup } from '../../src/health/group.js';
import type { TargetHealth, TargetState } from '../../src/health/types.js';
import { statusResult } from '../fixtures/domain.js';

const result = (ok: boolean, at: number) => statusResult(at, ok ? 401 : 404, { durationMs: 1 });

/** Feeds a string of results ("+" ok, "-" failed) and returns the visible state after each. */
function run(pattern: string, rise: number, fall: number, start: TargetHealth = initialHealth()): string[] {
  let h = start;
  return [...pattern].map((c, i) => {
    h = applyResult('t', h, result(c === '+', i), { rise, fall }).health;
    return h.state;
  });
}

describe('rise/fall state machine', () => {
  it.each([
    { pattern: '++', rise: 2, fall: 3, states: ['unknown', 'up'] },
    { pattern: '+', rise: 1, fall: 1, states: ['up'] },
    { pattern: '---', rise: 2, fall: 3, states: ['unknown', 'unknown', 'down'] },
    { pattern: '++--+---', rise: 2, fall: 3, states: ['unknown', 'up', 'up', 'up', 'up', 'up', 'up', 'down'] },
    { pattern: '---+-++', rise: 2, fall: 3, states: ['unknown', 'unknown', 'down', 'down', 'down', 'down', 'up'] },
    { pattern: '+-+-+-', rise: 2, fall: 2, states: ['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown'] },
    { pattern: '+--', rise: 1, fall: 2, states: ['up', 'up', 'down'] },
  ])('$pattern with rise $rise fall $fall goes $states', ({ pattern, rise, fall, states }) => {
    expect(run(pattern, rise, fall)).toEqual(states);
  });

  it('records a transition with the cause of the result that made it', () => {
    let h = initialHealth();
    h = applyResult('rras-1', h, result(true, 1), { rise: 1, fall: 2 }).health;
    const first = applyResult('rras-1', h, result(false, 2), { rise: 1, fall: 2 });
    expect(first.transition).toBeNull();
    const second = applyResult('rras-1', first.health, result(false, 3), { rise: 1, fall: 2 });
    expect(second.transition).toEqual({
      target: 'rras-1',
      at: 3,
      from: 'up',
      to: 'down',
      cause: 'unexpected_status',
      message: 'expected 401, got 404',
    });
    expect(second.health.since).toBe(3);
    expect(second.health.consecutiveFailures).toBe(2);
  });

  it('keeps maintenance visible while the underlying state evolves, and shows it again afterwards', () => {
    let h = applyResult('t', initialHealth(), result(true, 1), { rise: 1, fall: 1 }).health;
    const entered = enterMaintenance('t', h, { until: 100, reason: 'patching' }, 2);
    expect(entered.transition).toMatchObject({ from: 'up', to: 'maintenance', message: 'patching' });
    h = entered.health;
    const failed = applyResult('t', h, result(false, 3), { rise: 1, fall: 1 });
    expect(failed.transition).toBeNull();
    expect(failed.health.state).toBe('maintenance');
    expect(failed.health.underlying).toBe('down');
    expect(expireMaintenance('t', failed.health, 99).transition).toBeNull();
    const expired = expireMaintenance('t', failed.health, 100);
    expect(expired.transition).toMatchObject({ from: 'maintenance', to: 'down', at: 100 });
    expect(exitMaintenance('t', expired.health, 101).transition).toBeNull();
  });
});

describe('group state', () => {
  it.each<{ servers: TargetState[]; vip: TargetState | null; state: string; up: number }>([
    { servers: ['up', 'up'], vip: null, state: 'ok', up: 2 },
    { servers: ['up', 'down'], vip: null, state: 'degraded', up: 1 },
    { servers: ['down', 'down'], vip: null, state: 'down', up: 0 },
    { servers: ['up', 'up'], vip: 'down', state: 'down', up: 2 },
    { servers: ['up', 'up'], vip: 'up', state: 'ok', up: 2 },
    { servers: ['unknown', 'unknown'], vip: null, state: 'unknown', up: 0 },
    { servers: ['up', 'unknown'], vip: null, state: 'unknown', up: 1 },
    { servers: ['down', 'unknown'], vip: null, state: 'down', up: 0 },
    { servers: ['up', 'maintenance'], vip: null, state: 'ok', up: 1 },
    { servers: ['maintenance', 'down'], vip: null, state: 'down', up: 0 },
    { servers: ['maintenance'], vip: null, state: 'unknown', up: 0 },
  ])('servers $servers, vip $vip -> $state', ({ servers, vip, state, up }) => {
    expect(groupHealth(servers, vip)).toEqual({ state, serversUp: up, serversTotal: servers.length });
  });

  it.each<{ steps: [member: 'server' | 'vip', from: TargetState, to: TargetState][]; state: string; up: number }>([
    { steps: [['server', 'unknown', 'up'], ['server', 'unknown', 'up']], state: 'ok', up: 2 },
    { steps: [['server', 'unknown', 'up'], ['server', 'unknown', 'up'], ['server', 'up', 'down']], state: 'degraded', up: 1 },
    { steps: [['server', 'unknown', 'down'], ['server', 'unknown', 'down']], state: 'down', up: 0 },
    { steps: [['server', 'unknown', 'up'], ['server', 'unknown', 'up'], ['vip', 'unknown', 'down']], state: 'down', up: 2 },
    { steps: [['server', 'unknown', 'up'], ['server', 'unknown', 'maintenance']], state: 'ok', up: 1 },
    { steps: [['server', 'unknown', 'up'], ['server', 'unknown', 'up'], ['server', 'up', 'maintenance'], ['server', 'maintenance', 'down']], state: 'degraded', up: 1 },
  ])('followed one transition at a time from two unknown servers ($steps): $state', ({ steps, state, up }) => {
    let tally = tallyGroup(['unknown', 'unknown'], steps.some(([m]) => m === 'vip') ? 'unknown' : null);
    const before = tally;
    for (const [member, from, to] of steps) tally = retally(tally, member, from, to);
    expect(healthOfTally(tally)).toEqual({ state, serversUp: up, serversTotal: 2 });
    expect(healthOfTally(before).state).toBe('unknown'); // the earlier tally is left as it was
  });
});

import { describe, expect, it } from 'vitest';
import { incidentDurationS, incidentsFrom } from '../../src/health/incidents.js';
import { restoreHealth } from '../../src/health/state.js';
import type { StateTransition, TargetState } from '../../src/health/types.js';

const T0 = Date.parse('2026-11-26T21:00:00.000Z');
const t = (atS: number, from: TargetState, to: TargetState, cause: StateTransition['cause'] = null, message: string | null = null): StateTransition => ({
  target: 'rras-eu-1',
  at: T0 + atS * 1000,
  from,
  to,
  cause,
  message,
});

describe('incidents from transitions', () => {
  it('open at a down transition, close at the next transition, newest first', () => {
    const incidents = incidentsFrom([
      t(0, 'unknown', 'up'),
      t(60, 'up', 'down', 'timeout', 'no answer within 5 s'),
      t(180, 'down', 'up', 'ok', ''),
      t(300, 'up', 'down', 'connect_refused', 'refused'),
    ]);
    expect(incidents).toEqual([
      { startedAt: T0 + 300_000, endedAt: null, cause: 'connect_refused', message: 'refused' },
      { startedAt: T0 + 60_000, endedAt: T0 + 180_000, cause: 'timeout', message: 'no answer within 5 s' },
    ]);
    expect(incidentDurationS(incidents[1]!, T0)).toBe(120);
    expect(incidentDurationS(incidents[0]!, T0 + 360_000)).toBe(60);
  });

  it('maintenance changes open nothing; putting a down target in maintenance ends its incident', () => {
    expect(incidentsFrom([t(0, 'up', 'maintenance', null, 'patching'), t(600, 'maintenance', 'up')])).toEqual([]);
    expect(
      incidentsFrom([t(0, 'up', 'down', 'timeout', 'x'), t(30, 'down', 'maintenance', null, 'patching'), t(90, 'maintenance', 'down', 'timeout', 'x')]),
    ).toEqual([
      { startedAt: T0 + 90_000, endedAt: null, cause: 'timeout', message: 'x' },
      { startedAt: T0, endedAt: T0 + 30_000, cause: 'timeout', message: 'x' },
    ]);
  });

  it('a down to unknown transition (no verdict) closes the incident', () => {
    expect(incidentsFrom([t(0, 'up', 'down', 'dns', 'x'), t(10, 'down', 'unknown')])).toEqual([
      { startedAt: T0, endedAt: T0 + 10_000, cause: 'dns', message: 'x' },
    ]);
  });
});

describe('restoring health after a restart', () => {
  const NOW = T0 + 3_600_000;

  it('starts unknown without any recorded transition', () => {
    const step = restoreHealth('rras-eu-1', null, null, NOW);
    expect(step.health.state).toBe('unknown');
    expect(step.transition).toBeNull();
  });

  it('resumes the last recorded state, since its time, without a new transition (a down target stays in its incident)', () => {
    const step = restoreHealth('rras-eu-1', t(60, 'up', 'down', 'timeout', 'x'), null, NOW);
    expect(step.health).toMatchObject({ state: 'down', underlying: 'down', since: T0 + 60_000, consecutiveFailures: 0, maintenance: null });
    expect(step.transition).toBeNull();
  });

  it('keeps a maintenance window that is not over, and ends one that ended while stopped', () => {
    const active = restoreHealth('rras-eu-1', t(0, 'up', 'maintenance', null, 'patching'), { until: NOW + 1, reason: 'patching' }, NOW);
    expect(active.health).toMatchObject({ state: 'maintenance', maintenance: { until: NOW + 1, reason: 'patching' } });
    expect(active.transition).toBeNull();
    const ended = restoreHealth('rras-eu-1', t(0, 'up', 'maintenance', null, 'patching'), { until: NOW - 1, reason: 'patching' }, NOW);
    expect(ended.health).toMatchObject({ state: 'unknown', maintenance: null });
    expect(ended.transition).toMatchObject({ from: 'maintenance', to: 'unknown', at: NOW });
  });

  it('enters a recorded maintenance window whose transition was lost', () => {
    const step = restoreHealth('rras-eu-1', t(0, 'unknown', 'up'), { until: NOW + 60_000, reason: 'r' }, NOW);
    expect(step.health.state).toBe('maintenance');
    expect(step.transition).toMatchObject({ from: 'up', to: 'maintenance', at: NOW });
  });
});

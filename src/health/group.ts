import type { TargetState } from './types.js';

export type GroupState = 'ok' | 'degraded' | 'down' | 'unknown';

export interface GroupHealth {
  state: GroupState;
  serversUp: number;
  serversTotal: number;
}

/**
 * A group's state from its members' states. Servers in maintenance are left out of the verdict (they are
 * still counted in serversTotal). ok: every other server up; degraded: some down, some up; down: none up
 * while some are down, or the VIP is down; unknown: no verdict yet.
 */
export function groupHealth(servers: TargetState[], vip: TargetState | null): GroupHealth {
  const serversUp = servers.filter((s) => s === 'up').length;
  const active = servers.filter((s) => s !== 'maintenance');
  const down = active.filter((s) => s === 'down').length;
  const unknown = active.filter((s) => s === 'unknown').length;
  let state: GroupState;
  if (vip === 'down' || (down > 0 && serversUp === 0)) state = 'down';
  else if (down > 0) state = 'degraded';
  else if (active.length > 0 && unknown === 0 && vip !== 'unknown') state = 'ok';
  else state = 'unknown';
  return { state, serversUp, serversTotal: servers.length };
}

import type { TargetState } from './types.js';

export type GroupState = 'ok' | 'degraded' | 'down' | 'unknown';

export interface GroupHealth {
  state: GroupState;
  serversUp: number;
  serversTotal: number;
}

/** How many of a group's servers are in each state, and the VIP's state: all a group's health is made of. */
export interface GroupTally {
  servers: Record<TargetState, number>;
  vip: TargetState | null;
}

/** Counts the members' states once (a new config); afterwards retally() follows each change in O(1). */
export function tallyGroup(servers: readonly TargetState[], vip: TargetState | null): GroupTally {
  const counts: Record<TargetState, number> = { up: 0, down: 0, unknown: 0, maintenance: 0 };
  for (const s of servers) counts[s]++;
  return { servers: counts, vip };
}

/** The tally after one member moved from `from` to `to` (a new object; the old one is left as it was). */
export function retally(tally: GroupTally, member: 'server' | 'vip', from: TargetState, to: TargetState): GroupTally {
  if (member === 'vip') return { servers: tally.servers, vip: to };
  const servers = { ...tally.servers };
  servers[from]--;
  servers[to]++;
  return { servers, vip: tally.vip };
}

/**
 * A group's state from its members' states. Servers in maintenance are left out of the verdict (they are
 * still counted in serversTotal). ok: every other server up; degraded: some down, some up; down: none up
 * while some are down, or the VIP is down; unknown: no verdict yet.
 */
export function healthOfTally({ servers, vip }: GroupTally): GroupHealth {
  const { up, down, unknown, maintenance } = servers;
  const active = up + down + unknown;
  let state: GroupState;
  if (vip === 'down' || (down > 0 && up === 0)) state = 'down';
  else if (down > 0) state = 'degraded';
  else if (active > 0 && unknown === 0 && vip !== 'unknown') state = 'ok';
  else state = 'unknown';
  return { state, serversUp: up, serversTotal: active + maintenance };
}

export function groupHealth(servers: readonly TargetState[], vip: TargetState | null): GroupHealth {
  return healthOfTally(tallyGroup(servers, vip));
}

import type { ErrorKind } from '../probe/types.js';
import type { StateTransition } from './types.js';

/** A period during which a target's visible state was `down`. Times in ms. */
export interface Incident {
  startedAt: number;
  /** Null while the target is still down. */
  endedAt: number | null;
  /** The error kind of the result that took the target down (or, leaving maintenance, its last failure). */
  cause: ErrorKind | null;
  message: string | null;
}

/**
 * Incidents from one target's transitions (oldest first). An incident opens when the visible state becomes
 * `down` and closes at the next transition (to up, unknown or maintenance: a down target put in maintenance
 * is no longer an unplanned outage). Going into or out of maintenance from any other state opens nothing.
 * Returned newest first.
 */
export function incidentsFrom(transitions: StateTransition[]): Incident[] {
  const incidents: Incident[] = [];
  let open: Incident | null = null;
  for (const t of transitions) {
    if (open && t.to !== 'down') {
      open.endedAt = t.at;
      open = null;
    }
    if (t.to === 'down' && !open) {
      open = { startedAt: t.at, endedAt: null, cause: t.cause, message: t.message };
      incidents.push(open);
    }
  }
  return incidents.reverse();
}

/** Seconds an incident lasted, or has lasted so far while open. */
export function incidentDurationS(incident: Incident, now: number): number {
  return Math.max(0, ((incident.endedAt ?? now) - incident.startedAt) / 1000);
}

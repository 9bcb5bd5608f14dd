import type { ErrorKind, ProbeResult } from '../probe/types.js';

export type TargetState = 'up' | 'down' | 'unknown' | 'maintenance';

export const TARGET_STATES: readonly TargetState[] = ['up', 'down', 'unknown', 'maintenance'];

/** A change of a target's debounced state; down transitions become incidents. Times in ms. */
export interface StateTransition {
  target: string;
  at: number;
  from: TargetState;
  to: TargetState;
  /** The error kind of the result that caused it (null for maintenance changes). */
  cause: ErrorKind | null;
  message: string | null;
}

export interface Maintenance {
  until: number;
  reason: string;
}

/** A target's debounced health, as the state machine keeps it. */
export interface TargetHealth {
  state: TargetState;
  /** When the target entered `state` (ms); null while it has never had a verdict. */
  since: number | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastResult: ProbeResult | null;
  maintenance: Maintenance | null;
  /** The state under the maintenance overlay: what rise/fall say, kept while in maintenance. */
  underlying: Exclude<TargetState, 'maintenance'>;
}

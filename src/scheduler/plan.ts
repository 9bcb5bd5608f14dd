/**
 * Pure planning helpers: where each target's probes fall in time.
 * Interval targets probe on a fixed grid `k * interval + offset`, where the offset comes from a hash of the
 * name, so a fleet with one interval is spread evenly over it instead of all probing at second 0, and the
 * same target keeps the same phase across restarts.
 */
import { stableHash } from '../config/stable-hash.js';

/** The target's phase within its interval, in whole ms. */
export function phaseOffset(name: string, intervalMs: number): number {
  return stableHash(name) % intervalMs;
}

/** The first grid time at or after `from`. */
export function nextDue(from: number, intervalMs: number, offset: number): number {
  const k = Math.ceil((from - offset) / intervalMs);
  return k * intervalMs + offset;
}

/** Every grid time in [start, end). */
export function dueTimesIn(start: number, end: number, intervalMs: number, offset: number): number[] {
  const times: number[] = [];
  for (let t = nextDue(start, intervalMs, offset); t < end; t += intervalMs) times.push(t);
  return times;
}

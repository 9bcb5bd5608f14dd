// Shared by the multi-instance tests: arrival times at the fake servers read as probing rounds.
import { appendFileSync } from 'node:fs';

/** Appends top-level keys (YAML lines) to a config written by writeFleetConfig. */
export function appendTopLevel(path: string, lines: string[]): void {
  appendFileSync(path, `${lines.join('\n')}\n`);
}

/**
 * Requests of one target in [from, to) that came closer than `minGapMs` to the previous one: two probers probing
 * it in one round (a single prober keeps the interval between its probes).
 */
export function doubles(arrivals: readonly number[], from: number, to: number, minGapMs: number): number[] {
  const inside = arrivals.filter((at) => at >= from && at < to);
  return inside.filter((at, i) => i > 0 && at - inside[i - 1]! < minGapMs);
}

export function countIn(arrivals: readonly number[], from: number, to: number): number {
  return arrivals.filter((at) => at >= from && at < to).length;
}

// Which configured maintenance windows cover a target or a group, and their current and next occurrence.
// The monitor asks it once a second for every target, so each window's occurrences are computed once and kept
// until the next boundary (an end or a start) passes. Time is always passed in.

import type { MaintenanceWindowConfig, TargetConfig } from '../config/types.js';
import { describeWindow, occurrenceAt, occurrencesAfter, type Occurrence } from './maintenance-windows.js';
import type { Maintenance } from './types.js';

/** A target's or group's windows now: the occurrence in progress (null: none) and the next one to start. */
export interface ScheduledMaintenance {
  current: Occurrence | null;
  next: Occurrence | null;
}

/** One configured window as the status page lists it. */
export interface WindowStatus extends ScheduledMaintenance {
  config: MaintenanceWindowConfig;
  description: string;
}

interface Cached extends ScheduledMaintenance {
  computedAt: number;
  /** The first instant at which current or next may differ. */
  validUntil: number;
}

/** The reason a target in a configured window shows (status page, API, state transition). */
export function windowReason(window: string): string {
  return `maintenance window "${window}"`;
}

export class MaintenanceCalendar {
  private windows: MaintenanceWindowConfig[] = [];
  private cache = new Map<string, Cached>();

  constructor(windows: MaintenanceWindowConfig[] = []) {
    this.setWindows(windows);
  }

  /** A reloaded config's windows: takes effect at the next question asked. */
  setWindows(windows: MaintenanceWindowConfig[]): void {
    this.windows = windows;
    this.cache.clear();
  }

  /** True when no window is configured: no target is ever in a configured window. */
  get empty(): boolean {
    return this.windows.length === 0;
  }

  /** The maintenance a configured window puts the target in at `now`, or null. */
  activeFor(target: Pick<TargetConfig, 'name' | 'group'>, now: number): Maintenance | null {
    const current = this.forTarget(target, now).current;
    return current === null ? null : { until: current.end, reason: windowReason(current.window) };
  }

  /** Of the windows covering the target (through its group or by name): the one in progress and the next one. */
  forTarget(target: Pick<TargetConfig, 'name' | 'group'>, now: number): ScheduledMaintenance {
    return this.combine(
      this.windows.filter((w) => w.groups.includes(target.group) || w.targets.includes(target.name)),
      now,
    );
  }

  /** Of the windows naming the group in `groups:` (windows naming single targets show on those targets only). */
  forGroup(group: string, now: number): ScheduledMaintenance {
    return this.combine(this.windows.filter((w) => w.groups.includes(group)), now);
  }

  /** True when some window covers the target (it then shows scheduled_maintenance). */
  covers(target: Pick<TargetConfig, 'name' | 'group'>): boolean {
    return this.windows.some((w) => w.groups.includes(target.group) || w.targets.includes(target.name));
  }

  coversGroup(group: string): boolean {
    return this.windows.some((w) => w.groups.includes(group));
  }

  /** Every configured window with its state at `now`, in config order. */
  list(now: number): WindowStatus[] {
    return this.windows.map((config) => ({ config, description: describeWindow(config), ...this.state(config, now) }));
  }

  private combine(windows: MaintenanceWindowConfig[], now: number): ScheduledMaintenance {
    let current: Occurrence | null = null;
    let next: Occurrence | null = null;
    for (const window of windows) {
      const state = this.state(window, now);
      if (state.current && (current === null || state.current.end > current.end)) current = state.current;
      if (state.next && (next === null || state.next.start < next.start)) next = state.next;
    }
    return { current, next };
  }

  private state(window: MaintenanceWindowConfig, now: number): ScheduledMaintenance {
    const cached = this.cache.get(window.name);
    if (cached && now >= cached.computedAt && now < cached.validUntil) return cached;
    const current = occurrenceAt(window, now);
    const next = occurrencesAfter(window, now, 1)[0] ?? null;
    const validUntil = Math.min(current?.end ?? Infinity, next?.start ?? Infinity);
    const fresh: Cached = { current, next, computedAt: now, validUntil };
    this.cache.set(window.name, fresh);
    return fresh;
  }
}

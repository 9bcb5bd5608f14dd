// Pure: the live state and what the store knows -> what the status page shows.
import { certLevel, thresholdsOf, type CertLevel } from '../../config/policy.js';
import type { GroupState } from '../../health/group.js';
import type { Incident } from '../../health/incidents.js';
import type { ScheduledMaintenance, WindowStatus } from '../../health/maintenance-calendar.js';
import type { Maintenance, TargetState } from '../../health/types.js';
import { diagnose, type Diagnosis } from '../../probe/diagnose.js';
import type { ErrorKind, ProbeResult } from '../../probe/types.js';
import type { GroupView, TargetView } from '../deps.js';
import type { StripBucket } from './strip.js';

export const UPTIME_WINDOWS = ['24h', '7d', '30d'] as const;
export type UptimeWindow = (typeof UPTIME_WINDOWS)[number];

/** What the store could tell about one target; null parts: not available in this app (or the read failed). */
export interface TargetHistory {
  uptime: Record<UptimeWindow, number | null> | null;
  strip: StripBucket[] | null;
  /** Incidents overlapping the incident window, newest first. */
  incidents: Incident[] | null;
}

export interface TargetRow {
  name: string;
  role: 'server' | 'vip';
  url: string;
  offload: boolean;
  state: TargetState;
  since: number | null;
  consecutiveFailures: number;
  last: ProbeResult | null;
  /** `sstpwatch check`'s words for the last result. */
  diagnosis: Diagnosis | null;
  /** level: by the target's `certificates` thresholds (config/policy.ts), as the alert rules judge it. */
  certificate: { daysLeft: number; notAfter: number; subject: string; level: CertLevel } | null;
  maintenance: Maintenance | null;
  /** The configured windows covering it; null: none does. */
  scheduled: ScheduledMaintenance | null;
  history: TargetHistory;
}

export interface GroupSection {
  name: string;
  hostname: string;
  state: GroupState;
  serversUp: number;
  serversTotal: number;
  targets: TargetRow[];
}

export interface IncidentRow {
  target: string;
  group: string;
  startedAt: number;
  endedAt: number | null;
  cause: ErrorKind | null;
  message: string | null;
}

export interface MaintenanceRow {
  target: string;
  group: string;
  until: number;
  reason: string;
}

export interface StatusPageModel {
  now: number;
  refreshSeconds: number;
  version: string;
  summary: Record<TargetState, number> & { targets: number };
  groups: GroupSection[];
  /** Open ones first, then the most recent. */
  incidents: IncidentRow[];
  /** How far back the incident list reaches, ms. */
  incidentWindowMs: number;
  maintenance: MaintenanceRow[];
  /** The configured recurring windows, in config order. */
  windows: WindowStatus[];
}

export interface ModelInput {
  now: number;
  refreshSeconds: number;
  version: string;
  groups: GroupView[];
  target(name: string): TargetView | undefined;
  history(name: string): TargetHistory;
  incidentWindowMs: number;
  /** The configured windows' state now, and those covering a target (absent: none configured). */
  windows?: { list: WindowStatus[]; forTarget(config: TargetView['config']): ScheduledMaintenance | null };
}

export function buildStatusPage(input: ModelInput): StatusPageModel {
  const summary = { targets: 0, up: 0, down: 0, unknown: 0, maintenance: 0 };
  const incidents: IncidentRow[] = [];
  const maintenance: MaintenanceRow[] = [];
  const groups = input.groups.map(({ config, health }): GroupSection => {
    const names = [...config.servers, ...(config.vip ? [config.vip] : [])];
    const targets: TargetRow[] = [];
    for (const name of names) {
      const view = input.target(name);
      if (!view) continue;
      const row = targetRow(view, input.history(name), input.now, input.windows?.forTarget(view.config) ?? null);
      targets.push(row);
      summary.targets++;
      summary[row.state]++;
      for (const i of row.history.incidents ?? []) incidents.push({ target: name, group: config.name, ...i });
      if (row.maintenance && row.state === 'maintenance') maintenance.push({ target: name, group: config.name, ...row.maintenance });
    }
    return { name: config.name, hostname: config.hostname, state: health.state, serversUp: health.serversUp, serversTotal: health.serversTotal, targets };
  });
  incidents.sort((a, b) => Number(b.endedAt === null) - Number(a.endedAt === null) || b.startedAt - a.startedAt);
  maintenance.sort((a, b) => a.until - b.until);
  return {
    now: input.now,
    refreshSeconds: input.refreshSeconds,
    version: input.version,
    summary,
    groups,
    incidents,
    incidentWindowMs: input.incidentWindowMs,
    maintenance,
    windows: input.windows?.list ?? [],
  };
}

function targetRow({ config, health }: TargetView, history: TargetHistory, now: number, scheduled: ScheduledMaintenance | null): TargetRow {
  const last = health.lastResult;
  const cert = last?.certificate ?? null;
  const thresholds = thresholdsOf(config.settings);
  return {
    name: config.name,
    role: config.role,
    url: config.url,
    offload: config.offload,
    state: health.state,
    since: health.since,
    consecutiveFailures: health.consecutiveFailures,
    last,
    diagnosis: last ? diagnose(last, { url: config.url, hostname: config.hostname, offload: config.offload, now, thresholds }) : null,
    certificate: cert
      ? { daysLeft: (cert.notAfter - now) / 86_400_000, notAfter: cert.notAfter, subject: cert.subject, level: certLevel(cert.notAfter, now, thresholds.certificates) }
      : null,
    maintenance: health.maintenance,
    scheduled,
    history,
  };
}

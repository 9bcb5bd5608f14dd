// Pure: the live state and what the store knows -> what the status page shows.
import { certLevel, thresholdsOf, type CertLevel } from '../../config/policy.js';
import type { GroupState } from '../../health/group.js';
import type { Incident } from '../../health/incidents.js';
import type { ScheduledMaintenance, WindowStatus } from '../../health/maintenance-calendar.js';
import type { Maintenance, TargetState } from '../../health/types.js';
import { diagnose, type Diagnosis } from '../../probe/diagnose.js';
import type { ErrorKind, ProbeResult } from '../../probe/types.js';
import { siteLabel } from '../../health/sites.js';
import type { GroupView, TargetView } from '../../health/views.js';
import { planPage, targetsOf, type PagePlan } from './paging.js';
import type { StripBucket } from './strip.js';

/** Down targets named in the summary line; the rest are counted. */
export const SUMMARY_DOWN_NAMES = 20;
/** Rows of the maintenance table; the rest are counted. */
export const MAINTENANCE_ROWS = 200;

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
  /** Its state from each site (when several probe it; `state` is then the combined state), and what they tell. */
  sites: { site: string; state: TargetState; stale: boolean }[] | null;
  siteFindings: { message: string; fix: string }[];
}

export interface GroupSection {
  name: string;
  hostname: string;
  state: GroupState;
  serversUp: number;
  serversTotal: number;
  targets: TargetRow[];
  /** Targets of the group not listed (a group larger than a page). */
  omitted: number;
}

/** A healthy group folded into one line (large fleets only). */
export interface FoldedGroup {
  name: string;
  hostname: string;
  serversTotal: number;
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
  /** The first SUMMARY_DOWN_NAMES down targets, troubled groups first. */
  downNames: string[];
  groups: GroupSection[];
  folded: FoldedGroup[];
  page: number;
  pages: number;
  /** Maintenance rows left out beyond MAINTENANCE_ROWS. */
  maintenanceOmitted: number;
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
  /** Which groups and targets this page lists (default: page 1 of planPage); history is read for those only. */
  plan?: PagePlan;
}

export function buildStatusPage(input: ModelInput): StatusPageModel {
  const plan = input.plan ?? planPage(input.groups, 1);
  const summary = { targets: 0, up: 0, down: 0, unknown: 0, maintenance: 0 };
  const downNames: string[] = [];
  const maintenance: MaintenanceRow[] = [];
  let maintenanceOmitted = 0;
  // Counts over the whole fleet: a map lookup per target, no history.
  for (const g of input.groups) {
    for (const name of targetsOf(g)) {
      const view = input.target(name);
      if (!view) continue;
      summary.targets++;
      summary[view.health.state]++;
      if (view.health.state === 'down' && downNames.length < SUMMARY_DOWN_NAMES) downNames.push(name);
      const m = view.health.maintenance;
      if (m && view.health.state === 'maintenance') {
        if (maintenance.length < MAINTENANCE_ROWS) maintenance.push({ target: name, group: g.config.name, ...m });
        else maintenanceOmitted++;
      }
    }
  }
  const incidents: IncidentRow[] = [];
  const groups: GroupSection[] = [];
  const folded: FoldedGroup[] = [];
  for (const { group: { config, health }, listed, omitted, folded: isFolded } of plan.groups) {
    if (isFolded) {
      folded.push({ name: config.name, hostname: config.hostname, serversTotal: health.serversTotal });
      continue;
    }
    const targets: TargetRow[] = [];
    for (const name of listed) {
      const view = input.target(name);
      if (!view) continue;
      const row = targetRow(view, input.history(name), input.now, input.windows?.forTarget(view.config) ?? null);
      targets.push(row);
      for (const i of row.history.incidents ?? []) incidents.push({ target: name, group: config.name, ...i });
    }
    groups.push({ name: config.name, hostname: config.hostname, state: health.state, serversUp: health.serversUp, serversTotal: health.serversTotal, targets, omitted });
  }
  if (plan.pages > 1) {
    // Down targets of the troubled groups first (the plan's order), so the names match what the page lists.
    const listedDown = groups.flatMap((g) => g.targets).filter((t) => t.state === 'down').map((t) => t.name);
    downNames.splice(0, downNames.length, ...new Set([...listedDown, ...downNames]));
    downNames.length = Math.min(downNames.length, SUMMARY_DOWN_NAMES);
  }
  incidents.sort((a, b) => Number(b.endedAt === null) - Number(a.endedAt === null) || b.startedAt - a.startedAt);
  maintenance.sort((a, b) => a.until - b.until);
  return {
    now: input.now,
    refreshSeconds: input.refreshSeconds,
    version: input.version,
    summary,
    downNames,
    groups,
    folded,
    page: plan.page,
    pages: plan.pages,
    incidents,
    incidentWindowMs: input.incidentWindowMs,
    maintenance,
    maintenanceOmitted,
    windows: input.windows?.list ?? [],
  };
}

function targetRow({ config, health, sites }: TargetView, history: TargetHistory, now: number, scheduled: ScheduledMaintenance | null): TargetRow {
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
    sites: sites ? sites.sites.map((s) => ({ site: siteLabel(s.site), state: s.state, stale: s.stale })) : null,
    siteFindings: sites ? sites.findings.map((f) => ({ message: f.message, fix: f.fix })) : [],
  };
}

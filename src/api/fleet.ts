// The whole configured fleet as the API shows it when the instances of a site share the targets (PostgreSQL): this
// instance's monitor holds only the targets it owns now, so a target a peer probes is shown from the state that peer
// published in the store, and a group from all its members. Without a fleet (one instance), the monitor is the answer.
import type { GroupConfig, TargetConfig } from '../config/types.js';
import { groupHealth } from '../health/group.js';
import type { SiteTargetState } from '../health/sites.js';
import { initialHealth } from '../health/state.js';
import type { TargetHealth } from '../health/types.js';
import type { GroupView, StatusSource, TargetView } from '../health/views.js';
import type { ProbeResult } from '../probe/types.js';

/** Every configured target and group (the running config), whoever probes them. */
export interface FleetConfig {
  targets(): readonly TargetConfig[];
  groups(): readonly GroupConfig[];
}

/** What a target nobody has published a state for shows: no verdict yet, as at a first start. */
const NO_VERDICT: TargetHealth = initialHealth();

/** A published state as the health the API presents (the last result in brief: no phases, TLS or certificate). */
export function healthOfPublished(row: SiteTargetState | undefined): TargetHealth {
  if (!row) return NO_VERDICT;
  const last = row.lastResult;
  const lastResult: ProbeResult | null = last
    ? {
        at: last.at,
        ok: last.ok,
        errorKind: last.errorKind,
        message: last.message,
        statusCode: last.statusCode,
        httpVersion: null,
        durationMs: last.durationMs,
        phasesMs: {},
        tlsVersion: null,
        certificateSha256: row.certificate?.sha256 ?? null,
        certificate: null,
      }
    : null;
  return {
    state: row.state,
    since: row.since,
    consecutiveFailures: row.consecutiveFailures,
    consecutiveSuccesses: row.consecutiveSuccesses,
    lastResult,
    maintenance: null,
    underlying: row.state === 'maintenance' ? 'unknown' : row.state,
  };
}

export class FleetStatus implements StatusSource {
  /** Views of targets a peer probes, kept while their published row is the same object. */
  private readonly remote = new Map<string, { config: TargetConfig; row: SiteTargetState | undefined; view: TargetView }>();
  private byName: { of: readonly TargetConfig[]; map: Map<string, TargetConfig> } | null = null;

  constructor(
    private readonly local: StatusSource,
    private readonly fleet: FleetConfig,
    /** The state this site's instance probing `name` published, if any. */
    private readonly published: (name: string) => SiteTargetState | undefined,
  ) {}

  targets(): TargetView[] {
    return this.fleet.targets().map((config) => this.local.target(config.name) ?? this.remoteView(config));
  }

  target(name: string): TargetView | undefined {
    const local = this.local.target(name);
    if (local) return local;
    const config = this.configs().get(name);
    return config ? this.remoteView(config) : undefined;
  }

  groups(): GroupView[] {
    const stateOf = (name: string) => this.target(name)?.health.state ?? 'unknown';
    return this.fleet.groups().map((config) => ({ config, health: groupHealth(config.servers.map(stateOf), config.vip === null ? null : stateOf(config.vip)) }));
  }

  private remoteView(config: TargetConfig): TargetView {
    const row = this.published(config.name);
    const kept = this.remote.get(config.name);
    if (kept && kept.config === config && kept.row === row) return kept.view;
    const view: TargetView = { config, health: healthOfPublished(row), lastResults: {} };
    this.remote.set(config.name, { config, row, view });
    return view;
  }

  private configs(): Map<string, TargetConfig> {
    const targets = this.fleet.targets();
    if (this.byName?.of !== targets) this.byName = { of: targets, map: new Map(targets.map((t) => [t.name, t])) };
    return this.byName.map;
  }
}

// Certificate intelligence at run time: keeps each target's latest chain, re-evaluates its group's findings
// after every result of the group, and checks the chains' CRL/OCSP URLs on a slow cadence of its own. Probes
// never wait for it: results are handed over synchronously, fetches run in the background.
import type { Logger } from 'pino';
import { sameTargetIdentity } from '../config/identity.js';
import { thresholdsOf } from '../config/policy.js';
import type { GroupConfig, TargetConfig } from '../config/types.js';
import {
  certificateViewChanged,
  chainRevoked,
  groupCertificateReport,
  targetRevocation,
  type CertificateMember,
  type GroupCertificateReport,
  type TargetRevocation,
} from '../health/certificates.js';
import type { CertificateSource, CertificateView } from '../health/views.js';
import type { CertificateMetrics } from '../metrics/certificates.js';
import { labelsOf } from '../metrics/metrics.js';
import { checkRevocation, failedStatus, revocationQueries, revocationSources, type RevocationQuery, type RevocationStatus } from '../probe/revocation.js';
import type { CertificateDetails, ChainChecks, ProbeResult } from '../probe/types.js';

export const REVOCATION_INTERVAL_MS = 15 * 60_000;
export const REVOCATION_TIMEOUT_MS = 10_000;
const MAX_CONCURRENT_FETCHES = 4;
/** A group's findings read later than this after their evaluation are evaluated again (days left move on). */
export const REPORT_MAX_AGE_MS = 60_000;
/** How often due URLs are looked for; new URLs are fetched at once regardless. */
const REVOCATION_TICK_MS = 30_000;

export type RevocationCheck = typeof checkRevocation;

export interface CertificateMonitorDeps {
  metrics: CertificateMetrics;
  log: Logger;
  /** Default 15 minutes: each CRL (per URL) and OCSP responder (per URL and certificate) is checked at most this often. */
  revocationIntervalMs?: number;
  revocationTimeoutMs?: number;
  check?: RevocationCheck;
  now?: () => number;
}

/** One revocation check (a CRL URL, or an OCSP URL and certificate) and the certificates it is asked about. */
interface SourceEntry {
  query: RevocationQuery;
  status: RevocationStatus | null;
  dueAt: number;
  fetching: boolean;
}

interface TargetEntry {
  config: TargetConfig;
  chain: CertificateDetails[] | null;
  checks: ChainChecks | null;
}

export class CertificateMonitor implements CertificateSource {
  private readonly targets = new Map<string, TargetEntry>();
  private readonly groups = new Map<string, { config: GroupConfig; report: GroupCertificateReport; evaluatedAt: number }>();
  private readonly sources = new Map<string, SourceEntry>();
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly check: RevocationCheck;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly deps: CertificateMonitorDeps,
    targets: TargetConfig[],
    groups: GroupConfig[],
  ) {
    this.intervalMs = deps.revocationIntervalMs ?? REVOCATION_INTERVAL_MS;
    this.timeoutMs = deps.revocationTimeoutMs ?? REVOCATION_TIMEOUT_MS;
    this.check = deps.check ?? checkRevocation;
    this.now = deps.now ?? Date.now;
    this.setConfig(targets, groups);
  }

  setConfig(targets: TargetConfig[], groups: GroupConfig[]): void {
    const names = new Set(targets.map((t) => t.name));
    for (const [name, entry] of this.targets) {
      if (!names.has(name)) {
        this.deps.metrics.forgetTarget(labelsOf(entry.config));
        this.targets.delete(name);
      }
    }
    for (const config of targets) {
      const existing = this.targets.get(config.name);
      if (existing && sameTargetIdentity(existing.config, config)) {
        existing.config = config;
      } else {
        if (existing) this.deps.metrics.forgetTarget(labelsOf(existing.config));
        this.targets.set(config.name, { config, chain: null, checks: null });
      }
    }
    const groupNames = new Set(groups.map((g) => g.name));
    for (const name of this.groups.keys()) {
      if (!groupNames.has(name)) {
        this.deps.metrics.forgetGroup(name);
        this.groups.delete(name);
      }
    }
    for (const config of groups) this.groups.set(config.name, { config, report: { consistent: { servers: null, vip: null, offloadHash: null }, findings: [] }, evaluatedAt: 0 });
    for (const name of groupNames) this.evaluateGroup(name);
    this.dropUnusedSources();
  }

  /**
   * A finished probe. Synchronous and O(1) while the target presents what it presented before (the usual case):
   * only a changed chain or check result re-publishes the target and re-evaluates its group, so a result's cost
   * does not grow with the size of its group. A chain with new CRL/OCSP URLs starts their fetch in the background.
   */
  observe(config: TargetConfig, result: ProbeResult): void {
    const entry = this.targets.get(config.name);
    if (!entry) return;
    // No handshake this time (down, or plain HTTP): the group compares only what it sees now.
    const next = result.chain && result.chain.length > 0 ? { chain: result.chain, checks: result.chainChecks ?? null } : { chain: null, checks: null };
    const chainChanged = !sameChain(entry.chain, next.chain);
    const changed = certificateViewChanged(entry, next);
    entry.chain = next.chain;
    entry.checks = next.checks;
    if (!changed) return;
    if (next.chain && chainChanged) this.watchSources(next.chain);
    this.publishTarget(entry);
    this.evaluateGroup(entry.config.group);
  }

  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => this.runDue(), Math.min(REVOCATION_TICK_MS, this.intervalMs));
    this.timer.unref();
  }

  /** Stops the cadence and waits for fetches in flight (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  /** Fetches every URL now (force) or those due, and resolves when they are done. For tests and `check`. */
  async refreshRevocation(opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force) for (const entry of this.sources.values()) entry.dueAt = 0;
    this.runDue();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The group's findings; evaluated again when read after REPORT_MAX_AGE_MS, as expiry findings move with the clock. */
  group(name: string): GroupCertificateReport | undefined {
    const group = this.groups.get(name);
    if (group && this.now() - group.evaluatedAt >= REPORT_MAX_AGE_MS) this.evaluateGroup(name);
    return group?.report;
  }

  target(name: string): CertificateView | undefined {
    const entry = this.targets.get(name);
    if (!entry?.chain) return undefined;
    return { chain: entry.chain, checks: entry.checks, revocation: this.revocationOf(entry.chain) };
  }

  private revocationOf(chain: readonly CertificateDetails[]): TargetRevocation[] {
    return targetRevocation(chain, (key) => this.sources.get(key)?.status ?? undefined);
  }

  private watchSources(chain: readonly CertificateDetails[]): void {
    let added = false;
    for (const [key, query] of revocationQueries(revocationSources(chain))) {
      let entry = this.sources.get(key);
      if (!entry) {
        entry = { query: { ...query, subjects: [] }, status: null, dueAt: 0, fetching: false };
        this.sources.set(key, entry);
      }
      entry.query.issuerDer ??= query.issuerDer;
      for (const subject of query.subjects) {
        if (entry.query.subjects.some((s) => s.serialNumber === subject.serialNumber)) continue;
        entry.query.subjects.push(subject);
        entry.dueAt = 0; // a certificate this source was not asked about yet
        added = true;
      }
    }
    if (added && this.timer && !this.stopped) this.runDue();
  }

  private runDue(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const [key, entry] of this.sources) {
      if (this.inFlight.size >= MAX_CONCURRENT_FETCHES) break;
      if (entry.fetching || entry.dueAt > now) continue;
      entry.fetching = true;
      const job = this.checkOne(key, entry).finally(() => {
        entry.fetching = false;
        this.inFlight.delete(job);
        if (!this.stopped) this.runDue();
      });
      this.inFlight.add(job);
    }
  }

  private async checkOne(key: string, entry: SourceEntry): Promise<void> {
    const { url, kind } = entry.query;
    let status: RevocationStatus;
    try {
      status = await this.check(entry.query, { timeoutMs: this.timeoutMs, now: this.now });
    } catch (err) {
      status = failedStatus(entry.query, this.now(), (err as Error).message);
    }
    entry.status = status;
    entry.dueAt = status.checkedAt + this.intervalMs;
    if (!status.reachable) this.deps.log.warn({ url, kind, reason: status.error }, 'revocation source unreachable');
    else if (status.revokedSerials.length > 0) this.deps.log.warn({ url, kind, serials: status.revokedSerials }, 'certificate revoked');
    else if (status.signature === 'invalid') this.deps.log.warn({ url, kind, reason: status.signatureProblem }, 'revocation answer not correctly signed');
    const groups = new Set<string>();
    for (const target of this.targets.values()) {
      if (!target.chain || !revocationSources(target.chain).some((s) => s.key === key)) continue;
      this.publishTarget(target);
      groups.add(target.config.group);
    }
    for (const group of groups) this.evaluateGroup(group);
  }

  private publishTarget(entry: TargetEntry): void {
    if (!entry.chain) return;
    const labels = labelsOf(entry.config);
    const revocation = this.revocationOf(entry.chain);
    if (entry.checks) this.deps.metrics.setChain(labels, entry.checks, chainRevoked(revocation));
    this.deps.metrics.setRevocation(labels, revocation);
  }

  private evaluateGroup(name: string): void {
    const group = this.groups.get(name);
    if (!group) return;
    const members: CertificateMember[] = [];
    const revocation = new Map<string, TargetRevocation[]>();
    const memberNames = group.config.vip ? [...group.config.servers, group.config.vip] : group.config.servers;
    for (const targetName of memberNames) {
      const entry = this.targets.get(targetName);
      if (!entry) continue;
      members.push({ name: targetName, role: entry.config.role, offload: entry.config.offload, chain: entry.chain, checks: entry.checks, thresholds: thresholdsOf(entry.config.settings).certificates });
      if (entry.chain) revocation.set(targetName, this.revocationOf(entry.chain));
    }
    group.evaluatedAt = this.now();
    group.report = groupCertificateReport(group.config, members, revocation, group.evaluatedAt);
    this.deps.metrics.setGroup(name, group.report.consistent);
  }

  private dropUnusedSources(): void {
    const used = new Set<string>();
    for (const entry of this.targets.values()) for (const s of entry.chain ? revocationSources(entry.chain) : []) used.add(s.key);
    for (const key of this.sources.keys()) if (!used.has(key)) this.sources.delete(key);
  }
}

function sameChain(a: readonly CertificateDetails[] | null, b: readonly CertificateDetails[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((cert, i) => cert.sha256 === b[i]!.sha256);
}

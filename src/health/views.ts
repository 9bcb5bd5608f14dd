// The live state as the monitors keep it and the API shows it: declared once here, kept by scheduler/monitor.ts
// and scheduler/certificates.ts, read (never changed) by the API.
import type { GroupConfig, TargetConfig } from '../config/types.js';
import type { CertificateDetails, ChainChecks, CheckKind, ProbeResult } from '../probe/types.js';
import type { GroupCertificateReport, TargetRevocation } from './certificates.js';
import type { GroupHealth } from './group.js';
import type { TargetSites } from './sites.js';
import type { TargetHealth } from './types.js';

export interface TargetView {
  config: TargetConfig;
  health: TargetHealth;
  /** The last result of each check the target runs (the deep SSTP check's under `sstp`; a new object on every result); a kind is absent until it has run. */
  lastResults: Partial<Record<CheckKind, ProbeResult>>;
  /**
   * The target at every site (vantage point), when there are several or this instance names its site; its
   * health.state is then the combined state. Absent on a single instance of the unnamed site.
   */
  sites?: TargetSites;
}

export interface GroupView {
  config: GroupConfig;
  health: GroupHealth;
}

/** The live state of targets and groups (kept by the monitor). */
export interface StatusSource {
  targets(): TargetView[];
  target(name: string): TargetView | undefined;
  groups(): GroupView[];
}

/** A target's presented chain and its checks, and the revocation status of its certificates. */
export interface CertificateView {
  chain: CertificateDetails[];
  checks: ChainChecks | null;
  revocation: TargetRevocation[];
}

/** The certificate state of targets and groups (kept by the certificate monitor). */
export interface CertificateSource {
  group(name: string): GroupCertificateReport | undefined;
  target(name: string): CertificateView | undefined;
}

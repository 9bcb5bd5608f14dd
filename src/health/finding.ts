// The shape of a finding: what is wrong, how bad, about which targets, and the likely fix.

export type FindingSeverity = 'critical' | 'warning';

export const FINDING_CODES = [
  'servers_certificate_mismatch',
  'vip_certificate_mismatch',
  'offload_hash_mismatch',
  'offload_hash_not_configured',
  'offload_hash_unverifiable',
  'no_server_auth_eku',
  'name_mismatch',
  'chain_untrusted',
  'certificate_expired',
  'certificate_expires_soon',
  'certificate_revoked',
  'crl_unreachable',
  'crl_expired',
  'crl_expires_soon',
  'crl_signature_invalid',
  'delta_crl_unreachable',
  'ocsp_unreachable',
  'ocsp_signature_invalid',
  'ocsp_response_expired',
  'ocsp_unknown',
  'revocation_unverified',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  /** The targets it is about. */
  targets: string[];
  /** What is wrong and what SSTP clients will do about it. */
  message: string;
  /** The likely fix. */
  fix: string;
}

/** Findings keyed so that one problem seen on several targets is one finding naming them all. */
export class FindingSet {
  private readonly byKey = new Map<string, Finding>();

  add(key: string, target: string, make: () => Omit<Finding, 'targets'>): void {
    const existing = this.byKey.get(key);
    if (!existing) this.byKey.set(key, { ...make(), targets: [target] });
    else if (!existing.targets.includes(target)) existing.targets.push(target);
  }

  list(): Finding[] {
    return [...this.byKey.values()];
  }
}

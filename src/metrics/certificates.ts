// Certificate and load-balancer metrics: chain checks per target, group consistency, revocation sources.
import { Gauge, type Registry } from 'prom-client';
import type { GroupConsistency, TargetRevocation } from '../health/certificates.js';
import type { CertificatePosition, ChainChecks } from '../probe/types.js';
import { checkConstantLabels, withLabel, type ConstantLabels, type TargetLabels } from './metrics.js';

export const CERT_CHECKS = ['eku', 'name', 'chain', 'revoked'] as const;
const OCSP_STATUSES = ['good', 'revoked', 'unknown'] as const;
const CONSISTENCY_CHECKS = { servers: 'servers', vip: 'vip', offloadHash: 'offload_hash' } as const;

export interface CertificateMetrics {
  /** The chain checks of a target's latest chain; `revoked` null = no revocation answer for the leaf yet (series absent). */
  setChain(labels: TargetLabels, checks: ChainChecks, revoked: boolean | null): void;
  /** Replaces a target's revocation series with these sources (fetched ones only). */
  setRevocation(labels: TargetLabels, sources: readonly TargetRevocation[]): void;
  setGroup(group: string, consistent: GroupConsistency): void;
  forgetTarget(labels: TargetLabels): void;
  forgetGroup(group: string): void;
}

export interface CertificateMetricsOptions {
  /** Labels added to every per-target and per-group series, as createMetrics' (e.g. `{ site: 'lan' }`). */
  constantLabels?: ConstantLabels;
}

export function createCertificateMetrics(registry: Registry, options: CertificateMetricsOptions = {}): CertificateMetrics {
  const registers = [registry];
  const constant = checkConstantLabels(options.constantLabels);
  const constantNames = Object.keys(constant);
  const targetLabels = ['target', 'group', 'role', ...constantNames];
  const scope = (labels: TargetLabels): TargetLabels => (constantNames.length ? { ...labels, ...constant } : labels);
  const earliest = new Gauge({
    name: 'sstp_cert_chain_earliest_expiry_timestamp_seconds',
    help: 'Expiry of the certificate of the presented chain that expires first (Unix seconds); position says whether it is the leaf, an intermediate or the root.',
    labelNames: [...targetLabels, 'position'],
    registers,
  });
  const valid = new Gauge({
    name: 'sstp_cert_valid',
    help: 'SSTP certificate checks on the leaf: eku (Server Authentication EKU), name (names the group hostname), chain (leads to a trusted root), revoked (1 = no certificate of the chain is revoked by its CRL, delta CRL or OCSP responder). 1 pass, 0 fail.',
    labelNames: [...targetLabels, 'check'],
    registers,
  });
  const consistent = new Gauge({
    name: 'sstp_group_cert_consistent',
    help: 'Group certificate consistency, 1 yes 0 no: servers (all present the same leaf), vip (the VIP presents the servers\' leaf), offload_hash (the VIP leaf is offload_cert_sha256). Absent when there is nothing to compare.',
    labelNames: ['group', ...constantNames, 'check'],
    registers,
  });
  const reachable = new Gauge({
    name: 'sstp_crl_reachable',
    help: 'A CRL distribution point (kind crl) or OCSP responder (kind ocsp) of the presented chain answered its last fetch: 1 yes, 0 no.',
    labelNames: [...targetLabels, 'url', 'kind'],
    registers,
  });
  const nextUpdate = new Gauge({
    name: 'sstp_crl_next_update_timestamp_seconds',
    help: 'nextUpdate of the CRL (or delta CRL) last fetched from url (Unix seconds): clients reject it after that time.',
    labelNames: [...targetLabels, 'url'],
    registers,
  });
  const thisUpdate = new Gauge({
    name: 'sstp_crl_this_update_timestamp_seconds',
    help: 'thisUpdate of the CRL (or delta CRL) last fetched from url (Unix seconds): when the CA issued it.',
    labelNames: [...targetLabels, 'url'],
    registers,
  });
  const signatureValid = new Gauge({
    name: 'sstp_revocation_signature_valid',
    help: 'The CRL (kind crl, delta CRLs included) or OCSP answer (kind ocsp) last fetched from url is signed by the issuing CA of the chain (OCSP: or its delegated responder): 1 yes, 0 no. Absent when it could not be checked.',
    labelNames: [...targetLabels, 'url', 'kind'],
    registers,
  });
  const ocspStatus = new Gauge({
    name: 'sstp_ocsp_status',
    help: "The OCSP responder's last answer for the certificate at position: 1 for the status given (good, revoked, unknown), 0 for the others.",
    labelNames: [...targetLabels, 'url', 'position', 'status'],
    registers,
  });

  const positions = new Map<string, CertificatePosition>();
  interface Published {
    reachable: { url: string; kind: string }[];
    crlDates: string[];
    ocsp: { url: string; position: string }[];
  }
  const revocationLabels = new Map<string, Published>();

  function clearRevocation(labels: TargetLabels): void {
    const previous = revocationLabels.get(labels.target);
    if (!previous) return;
    for (const l of previous.reachable) {
      reachable.remove({ ...labels, ...l });
      signatureValid.remove({ ...labels, ...l });
    }
    for (const url of previous.crlDates) {
      nextUpdate.remove({ ...labels, url });
      thisUpdate.remove({ ...labels, url });
    }
    for (const l of previous.ocsp) for (const status of OCSP_STATUSES) ocspStatus.remove({ ...labels, ...l, status });
    revocationLabels.delete(labels.target);
  }

  function setSource(labels: TargetLabels, set: Published, url: string, kind: string, s: { reachable: boolean; signature: string | null; thisUpdate: number | null; nextUpdate: number | null }): void {
    if (set.reachable.some((l) => l.url === url && l.kind === kind)) return;
    set.reachable.push({ url, kind });
    const sourceLabels = { ...labels, url, kind };
    reachable.set(sourceLabels, s.reachable ? 1 : 0);
    if (s.signature === 'valid' || s.signature === 'invalid') signatureValid.set(sourceLabels, s.signature === 'valid' ? 1 : 0);
    if (kind === 'crl' && s.nextUpdate !== null) {
      nextUpdate.set(withLabel(labels, 'url', url), s.nextUpdate / 1000);
      if (s.thisUpdate !== null) thisUpdate.set(withLabel(labels, 'url', url), s.thisUpdate / 1000);
      set.crlDates.push(url);
    }
  }

  return {
    setChain(target, checks, revoked) {
      const labels = scope(target);
      const position = checks.earliestExpiry.position;
      const previous = positions.get(labels.target);
      if (previous && previous !== position) earliest.remove({ ...labels, position: previous });
      earliest.set(withLabel(labels, 'position', position), checks.earliestExpiry.notAfter / 1000);
      positions.set(labels.target, position);
      valid.set(withLabel(labels, 'check', 'eku'), checks.serverAuthEku ? 1 : 0);
      valid.set(withLabel(labels, 'check', 'name'), checks.nameMatchesHostname ? 1 : 0);
      valid.set(withLabel(labels, 'check', 'chain'), checks.chainTrusted ? 1 : 0);
      if (revoked === null) valid.remove({ ...labels, check: 'revoked' });
      else valid.set(withLabel(labels, 'check', 'revoked'), revoked ? 0 : 1);
    },

    setRevocation(target, sources) {
      const labels = scope(target);
      clearRevocation(labels);
      const set: Published = { reachable: [], crlDates: [], ocsp: [] };
      for (const source of sources) {
        const status = source.status;
        if (!status) continue;
        setSource(labels, set, source.url, source.kind, status);
        if (status.delta) setSource(labels, set, status.delta.url, 'crl', status.delta);
        if (source.kind === 'ocsp' && status.ocspStatus && !set.ocsp.some((l) => l.url === source.url && l.position === source.position)) {
          for (const s of OCSP_STATUSES) ocspStatus.set({ ...labels, url: source.url, position: source.position, status: s }, s === status.ocspStatus ? 1 : 0);
          set.ocsp.push({ url: source.url, position: source.position });
        }
      }
      revocationLabels.set(labels.target, set);
    },

    setGroup(group, consistency) {
      for (const [key, check] of Object.entries(CONSISTENCY_CHECKS) as [keyof GroupConsistency, string][]) {
        const value = consistency[key];
        if (value === null) consistent.remove({ group, ...constant, check });
        else consistent.set({ group, ...constant, check }, value ? 1 : 0);
      }
    },

    forgetTarget(target) {
      const labels = scope(target);
      const position = positions.get(labels.target);
      if (position) earliest.remove({ ...labels, position });
      positions.delete(labels.target);
      for (const check of CERT_CHECKS) valid.remove({ ...labels, check });
      clearRevocation(labels);
    },

    forgetGroup(group) {
      for (const check of Object.values(CONSISTENCY_CHECKS)) consistent.remove({ group, ...constant, check });
    },
  };
}

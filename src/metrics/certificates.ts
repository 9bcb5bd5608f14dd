// Certificate and load-balancer metrics: chain checks per target, group consistency, revocation sources.
import { Gauge, type Registry } from 'prom-client';
import type { GroupConsistency, TargetRevocation } from '../health/certificates.js';
import type { CertificatePosition, ChainChecks } from '../probe/types.js';
import type { TargetLabels } from './metrics.js';

export const CERT_CHECKS = ['eku', 'name', 'chain', 'revoked'] as const;
const CONSISTENCY_CHECKS = { servers: 'servers', vip: 'vip', offloadHash: 'offload_hash' } as const;

export interface CertificateMetrics {
  /** The chain checks of a target's latest chain; `revoked` null = no CRL fetched for the leaf (series absent). */
  setChain(labels: TargetLabels, checks: ChainChecks, revoked: boolean | null): void;
  /** Replaces a target's revocation series with these sources (fetched ones only). */
  setRevocation(labels: TargetLabels, sources: readonly TargetRevocation[]): void;
  setGroup(group: string, consistent: GroupConsistency): void;
  forgetTarget(labels: TargetLabels): void;
  forgetGroup(group: string): void;
}

export function createCertificateMetrics(registry: Registry): CertificateMetrics {
  const registers = [registry];
  const targetLabels = ['target', 'group', 'role'] as const;
  const earliest = new Gauge({
    name: 'sstp_cert_chain_earliest_expiry_timestamp_seconds',
    help: 'Expiry of the certificate of the presented chain that expires first (Unix seconds); position says whether it is the leaf, an intermediate or the root.',
    labelNames: [...targetLabels, 'position'],
    registers,
  });
  const valid = new Gauge({
    name: 'sstp_cert_valid',
    help: 'SSTP certificate checks on the leaf: eku (Server Authentication EKU), name (names the group hostname), chain (leads to a trusted root), revoked (1 = not listed in its CRL). 1 pass, 0 fail.',
    labelNames: [...targetLabels, 'check'],
    registers,
  });
  const consistent = new Gauge({
    name: 'sstp_group_cert_consistent',
    help: 'Group certificate consistency, 1 yes 0 no: servers (all present the same leaf), vip (the VIP presents the servers\' leaf), offload_hash (the VIP leaf is offload_cert_sha256). Absent when there is nothing to compare.',
    labelNames: ['group', 'check'],
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
    help: 'nextUpdate of the CRL last fetched from url (Unix seconds): clients reject it after that time.',
    labelNames: [...targetLabels, 'url'],
    registers,
  });

  const positions = new Map<string, CertificatePosition>();
  const revocationLabels = new Map<string, { reachable: { url: string; kind: string }[]; nextUpdate: string[] }>();

  function clearRevocation(labels: TargetLabels): void {
    const previous = revocationLabels.get(labels.target);
    if (!previous) return;
    for (const l of previous.reachable) reachable.remove({ ...labels, ...l });
    for (const url of previous.nextUpdate) nextUpdate.remove({ ...labels, url });
    revocationLabels.delete(labels.target);
  }

  return {
    setChain(labels, checks, revoked) {
      const position = checks.earliestExpiry.position;
      const previous = positions.get(labels.target);
      if (previous && previous !== position) earliest.remove({ ...labels, position: previous });
      earliest.set({ ...labels, position }, checks.earliestExpiry.notAfter / 1000);
      positions.set(labels.target, position);
      valid.set({ ...labels, check: 'eku' }, checks.serverAuthEku ? 1 : 0);
      valid.set({ ...labels, check: 'name' }, checks.nameMatchesHostname ? 1 : 0);
      valid.set({ ...labels, check: 'chain' }, checks.chainTrusted ? 1 : 0);
      if (revoked === null) valid.remove({ ...labels, check: 'revoked' });
      else valid.set({ ...labels, check: 'revoked' }, revoked ? 0 : 1);
    },

    setRevocation(labels, sources) {
      clearRevocation(labels);
      const set = { reachable: [] as { url: string; kind: string }[], nextUpdate: [] as string[] };
      for (const source of sources) {
        const status = source.status;
        if (!status || set.reachable.some((l) => l.url === source.url)) continue;
        reachable.set({ ...labels, url: source.url, kind: source.kind }, status.reachable ? 1 : 0);
        set.reachable.push({ url: source.url, kind: source.kind });
        if (source.kind === 'crl' && status.nextUpdate !== null) {
          nextUpdate.set({ ...labels, url: source.url }, status.nextUpdate / 1000);
          set.nextUpdate.push(source.url);
        }
      }
      revocationLabels.set(labels.target, set);
    },

    setGroup(group, consistency) {
      for (const [key, check] of Object.entries(CONSISTENCY_CHECKS) as [keyof GroupConsistency, string][]) {
        const value = consistency[key];
        if (value === null) consistent.remove({ group, check });
        else consistent.set({ group, check }, value ? 1 : 0);
      }
    },

    forgetTarget(labels) {
      const position = positions.get(labels.target);
      if (position) earliest.remove({ ...labels, position });
      positions.delete(labels.target);
      for (const check of CERT_CHECKS) valid.remove({ ...labels, check });
      clearRevocation(labels);
    },

    forgetGroup(group) {
      for (const check of Object.values(CONSISTENCY_CHECKS)) consistent.remove({ group, check });
    },
  };
}

// Certificate and load-balancer metrics: chain checks per target, group consistency, revocation sources. Kept as
// facts per target and rendered per target, like the probe families (series-table.ts).
import type { Registry } from 'prom-client';
import type { GroupConsistency, TargetRevocation } from '../health/certificates.js';
import type { CertificatePosition, ChainChecks } from '../probe/types.js';
import { checkConstantLabels, type ConstantLabels, type TargetLabels } from './metrics.js';
import { RenderedFamily, SeriesTable, type SeriesRow } from './series-table.js';
import { escapeLabelValue, labelText, valueText } from './text-format.js';

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

/** One fetched revocation source as published: `url`/`kind` label text and its values (NaN: series absent). */
interface PublishedSource {
  url: string;
  kind: string;
  /** `url="..",kind=".."`, escaped. */
  labels: string;
  reachable: number;
  signatureValid: number;
  nextUpdate: number;
  thisUpdate: number;
}

interface CertificateRow extends SeriesRow {
  group: string;
  role: string;
  earliest: { position: CertificatePosition; notAfter: number } | null;
  /** Per CERT_CHECKS: 1 pass, 0 fail, NaN absent. */
  valid: number[];
  sources: PublishedSource[];
  /** `url="..",position=".."` and the status answered, per OCSP answer. */
  ocsp: { url: string; position: string; labels: string; status: string }[];
}

interface ConsistencyRow extends SeriesRow {
  /** Per CONSISTENCY_CHECKS: 1, 0, or NaN (nothing to compare: absent). */
  values: number[];
}

export function createCertificateMetrics(registry: Registry, options: CertificateMetricsOptions = {}): CertificateMetrics {
  const constant = checkConstantLabels(options.constantLabels);
  const targets = new SeriesTable<CertificateRow>();
  const groups = new SeriesTable<ConsistencyRow>();
  const family = <R extends SeriesRow>(table: SeriesTable<R>, name: string, help: string, render: (row: R) => string) =>
    new RenderedFamily(name, help, 'gauge', table, render, registry);
  /** One line per item whose value is a number (NaN: absent). */
  const lines = <T>(name: string, labels: string, items: readonly T[], extra: (item: T) => string, value: (item: T) => number) => {
    let text = '';
    for (const item of items) {
      const v = value(item);
      if (!Number.isNaN(v)) text += `\n${name}{${labels},${extra(item)}} ${valueText(v)}`;
    }
    return text;
  };

  family(targets, 'sstp_cert_chain_earliest_expiry_timestamp_seconds',
    'Expiry of the certificate of the presented chain that expires first (Unix seconds); position says whether it is the leaf, an intermediate or the root.',
    (row) => (row.earliest ? `\nsstp_cert_chain_earliest_expiry_timestamp_seconds{${row.labels},position="${row.earliest.position}"} ${valueText(row.earliest.notAfter)}` : ''));
  family(targets, 'sstp_cert_valid',
    'SSTP certificate checks on the leaf: eku (Server Authentication EKU), name (names the group hostname), chain (leads to a trusted root), revoked (1 = no certificate of the chain is revoked by its CRL, delta CRL or OCSP responder). 1 pass, 0 fail.',
    (row) => lines('sstp_cert_valid', row.labels, CERT_CHECKS.map((_, i) => i), (i) => `check="${CERT_CHECKS[i]}"`, (i) => row.valid[i]!));
  family(groups, 'sstp_group_cert_consistent',
    'Group certificate consistency, 1 yes 0 no: servers (all present the same leaf), vip (the VIP presents the servers\' leaf), offload_hash (the VIP leaf is offload_cert_sha256). Absent when there is nothing to compare.',
    (row) => lines('sstp_group_cert_consistent', row.labels, Object.values(CONSISTENCY_CHECKS).map((_, i) => i), (i) => `check="${Object.values(CONSISTENCY_CHECKS)[i]}"`, (i) => row.values[i]!));
  family(targets, 'sstp_crl_reachable',
    'A CRL distribution point (kind crl) or OCSP responder (kind ocsp) of the presented chain answered its last fetch: 1 yes, 0 no.',
    (row) => lines('sstp_crl_reachable', row.labels, row.sources, (s) => s.labels, (s) => s.reachable));
  const crlDate = (name: string, help: string, value: (s: PublishedSource) => number) =>
    family(targets, name, help, (row) => lines(name, row.labels, row.sources, (s) => `url="${escapeLabelValue(s.url)}"`, value));
  crlDate('sstp_crl_next_update_timestamp_seconds',
    'nextUpdate of the CRL (or delta CRL) last fetched from url (Unix seconds): clients reject it after that time.', (s) => s.nextUpdate);
  crlDate('sstp_crl_this_update_timestamp_seconds',
    'thisUpdate of the CRL (or delta CRL) last fetched from url (Unix seconds): when the CA issued it.', (s) => s.thisUpdate);
  family(targets, 'sstp_revocation_signature_valid',
    'The CRL (kind crl, delta CRLs included) or OCSP answer (kind ocsp) last fetched from url is signed by the issuing CA of the chain (OCSP: or its delegated responder): 1 yes, 0 no. Absent when it could not be checked.',
    (row) => lines('sstp_revocation_signature_valid', row.labels, row.sources, (s) => s.labels, (s) => s.signatureValid));
  family(targets, 'sstp_ocsp_status',
    "The OCSP responder's last answer for the certificate at position: 1 for the status given (good, revoked, unknown), 0 for the others.",
    (row) => row.ocsp.map((o) => OCSP_STATUSES.map((s) => `\nsstp_ocsp_status{${row.labels},${o.labels},status="${s}"} ${s === o.status ? 1 : 0}`).join('')).join(''));

  function rowOf(labels: TargetLabels): CertificateRow {
    let row = targets.rows.get(labels.target);
    if (row && (row.group !== labels.group || row.role !== labels.role)) {
      targets.rows.delete(labels.target);
      row = undefined;
    }
    if (!row) {
      row = {
        labels: labelText({ target: labels.target, group: labels.group, role: labels.role, ...constant }),
        group: labels.group, role: labels.role, earliest: null, valid: CERT_CHECKS.map(() => Number.NaN), sources: [], ocsp: [],
      };
      targets.rows.set(labels.target, row);
    }
    return row;
  }

  function addSource(row: CertificateRow, url: string, kind: string, s: { reachable: boolean; signature: string | null; thisUpdate: number | null; nextUpdate: number | null }): void {
    if (row.sources.some((p) => p.url === url && p.kind === kind)) return;
    const crlDates = kind === 'crl' && s.nextUpdate !== null;
    row.sources.push({
      url, kind, labels: `url="${escapeLabelValue(url)}",kind="${escapeLabelValue(kind)}"`,
      reachable: s.reachable ? 1 : 0,
      signatureValid: s.signature === 'valid' ? 1 : s.signature === 'invalid' ? 0 : Number.NaN,
      nextUpdate: crlDates ? s.nextUpdate! / 1000 : Number.NaN,
      thisUpdate: crlDates && s.thisUpdate !== null ? s.thisUpdate / 1000 : Number.NaN,
    });
  }

  return {
    setChain(labels, checks, revoked) {
      const row = rowOf(labels);
      row.earliest = { position: checks.earliestExpiry.position, notAfter: checks.earliestExpiry.notAfter / 1000 };
      row.valid = [checks.serverAuthEku ? 1 : 0, checks.nameMatchesHostname ? 1 : 0, checks.chainTrusted ? 1 : 0, revoked === null ? Number.NaN : revoked ? 0 : 1];
    },

    setRevocation(labels, sources) {
      const row = rowOf(labels);
      row.sources = [];
      row.ocsp = [];
      for (const source of sources) {
        const status = source.status;
        if (!status) continue;
        addSource(row, source.url, source.kind, status);
        if (status.delta) addSource(row, status.delta.url, 'crl', status.delta);
        if (source.kind === 'ocsp' && status.ocspStatus && !row.ocsp.some((o) => o.url === source.url && o.position === source.position)) {
          row.ocsp.push({ url: source.url, position: source.position, labels: `url="${escapeLabelValue(source.url)}",position="${source.position}"`, status: status.ocspStatus });
        }
      }
    },

    setGroup(group, consistency) {
      let row = groups.rows.get(group);
      if (!row) groups.rows.set(group, (row = { labels: labelText({ group, ...constant }), values: [] }));
      row.values = (Object.keys(CONSISTENCY_CHECKS) as (keyof GroupConsistency)[]).map((key) => {
        const value = consistency[key];
        return value === null ? Number.NaN : value ? 1 : 0;
      });
    },

    forgetTarget(labels) {
      targets.rows.delete(labels.target);
    },

    forgetGroup(group) {
      groups.rows.delete(group);
    },
  };
}

// The certificate chain a target presented: parsing each certificate once (by fingerprint), and the pure
// checks an SSTP client makes on it: Server Authentication EKU, the public name (RFC 6125), a chain to a
// trusted root, and the earliest expiry anywhere in the chain.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { certificateInfo, sha256Hex } from './certificate.js';
import type { CertificateDetails, CertificatePosition, ChainChecks } from './types.js';

export const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';
export const ANY_EKU_OID = '2.5.29.37.0';
/** A chain longer than this is cut: no public PKI comes close. */
const MAX_CHAIN = 10;

const EKU_NAMES: Record<string, string> = {
  [SERVER_AUTH_OID]: 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '1.3.6.1.4.1.311.10.3.3': 'serverGatedCrypto',
  [ANY_EKU_OID]: 'anyExtendedKeyUsage',
};

/** `1.3.6.1.5.5.7.3.1` -> `serverAuth`; unknown OIDs stay as they are. */
export function ekuName(oid: string): string {
  return EKU_NAMES[oid] ?? oid;
}

/** Everything sstpwatch reads from one certificate (DER). Throws on a certificate it cannot parse. */
export function certificateDetails(der: Buffer): CertificateDetails {
  const cert = new X509Certificate(der);
  const info = certificateInfo(cert);
  const parsed = new x509.X509Certificate(new Uint8Array(der));
  const crlUrls: string[] = [];
  for (const point of parsed.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? []) {
    for (const name of point.distributionPoint?.fullName ?? []) {
      if (name.uniformResourceIdentifier) crlUrls.push(name.uniformResourceIdentifier);
    }
  }
  const aia = parsed.getExtension(x509.AuthorityInfoAccessExtension);
  const uris = (names: x509.GeneralName[] | undefined): string[] =>
    (names ?? []).filter((n) => n.type === 'url').map((n) => n.value);
  const ekus = cert.keyUsage; // Node names the Extended Key Usage OIDs `keyUsage`; undefined without the extension
  return {
    ...info,
    commonName: commonNameOf(cert.subject),
    serialNumber: cert.serialNumber.toUpperCase().replace(/^(?:00)+(?=.)/, ''),
    ekus: ekus === undefined ? null : [...ekus],
    isCa: cert.ca,
    selfIssued: cert.subject === cert.issuer && cert.checkIssued(cert),
    crlUrls,
    ocspUrls: uris(aia?.ocsp),
    caIssuerUrls: uris(aia?.caIssuers),
    der,
  };
}

function commonNameOf(multiline: string): string | null {
  const cns = multiline.split('\n').filter((line) => line.startsWith('CN='));
  return cns.length > 0 ? cns[cns.length - 1]!.slice(3) : null;
}

/**
 * The chain as Node gives it after the handshake (`getPeerCertificate(true)`): the certificates the server
 * sent, completed with the root from the trust store when OpenSSL found one. Follows issuerCertificate
 * links, stopping at a self-reference (a root), a repeat, or MAX_CHAIN.
 */
export function peerChain(
  leaf: DetailedPeerCertificate | PeerCertificate,
  details: (peer: PeerCertificate) => CertificateDetails,
): CertificateDetails[] {
  const chain: CertificateDetails[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | PeerCertificate | undefined = leaf;
  while (current && Buffer.isBuffer(current.raw) && current.raw.length > 0 && chain.length < MAX_CHAIN) {
    if (seen.has(current.fingerprint256)) break;
    seen.add(current.fingerprint256);
    chain.push(details(current));
    const next: DetailedPeerCertificate | undefined = (current as DetailedPeerCertificate).issuerCertificate;
    if (!next || next === current) break;
    current = next;
  }
  return chain;
}

/** SHA-256 (uppercase hex) of every certificate in a PEM bundle: the trust anchors a chain may end in. */
export function pemFingerprints(pems: readonly string[]): Set<string> {
  const fingerprints = new Set<string>();
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      try {
        fingerprints.add(sha256Hex(new X509Certificate(block).fingerprint256));
      } catch {
        // an unparseable block in a bundle is not a trust anchor
      }
    }
  }
  return fingerprints;
}

// ---------------------------------------------------------------------------------------------
// Names (RFC 6125)

/**
 * Does a DNS name from a certificate (`vpn.contoso.com`, `*.contoso.com`) cover `hostname`? RFC 6125 6.4.3:
 * case-insensitive, a trailing dot ignored; a wildcard only as the whole left-most label, standing for exactly
 * one label, never for a public suffix alone (`*.com`), never in an IDN A-label; no partial wildcards
 * (`vpn*.contoso.com`), which Windows does not honour either.
 */
export function dnsNameMatches(pattern: string, hostname: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (p === '' || h === '') return false;
  if (!p.includes('*')) return p === h;
  const [first, ...rest] = p.split('.');
  if (first !== '*' || rest.length < 2 || rest.some((label) => label.includes('*') || label === '')) return false;
  const labels = h.split('.');
  if (labels.length !== rest.length + 1) return false;
  if (labels[0] === '' || labels[0]!.startsWith('xn--')) return false;
  return labels.slice(1).join('.') === rest.join('.');
}

/**
 * Does the certificate name `hostname`? DNS names are matched against DNS SANs; the subject CN counts only
 * when the certificate has no DNS SAN at all (RFC 6125 6.4.4). An IP address must be an IP SAN.
 */
export function nameMatchesHostname(hostname: string, san: readonly string[], commonName: string | null): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return san.some((name) => isIP(name) && normalizeIp(name) === normalizeIp(host));
  const dnsNames = san.filter((name) => !isIP(name));
  if (dnsNames.length > 0) return dnsNames.some((name) => dnsNameMatches(name, host));
  return commonName !== null && !isIP(commonName) && dnsNameMatches(commonName, host);
}

function normalizeIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname;
  } catch {
    return ip.toLowerCase();
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

/** OpenSSL verification codes that say the chain does not lead to a trusted root. */
const CHAIN_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_CA',
]);

export interface ChainVerification {
  /** OpenSSL's verification error for the chain (`tlsSocket.authorizationError`), null when it verified. */
  error: string | null;
  /** SHA-256 of the trusted roots (bundled plus the configured CA file). Consulted only when `error` is not about the chain. */
  anchors: () => ReadonlySet<string>;
}

/**
 * The leaf's SSTP checks and the chain's earliest expiry. The chain check ignores validity dates and purpose
 * (they have their own checks): it asks only whether the certificates lead to a root the prober trusts.
 */
export function chainChecks(chain: readonly CertificateDetails[], hostname: string, verification: ChainVerification): ChainChecks | null {
  const leaf = chain[0];
  if (!leaf) return null;
  let earliest = 0;
  for (let i = 1; i < chain.length; i++) if (chain[i]!.notAfter < chain[earliest]!.notAfter) earliest = i;
  const first = chain[earliest]!;
  return {
    serverAuthEku: leaf.ekus !== null && (leaf.ekus.includes(SERVER_AUTH_OID) || leaf.ekus.includes(ANY_EKU_OID)),
    nameMatchesHostname: nameMatchesHostname(hostname, leaf.san, leaf.commonName),
    ...chainTrust(chain, verification),
    earliestExpiry: { notAfter: first.notAfter, position: positionOf(chain, earliest), subject: first.subject, sha256: first.sha256 },
  };
}

function chainTrust(chain: readonly CertificateDetails[], v: ChainVerification): { chainTrusted: boolean; chainError: string | null } {
  if (v.error === null) return { chainTrusted: true, chainError: null };
  if (CHAIN_ERRORS.has(v.error)) return { chainTrusted: false, chainError: v.error };
  // Another error (expiry, purpose) hides whether the chain itself is fine: it is when it ends in a trusted root.
  const last = chain[chain.length - 1]!;
  const trusted = last.selfIssued && v.anchors().has(last.sha256);
  return { chainTrusted: trusted, chainError: trusted ? null : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' };
}

export function positionOf(chain: readonly CertificateDetails[], index: number): CertificatePosition {
  if (index === 0) return 'leaf';
  return index === chain.length - 1 && chain[index]!.selfIssued ? 'root' : 'intermediate';
}

/** Plain words for a chain error code, for findings and `sstpwatch check`. */
export function describeChainError(code: string): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'the certificate is self-signed: clients trust it only if it is installed on each of them';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'the chain ends in a root CA that is not trusted';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return "the server does not send the issuing (intermediate) CA certificate and it is not trusted locally: the chain is incomplete";
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'the chain does not lead to a trusted root CA (an intermediate is missing, or the root is not trusted)';
    default:
      return `the chain does not verify (${code})`;
  }
}

// Pure: the leaf certificate a target presented -> the contract's certificate object.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { CertificateInfo } from './types.js';

const DAY_MS = 86_400_000;

/** Parses a peer certificate (as `tlsSocket.getPeerCertificate()` returns it), an X509Certificate or DER. */
export function certificateInfo(peer: Pick<PeerCertificate, 'raw'> | X509Certificate | Buffer): CertificateInfo {
  const cert = peer instanceof X509Certificate ? peer : new X509Certificate(Buffer.isBuffer(peer) ? peer : peer.raw);
  const { keyType, keyBits } = publicKeyInfo(cert);
  return {
    subject: readableName(cert.subject),
    issuer: readableName(cert.issuer),
    san: subjectAltNames(cert.subjectAltName),
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    sha256: sha256Hex(cert.fingerprint256),
    keyType,
    keyBits,
  };
}

/** Whole days until notAfter (negative once expired): a certificate expiring in 36 hours has 1 day left. */
export function daysLeft(notAfter: number, now: number): number {
  return Math.floor((notAfter - now) / DAY_MS);
}

/** `AB:12:...` (Node's fingerprint256) -> `AB12...`. */
export function sha256Hex(fingerprint: string): string {
  return fingerprint.replaceAll(':', '').toUpperCase();
}

/**
 * Node prints names one attribute a line in ASN.1 order (`C=US\nO=Contoso\nCN=vpn.contoso.com`);
 * people read them most specific first, as Windows and RFC 4514 do: `CN=vpn.contoso.com, O=Contoso, C=US`.
 */
export function readableName(multiline: string): string {
  return multiline.split('\n').filter(Boolean).reverse().join(', ');
}

/** `DNS:a, DNS:"b,c", IP Address:10.0.0.1, email:x` -> DNS names and IP addresses only. */
export function subjectAltNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
  // Node quotes values holding separators as JSON strings.
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of subjectAltName.matchAll(entry)) {
    const [, type, raw = ''] = match;
    if (type !== 'DNS' && type !== 'IP Address') continue;
    names.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return names;
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
};

const KEY_TYPES: Record<string, string> = {
  rsa: 'RSA',
  'rsa-pss': 'RSA-PSS',
  ec: 'EC',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  dsa: 'DSA',
};

function publicKeyInfo(cert: X509Certificate): { keyType: string; keyBits: number | null } {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  const keyType = KEY_TYPES[type] ?? type.toUpperCase();
  if (details.modulusLength) return { keyType, keyBits: details.modulusLength };
  if (details.namedCurve) return { keyType, keyBits: CURVE_BITS[details.namedCurve] ?? null };
  if (type === 'ed25519') return { keyType, keyBits: 256 };
  if (type === 'ed448') return { keyType, keyBits: 448 };
  return { keyType, keyBits: null };
}

// What a TLS client reads of the peer after a handshake: the leaf, the chain (parsed, cut at the first certificate
// that cannot be parsed), and whether an SSTP client would accept it. Used by the transport for every check kind.
import { hash } from 'node:crypto';
import tls from 'node:tls';
import { certificateDetails, peerChain } from './chain.js';
import type { CertificateDetails } from './types.js';

/**
 * Why a completed handshake's certificate fails an SSTP client's checks, as an OpenSSL/Node error code, or null:
 * the chain's verification result first, then the public name. Connections use rejectUnauthorized off and
 * decide here, so the peer certificate stays readable on failures.
 */
export function certificateVerificationError<P extends PeerLeaf>(
  tlsSocket: tls.TLSSocket,
  peer: P,
  publicName: string,
  checkName: (publicName: string, peer: P) => string | null,
): string | null {
  if (!tlsSocket.authorized) {
    const error: unknown = tlsSocket.authorizationError;
    if (typeof error === 'string') return error;
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : 'CERT_UNTRUSTED';
  }
  return checkName(publicName, peer);
}

/** Why the certificate does not carry the public name (Node's error code), or null: it depends on nothing else. */
export function nameMismatch(publicName: string, peer: tls.PeerCertificate): string | null {
  const mismatch = tls.checkServerIdentity(publicName, peer);
  return mismatch ? ((mismatch as { code?: string }).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID') : null;
}

/**
 * Node's TLS client converts the whole peer chain to objects (getPeerCertificate(true)) after every verified
 * handshake only to hand it to checkServerIdentity, a no-op here: that was about a fifth of a probe's CPU. A
 * connection's socket answers that call with an empty object (connectTo) and reads the leaf itself
 * (readPeerLeaf), and the chain only when it is not cached. (getPeerX509Certificate() is no way out: on
 * Node 20, the legacy call returns {} after it.)
 */
export const skipPeerCertificate = (() => ({})) as unknown as tls.TLSSocket['getPeerCertificate'];

/** The leaf as a handshake needs it every time: its DER and Node's SHA-256 fingerprint (`AB:12:...`). */
export interface PeerLeaf {
  raw: Buffer;
  fingerprint256: string;
}

/**
 * The leaf the server presented, read from the handshake's session, which OpenSSL serialises with the peer's
 * certificate in it: a few microseconds, where the leaf from getPeerCertificate() (names, extensions, key, three
 * digests as one object) costs several per cent of a probe's CPU. Null when the session carries no certificate:
 * read it with readPeerCertificate() then.
 */
export function readPeerLeaf(socket: tls.TLSSocket, fingerprint: (hex: string) => string = nodeFingerprint): PeerLeaf | null {
  const session = socket.getSession();
  const raw = session ? sessionPeerCertificate(session) : null;
  if (raw === null) return null;
  return { raw, fingerprint256: fingerprint(hash('sha256', raw, 'hex')) };
}

/** A hex SHA-256 (`ab12...`) the way Node writes fingerprint256: `AB:12:...`. */
export function nodeFingerprint(hex: string): string {
  return hex.toUpperCase().replace(/..(?!$)/g, '$&:');
}

/** The DER of the `[3] peer` field of an SSL_SESSION (OpenSSL's ssl/ssl_asn1.c), or null when it has none. */
export function sessionPeerCertificate(der: Buffer): Buffer | null {
  const session = readTlv(der, 0);
  if (session?.tag !== 0x30) return null;
  for (let at = session.start; at < session.end; ) {
    const field = readTlv(der, at);
    if (field === null || field.end > session.end) return null;
    if (field.tag === 0xa3) {
      const cert = readTlv(der, field.start);
      return cert?.tag === 0x30 && cert.end === field.end ? der.subarray(field.start, cert.end) : null;
    }
    at = field.end;
  }
  return null;
}

/** One DER element at `at`: its tag (the session's are all single bytes) and where its content lies. */
function readTlv(der: Buffer, at: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > der.length) return null;
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 3 || start + bytes > der.length) return null;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  return start + length <= der.length ? { tag, start, end: start + length } : null;
}

export function readPeerCertificate(socket: tls.TLSSocket): tls.PeerCertificate;
export function readPeerCertificate(socket: tls.TLSSocket, detailed: true): tls.DetailedPeerCertificate;
export function readPeerCertificate(socket: tls.TLSSocket, detailed = false): tls.PeerCertificate {
  return tls.TLSSocket.prototype.getPeerCertificate.call(socket, detailed);
}

/** How long a leaf's chain is reused before it is read from a handshake again. */
export const CHAIN_REFRESH_MS = 5 * 60_000;

/** Marks a certificate peerChain() could not parse; the chain is cut there. */
const UNPARSEABLE = {} as CertificateDetails;

/** The chain's certificates, parsed; it stops before one that cannot be parsed. */
export function readChain(leaf: tls.DetailedPeerCertificate, parse: (peer: tls.PeerCertificate) => CertificateDetails | null): CertificateDetails[] {
  const chain: CertificateDetails[] = [];
  for (const cert of peerChain(leaf, (p) => parse(p) ?? UNPARSEABLE)) {
    if (cert === UNPARSEABLE) break;
    chain.push(cert);
  }
  return chain;
}

export function parseOrNull(der: Buffer): CertificateDetails | null {
  try {
    return certificateDetails(der);
  } catch {
    return null;
  }
}

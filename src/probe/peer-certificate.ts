// What a TLS client reads of the peer after a handshake: the leaf, the chain (parsed, cut at the first certificate
// that cannot be parsed), and whether an SSTP client would accept it. Used by the transport for every check kind.
import tls from 'node:tls';
import { certificateDetails, peerChain } from './chain.js';
import type { CertificateDetails } from './types.js';

/**
 * Why a completed handshake's certificate fails an SSTP client's checks, as an OpenSSL/Node error code, or null:
 * the chain's verification result first, then the public name. Connections use rejectUnauthorized off and
 * decide here, so the peer certificate stays readable on failures.
 */
export function certificateVerificationError(
  tlsSocket: tls.TLSSocket,
  peer: tls.PeerCertificate,
  publicName: string,
  checkName: (publicName: string, peer: tls.PeerCertificate) => string | null = nameMismatch,
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
 * connection's socket answers that call with an empty object (startTls) and reads the leaf itself
 * (readPeerCertificate), and the chain only when it is not cached. (getPeerX509Certificate() is no way out: on
 * Node 20, the legacy call returns {} after it.)
 */
export const skipPeerCertificate = (() => ({})) as unknown as tls.TLSSocket['getPeerCertificate'];

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

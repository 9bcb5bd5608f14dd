import tls from 'node:tls';

/**
 * Why a completed handshake's certificate fails an SSTP client's checks, as an OpenSSL/Node error code, or null:
 * the chain's verification result first, then the public name. Probes connect with rejectUnauthorized off and
 * decide here, so the peer certificate stays readable on failures.
 */
export function certificateVerificationError(tlsSocket: tls.TLSSocket, peer: tls.PeerCertificate, publicName: string): string | null {
  if (!tlsSocket.authorized) {
    const error: unknown = tlsSocket.authorizationError;
    if (typeof error === 'string') return error;
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : 'CERT_UNTRUSTED';
  }
  const mismatch = tls.checkServerIdentity(publicName, peer);
  return mismatch ? ((mismatch as { code?: string }).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID') : null;
}

// The leaf a handshake presented, read from its session instead of getPeerCertificate(): the same certificate
// whatever the TLS version, and nothing made up from a session that does not carry one. Real TLS on loopback.
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readPeerCertificate, readPeerLeaf, sessionPeerCertificate } from '../../src/probe/peer-certificate.js';
import { testCertificates, type TestCertificates } from '../fixtures/certs.js';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await testCertificates();
});

const servers: tls.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A handshake with a server presenting `issued`, the client socket still open. */
async function handshake(issued: { chainPem: string; keyPem: string }, maxVersion: tls.SecureVersion): Promise<tls.TLSSocket> {
  const server = tls.createServer({ cert: issued.chainPem, key: issued.keyPem }, (socket) => socket.on('error', () => {}));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'vpn.example.test', rejectUnauthorized: false, maxVersion });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return socket;
}

describe('readPeerLeaf', () => {
  it.each(['TLSv1.3', 'TLSv1.2'] as const)('reads the leaf the server presented over %s, as getPeerCertificate() does', async (version) => {
    const socket = await handshake(certs.valid, version);
    try {
      expect(socket.getProtocol()).toBe(version);
      const full = readPeerCertificate(socket);
      const leaf = readPeerLeaf(socket);
      expect(leaf?.raw.equals(full.raw)).toBe(true);
      expect(leaf?.fingerprint256).toBe(full.fingerprint256);
      expect(leaf?.fingerprint256.replaceAll(':', '')).toBe(certs.valid.sha256);
    } finally {
      socket.destroy();
    }
  });

  it('tells apart two servers with different certificates', async () => {
    const [a, b] = await Promise.all([handshake(certs.valid, 'TLSv1.3'), handshake(certs.wrongName, 'TLSv1.3')]);
    try {
      expect(readPeerLeaf(a)?.fingerprint256).not.toBe(readPeerLeaf(b)?.fingerprint256);
      expect(readPeerLeaf(b)?.fingerprint256).toBe(readPeerCertificate(b).fingerprint256);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

describe('sessionPeerCertificate', () => {
  it('finds nothing in a session without a peer field, nor in truncated or foreign bytes', async () => {
    const socket = await handshake(certs.valid, 'TLSv1.3');
    const session = socket.getSession()!;
    socket.destroy();
    const cert = sessionPeerCertificate(session)!;
    expect(cert.subarray(0, 1).toString('hex')).toBe('30');

    const start = session.indexOf(cert) - 4; // the [3] header: a3 82 <length>
    expect(session[start]).toBe(0xa3);
    const withoutPeer = Buffer.concat([session.subarray(0, start), session.subarray(start + 4 + cert.length)]);
    const outer = withoutPeer.subarray(4); // fix the outer SEQUENCE length (30 82 <length>)
    expect(withoutPeer.subarray(0, 2).toString('hex')).toBe('3082');
    const fixed = Buffer.concat([Buffer.from([0x30, 0x82, outer.length >> 8, outer.length & 0xff]), outer]);
    expect(sessionPeerCertificate(fixed)).toBeNull();

    expect(sessionPeerCertificate(session.subarray(0, start + 100))).toBeNull();
    expect(sessionPeerCertificate(cert)).toBeNull(); // a certificate is no session
    expect(sessionPeerCertificate(Buffer.alloc(0))).toBeNull();
  });
});

// The one transport every check kind uses, seen from a kind: what it hands over (an open stream, or one failure),
// what it has read by then, and the choices a kind makes (the chain, TLS at all). Real TLS servers on loopback.
import type net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, type Connection, type OpenOptions } from '../../src/probe/transport.js';
import type { ErrorKind, ProbeTarget } from '../../src/probe/types.js';
import { testCertificates, type TestCertificates } from '../fixtures/certs.js';
import { closeAllRras, probeTarget, startRras } from '../fixtures/fake-rras.js';

let certs: TestCertificates;
beforeAll(async () => {
  certs = await testCertificates();
});
afterEach(closeAllRras);

type Outcome = { opened: true; stream: net.Socket } | { opened: false; kind: ErrorKind; message: string };

/** Connects as a check kind would and closes as soon as the transport has said how it went. */
async function connect(target: ProbeTarget, options?: OpenOptions, transport = createTransport()): Promise<{ outcome: Outcome; connection: Connection }> {
  let connection!: Connection;
  const outcome = await new Promise<Outcome>((resolve, reject) => {
    connection = transport.connect(
      target,
      {
        onOpen: (stream) => resolve({ opened: true, stream }),
        onFailure: (kind, message) => resolve({ opened: false, kind, message }),
        onError: reject,
        onClose: () => reject(new Error('closed before the outcome')),
      },
      options,
    );
    connection.start();
  });
  connection.close();
  return { outcome, connection };
}

describe('the transport', () => {
  it('hands a kind a verified TLS stream, every phase timed and the leaf read, the chain only when asked', async () => {
    const server = await startRras(certs.valid);
    const target = probeTarget({ url: server.url, ca: certs.ca.certPem });

    const plain = await connect(target);
    expect(plain.outcome.opened).toBe(true);
    expect(plain.connection.stage).toBe('open');
    expect(plain.connection.phases).toEqual({ dns: 0, connect: expect.any(Number), tls: expect.any(Number) });
    expect(plain.connection.tlsVersion).toBe('TLSv1.3');
    expect(plain.connection.certificate?.sha256).toBe(certs.valid.sha256);
    expect(plain.connection.chain).toBeUndefined();

    const withChain = await connect(target, { chain: true });
    expect(withChain.connection.chain?.[0]?.sha256).toBe(certs.valid.sha256);
    expect(withChain.connection.chainChecks).toMatchObject({ serverAuthEku: true, nameMatchesHostname: true, chainTrusted: true });
  });

  it('gives every connection that sees the same chain the same chain and checks objects, checked per name', async () => {
    const server = await startRras(certs.valid);
    const transport = createTransport();
    const target = probeTarget({ url: server.url, ca: certs.ca.certPem });

    const first = await connect(target, { chain: true }, transport);
    const second = await connect(target, { chain: true }, transport);
    const otherName = await connect({ ...target, hostname: 'other.example.test' }, { chain: true }, transport);

    expect(second.connection.chain).toBe(first.connection.chain);
    expect(second.connection.chainChecks).toBe(first.connection.chainChecks);
    expect(otherName.connection.chain).toBe(first.connection.chain);
    expect(otherName.connection.chainChecks).toMatchObject({ nameMatchesHostname: false, chainTrusted: true });
    expect(first.connection.chainChecks).toMatchObject({ nameMatchesHostname: true });
  });

  it('checks the public name of every connection against its own name, and follows a target whose address changed', async () => {
    const server = await startRras(certs.valid);
    const other = await startRras(certs.valid);
    const transport = createTransport();
    const target = probeTarget({ url: server.url, ca: certs.ca.certPem });

    const matching = await connect(target, {}, transport);
    const otherName = await connect({ ...target, hostname: 'other.example.test' }, {}, transport);
    const matchingAgain = await connect(target, {}, transport);
    target.url = other.url;
    const moved = await connect(target, {}, transport);

    expect(matching.outcome.opened).toBe(true);
    expect(otherName.outcome).toMatchObject({ opened: false, kind: 'cert_hostname_mismatch' });
    expect(matchingAgain.outcome.opened).toBe(true);
    expect(moved.outcome.opened).toBe(true);
    expect(moved.connection.peer).toBe(new URL(other.url).host);
  });

  it('stops after the TCP connect when a kind asks for no TLS, even for an https URL', async () => {
    const server = await startRras(certs.valid);
    const { outcome, connection } = await connect(probeTarget({ url: server.url, ca: certs.ca.certPem }), { tls: false });
    expect(outcome.opened).toBe(true);
    expect(connection.phases).toEqual({ dns: 0, connect: expect.any(Number) });
    expect(connection.tlsVersion).toBeNull();
    expect(connection.certificate).toBeNull();
  });

  it('fails an untrusted certificate before the kind speaks, with the certificate still read', async () => {
    const server = await startRras(certs.untrusted);
    const { outcome, connection } = await connect(probeTarget({ url: server.url, ca: certs.ca.certPem }));
    expect(outcome).toMatchObject({ opened: false, kind: 'cert_untrusted' });
    expect(connection.certificate?.sha256).toBe(certs.untrusted.sha256);
  });

  it('fails a refused connection as connect_refused, naming the address', async () => {
    const server = await startRras(null);
    const url = server.url;
    await closeAllRras();
    const { outcome } = await connect(probeTarget({ url }));
    expect(outcome).toMatchObject({ opened: false, kind: 'connect_refused', message: `connection refused by ${new URL(url).host}` });
  });
});

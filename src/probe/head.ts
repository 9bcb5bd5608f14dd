// The SSTP HEAD probe, as a load balancer's health check does it: resolve, TCP connect, TLS (unless offload),
// `HEAD /sra_{...}/ HTTP/1.1`, read the status line and headers, never the body. Over net/tls directly so every
// phase is timed and every failure lands in exactly one error kind.
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { certificateInfo } from './certificate.js';
import { certificateDetails, chainChecks, peerChain, pemFingerprints } from './chain.js';
import {
  MAX_RESPONSE_HEAD_BYTES,
  certificateErrorKind,
  classifyError,
  describeAbort,
  describeCertificateError,
  describeError,
  describeOk,
  describeStatus,
  describeTimeout,
  parseResponseHead,
  type ProbeStage,
  type ResponseHead,
} from './classify.js';
import type {
  CertificateDetails,
  CertificateInfo,
  ChainChecks,
  ErrorKind,
  PhasesMs,
  ProbeFn,
  ProbeResult,
  ProbeTarget,
} from './types.js';
import { certificateVerificationError } from './tls-verify.js';

export const USER_AGENT = 'sstpwatch/0.1';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a name to the one address the probe connects to. Rejects with Node's DNS errors (`ENOTFOUND`...). */
export type LookupFn = (hostname: string) => Promise<ResolvedAddress>;

export interface HeadProberOptions {
  /** Replaces the system resolver (tests, or a resolver pinned to one DNS server). */
  lookup?: LookupFn;
  userAgent?: string;
  /** The response head may not exceed this; default 16 KiB. */
  maxResponseHeadBytes?: number;
}

/**
 * A HEAD prober with its own caches: one TLS secure context per distinct CA bundle (building one per
 * connection costs about 20% CPU per probe), parsed certificates of the chain by fingerprint, and the trust
 * anchors' fingerprints per CA bundle (built only when a chain check needs them).
 */
export function createHeadProber(opts: HeadProberOptions = {}): ProbeFn {
  const contexts = new Map<string, tls.SecureContext>();
  const certificates = new Map<string, CertificateInfo>();
  const chainCertificates = new Map<string, CertificateDetails | null>();
  const chains = new Map<string, { chain: CertificateDetails[]; at: number }>();
  const anchors = new Map<string, Set<string>>();
  const caIds = new Map<string, string>();
  const deps: ProbeDeps = {
    lookup: opts.lookup ?? lookupAddress,
    userAgent: opts.userAgent ?? USER_AGENT,
    maxHeadBytes: opts.maxResponseHeadBytes ?? MAX_RESPONSE_HEAD_BYTES,
    // The configured CA bundle is trusted in addition to the bundled roots, not instead of them.
    secureContext: (ca) =>
      remember(contexts, 32, ca ?? '', () => tls.createSecureContext(ca ? { ca: [...tls.rootCertificates, ca] } : {})),
    certificate: (peer) => remember(certificates, 256, peer.fingerprint256, () => certificateInfo(peer)),
    chain: (key, detailed) => {
      // getPeerCertificate(true) costs about 20 times the leaf alone (it builds every certificate of the chain as an
      // object): read the chain once per leaf, trust store and verification result, and again after CHAIN_REFRESH_MS
      // (an intermediate replaced under the same leaf, still verifying the same way).
      const now = Date.now();
      const cached = chains.get(key);
      if (cached && now - cached.at < CHAIN_REFRESH_MS) return cached.chain;
      const chain = readChain(detailed(), (peer) => remember(chainCertificates, 512, peer.fingerprint256, () => parseOrNull(peer.raw)));
      chains.delete(key);
      remember(chains, 256, key, () => ({ chain, at: now }));
      return chain;
    },
    caId: (ca) => (ca === null ? '' : remember(caIds, 32, ca, () => createHash('sha256').update(ca).digest('hex').slice(0, 16))),
    anchors: (ca) => remember(anchors, 32, ca ?? '', () => pemFingerprints(ca ? [...tls.rootCertificates, ca] : tls.rootCertificates)),
  };
  return (target, signal) => new HeadProbe(target, deps, signal).run();
}


/** The request a load balancer's SSTP health check sends. */
export function buildRequest(path: string, host: string, userAgent = USER_AGENT): string {
  return `HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${userAgent}\r\nConnection: close\r\n\r\n`;
}

/** The Host header value: the name, bracketed if IPv6, with the port unless it is the scheme's default. */
export function hostHeader(hostname: string, port: number, defaultPort: number): string {
  const host = net.isIPv6(hostname) ? `[${hostname}]` : hostname;
  return port === defaultPort ? host : `${host}:${port}`;
}

/** The system resolver (getaddrinfo, so /etc/hosts counts), IPv4 first: RRAS deployments are mostly IPv4. */
async function lookupAddress(hostname: string): Promise<ResolvedAddress> {
  const addresses = await dns.promises.lookup(hostname, { all: true });
  const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
  if (!chosen) throw Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENODATA' });
  return chosen;
}

interface ProbeDeps {
  lookup: LookupFn;
  userAgent: string;
  maxHeadBytes: number;
  secureContext: (ca: string | null) => tls.SecureContext;
  certificate: (peer: tls.PeerCertificate) => CertificateInfo;
  /** The chain behind `key` (leaf, trust store, verification); `detailed` reads it from the socket when not cached. */
  chain: (key: string, detailed: () => tls.DetailedPeerCertificate) => CertificateDetails[];
  /** A short stable id of a CA bundle, for cache keys. */
  caId: (ca: string | null) => string;
  anchors: (ca: string | null) => Set<string>;
}

/**
 * Node's TLS client converts the whole peer chain to objects (getPeerCertificate(true)) after every verified
 * handshake only to hand it to checkServerIdentity, a no-op here: that was about a fifth of a probe's CPU. A probe's
 * socket answers that call with an empty object (startTls) and reads the leaf itself (readPeerCertificate), and the
 * chain only when it is not cached. (getPeerX509Certificate() is no way out: on Node 20, the legacy call returns
 * {} after it.)
 */
const skipPeerCertificate = (() => ({})) as unknown as tls.TLSSocket['getPeerCertificate'];

function readPeerCertificate(socket: tls.TLSSocket): tls.PeerCertificate;
function readPeerCertificate(socket: tls.TLSSocket, detailed: true): tls.DetailedPeerCertificate;
function readPeerCertificate(socket: tls.TLSSocket, detailed = false): tls.PeerCertificate {
  return tls.TLSSocket.prototype.getPeerCertificate.call(socket, detailed);
}

/** How long a leaf's chain is reused before it is read from a handshake again. */
const CHAIN_REFRESH_MS = 5 * 60_000;

/** The chain's certificates, parsed; it stops before one that cannot be parsed. */
function readChain(leaf: tls.DetailedPeerCertificate, parse: (peer: tls.PeerCertificate) => CertificateDetails | null): CertificateDetails[] {
  const chain: CertificateDetails[] = [];
  for (const cert of peerChain(leaf, (p) => parse(p) ?? UNPARSEABLE)) {
    if (cert === UNPARSEABLE) break;
    chain.push(cert);
  }
  return chain;
}

function parseOrNull(der: Buffer): CertificateDetails | null {
  try {
    return certificateDetails(der);
  } catch {
    return null;
  }
}

/** Looks `key` up in `cache`, building and adding it when missing; forgets the oldest entry beyond `max`. */
function remember<V>(cache: Map<string, V>, max: number, key: string, build: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = build();
    cache.set(key, value);
    if (cache.size > max) cache.delete(cache.keys().next().value!);
  }
  return value;
}

interface Endpoint {
  host: string;
  port: number;
  plain: boolean;
  /** The group's public name: SNI, Host header and certificate name check. */
  name: string;
  hostHeader: string;
}

function endpointOf(target: ProbeTarget): Endpoint {
  const url = new URL(target.url);
  const plain = target.offload || url.protocol === 'http:';
  const defaultPort = url.protocol === 'http:' ? 80 : 443;
  const port = url.port ? Number(url.port) : defaultPort;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new TypeError('no host in the URL');
  const name = target.hostname || host;
  return { host, port, plain, name, hostHeader: hostHeader(name, port, defaultPort) };
}

/** Marks a certificate peerChain() could not parse; the chain is cut there. */
const UNPARSEABLE = {} as CertificateDetails;

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** One probe attempt. Every path ends in finish(), which clears the timer and destroys the sockets. */
class HeadProbe {
  private stage: ProbeStage = 'dns';
  private readonly startedAt = performance.now();
  private lapStart = this.startedAt;
  private readonly phases: PhasesMs = {};
  private endpoint: Endpoint | undefined;
  private peer = '';
  private socket: net.Socket | undefined;
  private tlsSocket: tls.TLSSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private response: Buffer = Buffer.alloc(0);
  private statusCode: number | null = null;
  private httpVersion: string | null = null;
  private tlsVersion: string | null = null;
  private certificate: CertificateInfo | null = null;
  private chain: CertificateDetails[] | undefined;
  private chainChecks: ChainChecks | undefined;
  private settle: (result: ProbeResult) => void = () => {};
  private done = false;

  constructor(
    private readonly target: ProbeTarget,
    private readonly deps: ProbeDeps,
    private readonly signal?: AbortSignal,
  ) {}

  run(): Promise<ProbeResult> {
    return new Promise((resolve) => {
      this.settle = resolve;
      try {
        this.start();
      } catch (err) {
        this.fail(err);
      }
    });
  }

  private start(): void {
    if (this.signal?.aborted) return this.finish('timeout', 'probe aborted before it started');
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(this.onTimeout, this.target.settings.timeoutMs);
    try {
      this.endpoint = endpointOf(this.target);
    } catch (err) {
      return this.finish('dns', `invalid target URL ${JSON.stringify(this.target.url)}: ${(err as Error).message}`);
    }
    const { host, port } = this.endpoint;
    this.peer = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    if (net.isIP(host)) {
      this.phases.dns = 0;
      return this.connect(host, net.isIP(host));
    }
    this.deps.lookup(host).then(
      ({ address, family }) => {
        if (this.done) return;
        this.phases.dns = this.lap();
        this.peer = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
        this.connect(address, family);
      },
      (err: unknown) => this.fail(err),
    );
  }

  private connect(address: string, family: number): void {
    this.stage = 'connect';
    const socket = net.connect({ host: address, port: this.endpoint!.port, family });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('error', this.fail);
    socket.on('close', this.onClose);
    socket.once('connect', () => {
      this.phases.connect = this.lap();
      if (this.endpoint!.plain) this.sendRequest(socket);
      else this.startTls(socket);
    });
  }

  private startTls(socket: net.Socket): void {
    this.stage = 'tls';
    const { name } = this.endpoint!;
    let secureContext: tls.SecureContext;
    try {
      secureContext = this.deps.secureContext(this.target.settings.tls.ca);
    } catch (err) {
      return this.finish('tls_handshake', `unusable CA bundle: ${(err as Error).message}`);
    }
    const tlsSocket = tls.connect({
      socket,
      secureContext,
      servername: net.isIP(name) ? undefined : name, // RFC 6066: no IP addresses in SNI
      rejectUnauthorized: false, // verified below, so the certificate stays readable on failures
      checkServerIdentity: () => undefined,
    });
    tlsSocket.getPeerCertificate = skipPeerCertificate;
    this.tlsSocket = tlsSocket;
    tlsSocket.on('error', this.fail);
    tlsSocket.on('close', this.onClose);
    tlsSocket.once('secureConnect', () => this.onSecure(tlsSocket));
  }

  private onSecure(tlsSocket: tls.TLSSocket): void {
    this.phases.tls = this.lap();
    this.tlsVersion = tlsSocket.getProtocol();
    const peer = readPeerCertificate(tlsSocket);
    const hasCertificate = Buffer.isBuffer(peer?.raw) && peer.raw.length > 0;
    if (hasCertificate) {
      this.certificate = this.deps.certificate(peer);
      this.inspectChain(tlsSocket, peer);
    }
    if (this.target.settings.tls.verify) {
      const code = hasCertificate ? certificateVerificationError(tlsSocket, peer, this.endpoint!.name) : 'NO_PEER_CERTIFICATE';
      if (code) {
        const message = hasCertificate
          ? describeCertificateError(code, this.certificate, this.endpoint!.name, Date.now())
          : 'the server presented no certificate';
        return this.finish(certificateErrorKind(code), message);
      }
    }
    this.sendRequest(tlsSocket);
  }

  /** The presented chain and the SSTP checks on it; a chain that cannot be read leaves both absent. */
  private inspectChain(tlsSocket: tls.TLSSocket, peer: tls.PeerCertificate): void {
    const error: unknown = tlsSocket.authorized ? null : tlsSocket.authorizationError;
    const code = error === null ? null : typeof error === 'string' ? error : ((error as { code?: string }).code ?? 'CERT_UNTRUSTED');
    const ca = this.target.settings.tls.ca;
    const key = `${peer.fingerprint256}|${code ?? ''}|${this.deps.caId(ca)}`;
    const chain = this.deps.chain(key, () => readPeerCertificate(tlsSocket, true));
    if (chain.length === 0) return;
    this.chain = chain;
    this.chainChecks = chainChecks(chain, this.endpoint!.name, { error: code, anchors: () => this.deps.anchors(ca) }) ?? undefined;
  }



  private sendRequest(socket: net.Socket): void {
    this.stage = 'http';
    this.lap();
    socket.on('data', this.onData);
    socket.once('end', this.onEnd);
    socket.write(buildRequest(this.target.settings.path, this.endpoint!.hostHeader, this.deps.userAgent));
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.response = this.response.length === 0 ? chunk : Buffer.concat([this.response, chunk]);
    const parsed = parseResponseHead(this.response, this.deps.maxHeadBytes);
    if (parsed.state === 'invalid') return this.finish('http_protocol', parsed.reason);
    if (parsed.state === 'complete') this.onResponseHead(parsed.head);
  };

  private onResponseHead(head: ResponseHead): void {
    this.phases.processing = this.lap();
    this.statusCode = head.statusCode;
    this.httpVersion = head.httpVersion;
    const expected = this.target.settings.expectStatus;
    if (head.httpVersion !== '1.1') {
      return this.finish('http_version', `expected HTTP/1.1, got HTTP/${head.httpVersion} ${head.statusCode}`);
    }
    if (!expected.includes(head.statusCode)) return this.finish('unexpected_status', describeStatus(expected, head.statusCode));
    this.finish('ok', describeOk(head.httpVersion, head.statusCode, head.reason));
  }

  /** The peer closed (FIN) before the response head was complete. */
  private readonly onEnd = (): void => {
    if (this.response.length === 0) {
      return this.finish('http_protocol', `connection closed by ${this.peer} without any response`);
    }
    this.finish('http_protocol', `connection closed by ${this.peer} in the middle of the response headers`);
  };

  /** A close that came without an error or an end: decide by the stage. */
  private readonly onClose = (): void => {
    if (this.done) return;
    if (this.stage === 'http') return this.onEnd();
    const kind: ErrorKind = this.stage === 'tls' ? 'tls_handshake' : 'connect_reset';
    const during = this.stage === 'tls' ? ' during the TLS handshake' : '';
    this.finish(kind, `connection closed by ${this.peer}${during}`);
  };

  private readonly fail = (err: unknown): void => {
    if (this.done) return;
    this.finish(classifyError(err, this.stage), describeError(err, this.stage, this.peer, this.endpoint?.host ?? ''));
  };

  private readonly onTimeout = (): void => {
    this.finish(
      'timeout',
      describeTimeout(this.stage, this.target.settings.timeoutMs, {
        host: this.endpoint?.host ?? '',
        peer: this.peer,
        offload: this.endpoint?.plain ?? false,
        responseBytes: this.response.length,
      }),
    );
  };

  private readonly onAbort = (): void => this.finish('timeout', describeAbort(this.stage));

  /** Milliseconds since the previous lap. */
  private lap(): number {
    const now = performance.now();
    const elapsed = round1(now - this.lapStart);
    this.lapStart = now;
    return elapsed;
  }

  private finish(kind: ErrorKind, message: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    for (const socket of [this.tlsSocket, this.socket]) {
      if (!socket) continue;
      socket.on('error', () => {}); // late errors of a destroyed socket are of no interest
      socket.destroy();
    }
    this.settle({
      at: Date.now(),
      ok: kind === 'ok',
      errorKind: kind,
      message,
      statusCode: this.statusCode,
      httpVersion: this.httpVersion,
      durationMs: round1(performance.now() - this.startedAt),
      phasesMs: this.phases,
      tlsVersion: this.tlsVersion,
      certificateSha256: this.certificate?.sha256 ?? null,
      certificate: this.certificate,
      ...(this.chain ? { chain: this.chain } : {}),
      ...(this.chainChecks ? { chainChecks: this.chainChecks } : {}),
    });
  }
}

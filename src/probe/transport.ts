// The one way every check kind reaches a target: resolve, TCP connect, TLS (unless offload or http:) with SNI and
// the verification an SSTP client does, every phase timed and every failure in exactly one error kind. A check
// kind gets an open stream (or a failure) and speaks its own protocol over it; the transport keeps the caches
// that make a handshake cheap (secure contexts, parsed certificates, chains).
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { certificateInfo } from './certificate.js';
import { sameAddress, targetAddress, type Endpoint, type TargetAddress } from './endpoint.js';
import { chainChecks, pemFingerprints, type ChainVerification } from './chain.js';
import {
  MAX_RESPONSE_HEAD_BYTES,
  certificateErrorKind,
  classifyError,
  describeCertificateError,
  describeProbeError,
  parseResponseHead,
  type ProbeStage,
  type ResponseHeadParse,
} from './classify.js';
import {
  CHAIN_REFRESH_MS,
  certificateVerificationError,
  nameMismatch,
  parseOrNull,
  readChain,
  readPeerCertificate,
  nodeFingerprint,
  readPeerLeaf,
  skipPeerCertificate,
  type PeerLeaf,
} from './peer-certificate.js';
import type { CertificateDetails, CertificateInfo, ChainChecks, ErrorKind, PhasesMs, ProbeResult, ProbeTarget } from './types.js';

/** What every check kind sends as User-Agent. */
export const USER_AGENT = 'sstpwatch/0.1';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a name to the one address the probe connects to. Rejects with Node's DNS errors (`ENOTFOUND`...). */
export type LookupFn = (hostname: string) => Promise<ResolvedAddress>;

export { hostHeader } from './endpoint.js';

export interface TransportOptions {
  /** Replaces the system resolver (tests, or a resolver pinned to one DNS server). */
  lookup?: LookupFn;
  /** A response head may not exceed this; default 16 KiB. */
  maxResponseHeadBytes?: number;
}

/** Where a connection is; `open` = the stream is handed to the check kind. */
export type TransportStage = 'dns' | 'connect' | 'tls' | 'open';

/** What a check kind hears from its connection. Exactly one of onOpen and onFailure is called, at most once. */
export interface ConnectionHandler {
  /** The stream is up: TCP under offload or http:, else TLS with the certificate verified (when configured). */
  onOpen(stream: net.Socket): void;
  /** The connection failed before it opened: resolution, connect, TLS or verification. */
  onFailure(kind: ErrorKind, message: string): void;
  /** After onOpen: an error on the stream. */
  onError(err: unknown): void;
  /** After onOpen: the stream closed without an error. */
  onClose(): void;
}

export interface OpenOptions {
  /** Read the presented chain and its SSTP checks (cached per leaf); default false. */
  chain?: boolean;
  /** False: open right after the TCP connect, without TLS even for https (a kind that only checks the port). */
  tls?: boolean;
}

export interface Transport {
  /** A connection to the target; call start() once the check kind has armed its timer. */
  connect(target: ProbeTarget, handler: ConnectionHandler, opts?: OpenOptions): Connection;
}

/**
 * A transport with its own caches: one TLS secure context per distinct CA bundle (building one per connection
 * costs about 20% CPU per probe), parsed certificates of the chain by fingerprint, and the trust anchors'
 * fingerprints per CA bundle (built only when a chain check needs them).
 */
export function createTransport(opts: TransportOptions = {}): Transport {
  const contexts = new Map<string, tls.SecureContext>();
  const certificates = new Map<string, CertificateInfo>();
  const chainCertificates = new Map<string, CertificateDetails | null>();
  const chains = new Map<string, { chain: CertificateDetails[]; at: number }>();
  const anchors = new Map<string, Set<string>>();
  const caIds = new Map<string, string>();
  const checksByChain = new WeakMap<CertificateDetails[], Map<string, ChainChecks | null>>();
  const nameChecks = new Map<string, string | null>();
  const fingerprints = new Map<string, string>();
  const addresses = new WeakMap<ProbeTarget, TargetAddress>();
  const deps: TransportDeps = {
    lookup: opts.lookup ?? lookupAddress,
    maxHeadBytes: opts.maxResponseHeadBytes ?? MAX_RESPONSE_HEAD_BYTES,
    // The configured CA bundle is trusted in addition to the bundled roots, not instead of them.
    secureContext: (ca) =>
      remember(contexts, 32, ca ?? '', () => tls.createSecureContext(ca ? { ca: [...tls.rootCertificates, ca] } : {})),
    // A fleet presents a few leaves again and again: each one's hex digest is put in Node's form once.
    fingerprint: (hex) => remember(fingerprints, 256, hex, () => nodeFingerprint(hex)),
    certificate: (peer) => remember(certificates, 256, peer.fingerprint256, () => certificateInfo(peer.raw)),
    // A certificate carries the public name or not whatever the handshake: checked once per certificate and name.
    nameMismatch: (name, peer, read) => remember(nameChecks, 512, `${peer.fingerprint256}\u0000${name}`, () => nameMismatch(name, read())),
    // Parsed once per target object (a URL parse per probe adds up); parsed again when its fields differ.
    address: (target) => {
      const known = addresses.get(target);
      if (known && sameAddress(known.of, target)) return known;
      const address = targetAddress(target);
      addresses.set(target, address);
      return address;
    },
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
    // A chain's checks depend on nothing but the chain (one array per leaf, trust store and verification result)
    // and the name checked: computed once and shared by every result that presents it, not once per probe.
    checks: (chain, name, verify) => {
      let byName = checksByChain.get(chain);
      if (!byName) checksByChain.set(chain, (byName = new Map<string, ChainChecks | null>()));
      return remember(byName, 64, name, () => chainChecks(chain, name, verify));
    },
    caId: (ca) => (ca === null ? '' : remember(caIds, 32, ca, () => createHash('sha256').update(ca).digest('hex').slice(0, 16))),
    anchors: (ca) => remember(anchors, 32, ca ?? '', () => pemFingerprints(ca ? [...tls.rootCertificates, ca] : tls.rootCertificates)),
  };
  return { connect: (target, handler, options = {}) => new Connection(target, deps, handler, options) };
}

/** The system resolver (getaddrinfo, so /etc/hosts counts), IPv4 first: RRAS deployments are mostly IPv4. */
async function lookupAddress(hostname: string): Promise<ResolvedAddress> {
  const addresses = await dns.promises.lookup(hostname, { all: true });
  const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
  if (!chosen) throw Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENODATA' });
  return chosen;
}

interface TransportDeps {
  lookup: LookupFn;
  maxHeadBytes: number;
  secureContext: (ca: string | null) => tls.SecureContext;
  /** A leaf's hex SHA-256 as Node writes fingerprint256 (`AB:12:...`). */
  fingerprint: (hex: string) => string;
  certificate: (peer: PeerLeaf) => CertificateInfo;
  /** Why the certificate does not carry `name` (an error code), or null; cached per certificate and name (`read` its fields). */
  nameMismatch: (name: string, peer: PeerLeaf, read: () => tls.PeerCertificate) => string | null;
  /** Where a target is reached and whether its request head is safe to send (throws for an invalid URL). */
  address: (target: ProbeTarget) => TargetAddress;
  /** The chain behind `key` (leaf, trust store, verification); `detailed` reads it from the socket when not cached. */
  chain: (key: string, detailed: () => tls.DetailedPeerCertificate) => CertificateDetails[];
  /** The SSTP checks of a chain from `chain` for `name` (shared by every result presenting that chain). */
  checks: (chain: CertificateDetails[], name: string, verification: ChainVerification) => ChainChecks | null;
  /** A short stable id of a CA bundle, for cache keys. */
  caId: (ca: string | null) => string;
  anchors: (ca: string | null) => Set<string>;
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

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** One run of a check kind over a connection: started once, reporting its result through `settle`. */
export interface CheckRun {
  begin(settle: (result: ProbeResult) => void): void;
  /** A failure the run did not foresee: turned into its result. */
  readonly fail: (err: unknown) => void;
}

/** Runs a check; a throw while it starts becomes its result, so the promise never rejects (a probe's contract). */
export function runCheck(run: CheckRun): Promise<ProbeResult> {
  return new Promise((resolve) => {
    try {
      run.begin(resolve);
    } catch (err) {
      run.fail(err);
    }
  });
}

/**
 * One connection attempt. The check kind owns the clock (its timeout and abort) and reads `stage`, `host` and
 * `peer` to describe where a stall happened; the connection owns the sockets until close().
 */
export class Connection {
  stage: TransportStage = 'dns';
  readonly startedAt = performance.now();
  private lapStart = this.startedAt;
  readonly phases: PhasesMs = {};
  endpoint: Endpoint | undefined;
  /** `address:port` once known (the URL's host before resolution). */
  peer = '';
  tlsVersion: string | null = null;
  certificate: CertificateInfo | null = null;
  chain: CertificateDetails[] | undefined;
  chainChecks: ChainChecks | undefined;
  private socket: net.Socket | undefined;
  private tlsSocket: tls.TLSSocket | undefined;
  private closed = false;

  constructor(
    private readonly target: ProbeTarget,
    private readonly deps: TransportDeps,
    private readonly handler: ConnectionHandler,
    private readonly options: OpenOptions,
  ) {}

  /** The URL's host (a name or an address), '' before start() parsed it. */
  get host(): string {
    return this.endpoint?.host ?? '';
  }

  /** Resolves, connects and starts TLS; the handler hears how it went. */
  start(): void {
    let address: TargetAddress;
    try {
      address = this.deps.address(this.target);
    } catch (err) {
      return this.failWith('dns', `invalid target URL ${JSON.stringify(this.target.url)}: ${(err as Error).message}`);
    }
    this.endpoint = address.endpoint;
    if (address.unsafe !== null) return this.failWith('monitor_error', address.unsafe);
    const { host, port } = this.endpoint;
    this.peer = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    if (net.isIP(host)) {
      this.phases.dns = 0;
      return this.connectTo(host, net.isIP(host));
    }
    this.deps.lookup(host).then(
      ({ address, family }) => {
        if (this.closed) return;
        this.phases.dns = this.lap();
        this.peer = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
        this.connectTo(address, family);
      },
      (err: unknown) => this.onSocketError(err),
    );
  }

  /** The stage for error descriptions: once the stream is open, the check waits for its HTTP response. */
  get probeStage(): ProbeStage {
    return this.stage === 'open' ? 'http' : this.stage;
  }

  /** The error kind and sentence for a Node error at the current stage. */
  describeFailure(err: unknown): { kind: ErrorKind; message: string } {
    const stage = this.probeStage;
    return { kind: classifyError(err, stage), message: describeProbeError(err, stage, this.peer, this.host) };
  }

  /** A check's result: its verdict and HTTP status line, with what the connection saw (phases, TLS, certificate). */
  result(kind: ErrorKind, message: string, http: Pick<ProbeResult, 'statusCode' | 'httpVersion'>): ProbeResult {
    return {
      at: Date.now(),
      ok: kind === 'ok',
      errorKind: kind,
      message,
      statusCode: http.statusCode,
      httpVersion: http.httpVersion,
      durationMs: this.elapsed(),
      phasesMs: this.phases,
      tlsVersion: this.tlsVersion,
      certificateSha256: this.certificate?.sha256 ?? null,
      certificate: this.certificate,
      ...(this.chain ? { chain: this.chain } : {}),
      ...(this.chainChecks ? { chainChecks: this.chainChecks } : {}),
    };
  }

  /** Parses a response head received so far, within the transport's head limit. */
  parseResponseHead(data: Buffer): ResponseHeadParse {
    return parseResponseHead(data, this.deps.maxHeadBytes);
  }

  /** Milliseconds since the previous lap (the start for the first). */
  lap(): number {
    const now = performance.now();
    const elapsed = round1(now - this.lapStart);
    this.lapStart = now;
    return elapsed;
  }

  /** Milliseconds since the connection was created. */
  elapsed(): number {
    return round1(performance.now() - this.startedAt);
  }

  /**
   * Ends the connection; no handler is called after it. `flush`: end the stream first so the last bytes written
   * reach the peer (bounded by a short grace), instead of destroying it at once.
   */
  close(flush = false): void {
    if (this.closed) return;
    this.closed = true;
    const stream = this.tlsSocket ?? this.socket;
    if (!stream) return;
    stream.on('error', () => {}); // late errors of a closed socket are of no interest
    const destroy = (): void => void stream.destroy();
    if (flush && !stream.destroyed) {
      stream.end(destroy);
      setTimeout(destroy, 50).unref();
    } else destroy();
  }

  private connectTo(address: string, family: number): void {
    this.stage = 'connect';
    const { port } = this.endpoint!;
    if (this.endpoint!.plain || this.options.tls === false) {
      const socket = net.connect({ host: address, port, family });
      this.socket = socket;
      this.watch(socket);
      socket.once('connect', () => {
        this.phases.connect = this.lap();
        this.open(socket);
      });
      return;
    }
    let secureContext: tls.SecureContext;
    try {
      secureContext = this.deps.secureContext(this.target.settings.tls.ca);
    } catch (err) {
      return this.failWith('tls_handshake', `unusable CA bundle: ${(err as Error).message}`);
    }
    const { name } = this.endpoint!;
    // One TLS socket that makes its own TCP connection: a net socket wrapped after its connect costs a second socket
    // object, its listeners and its destroy on every probe.
    const tlsSocket = tls.connect({
      host: address, // an address: no lookup, so no family either
      port,
      secureContext,
      servername: net.isIP(name) ? undefined : name, // RFC 6066: no IP addresses in SNI
      rejectUnauthorized: false, // verified below, so the certificate stays readable on failures
      checkServerIdentity: () => undefined,
    });
    tlsSocket.getPeerCertificate = skipPeerCertificate;
    this.tlsSocket = tlsSocket;
    this.watch(tlsSocket);
    // Ahead of the socket's own listener, which starts the handshake: the TCP connect ends here, the TLS phase begins.
    tlsSocket.prependOnceListener('connect', () => {
      this.phases.connect = this.lap();
      this.stage = 'tls';
    });
    tlsSocket.once('secureConnect', () => this.onSecure(tlsSocket));
  }

  private watch(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  private onSecure(tlsSocket: tls.TLSSocket): void {
    if (this.closed) return;
    this.phases.tls = this.lap();
    this.tlsVersion = tlsSocket.getProtocol();
    const peer = readPeerLeaf(tlsSocket, this.deps.fingerprint) ?? readPeerCertificate(tlsSocket);
    const hasCertificate = Buffer.isBuffer(peer?.raw) && peer.raw.length > 0;
    if (hasCertificate) {
      this.certificate = this.deps.certificate(peer);
      if (this.options.chain) this.readChain(tlsSocket, peer);
    }
    if (this.target.settings.tls.verify) {
      const { name } = this.endpoint!;
      const code = hasCertificate ? certificateVerificationError(tlsSocket, peer, name, (n, p) => this.deps.nameMismatch(n, p, () => readPeerCertificate(tlsSocket))) : 'NO_PEER_CERTIFICATE';
      if (code) {
        const message = hasCertificate ? describeCertificateError(code, this.certificate, name, Date.now()) : 'the server presented no certificate';
        return this.failWith(certificateErrorKind(code), message);
      }
    }
    this.open(tlsSocket);
  }

  /** The presented chain and the SSTP checks on it; a chain that cannot be read leaves both absent. */
  private readChain(tlsSocket: tls.TLSSocket, peer: PeerLeaf): void {
    const error: unknown = tlsSocket.authorized ? null : tlsSocket.authorizationError;
    const code = error === null ? null : typeof error === 'string' ? error : ((error as { code?: string }).code ?? 'CERT_UNTRUSTED');
    const ca = this.target.settings.tls.ca;
    const key = `${peer.fingerprint256}|${code ?? ''}|${this.deps.caId(ca)}`;
    const chain = this.deps.chain(key, () => readPeerCertificate(tlsSocket, true));
    if (chain.length === 0) return;
    this.chain = chain;
    this.chainChecks = this.deps.checks(chain, this.endpoint!.name, { error: code, anchors: () => this.deps.anchors(ca) }) ?? undefined;
  }

  private open(stream: net.Socket): void {
    this.stage = 'open';
    this.handler.onOpen(stream);
  }

  private failWith(kind: ErrorKind, message: string): void {
    if (this.closed) return;
    this.handler.onFailure(kind, message);
  }

  private readonly onSocketError = (err: unknown): void => {
    if (this.closed) return;
    if (this.stage === 'open') return this.handler.onError(err);
    const { kind, message } = this.describeFailure(err);
    this.failWith(kind, message);
  };

  /** A close that came without an error: before the stream opened it is a failure of its own. */
  private readonly onSocketClose = (): void => {
    if (this.closed) return;
    if (this.stage === 'open') return this.handler.onClose();
    if (this.stage === 'tls') return this.failWith('tls_handshake', `connection closed by ${this.peer} during the TLS handshake`);
    this.failWith('connect_reset', `connection closed by ${this.peer}`);
  };
}

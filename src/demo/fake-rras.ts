// A simulated RRAS server for the demo mode and the tests: HTTP.sys answering the SSTP health check over
// TLS (or plain HTTP behind a TLS-offloading load balancer), with failure behaviors switchable at runtime.
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';

/** How the fake answers new connections. */
export type RrasBehavior =
  /** Answer every request (default: 401 on HTTP/1.1, at once). Paths other than the SSTP one get 404. */
  | { mode: 'answer'; status?: number; httpVersion?: '1.1' | '1.0'; delayMs?: number; headers?: Record<string, string> }
  /** Accept the TCP connection and never say a word (not even TLS). */
  | { mode: 'accept-stall' }
  /** Complete TLS, read the request, never answer (a hung server). */
  | { mode: 'tls-stall' }
  /** Answer the request with bytes that are not HTTP. */
  | { mode: 'garbage'; data?: string | Buffer }
  /** Send a TCP RST as soon as the client's first bytes arrive (a wrong HTTP.sys TLS binding looks like this). */
  | { mode: 'reset' }
  /** Send a status line, then one header line every intervalMs, forever. */
  | { mode: 'endless-headers'; intervalMs?: number; lineBytes?: number }
  /** Answer 401 correctly, but one byte every intervalMs (default 1 s), then close. */
  | { mode: 'trickle'; intervalMs?: number }
  /** Answer 401 with a body of `bytes` (default 10 MB) although the request is HEAD. */
  | { mode: 'huge-body'; bytes?: number }
  /** Read the TLS ClientHello, send the first bytes of a handshake record, then nothing (a stall mid-TLS). */
  | { mode: 'tls-partial' }
  /** Close (FIN) right after accepting. */
  | { mode: 'close' }
  /** The server is down: the listener is closed, connects are refused. */
  | { mode: 'stopped' };

export type RrasMode = RrasBehavior['mode'];

/** A behavior, its mode alone, or a status code to answer with. */
export type RrasBehaviorInput = RrasBehavior | RrasMode | number;

export interface FakeRrasOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port, kept across stop/start. */
  port?: number;
  /** Certificate chain and key PEM; without it the fake speaks plain HTTP (TLS offloaded). */
  tls?: { cert: string; key: string } | null;
  behavior?: RrasBehaviorInput;
}

export interface RecordedRequest {
  method: string;
  target: string;
  httpVersion: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  /** The request head as received. */
  raw: string;
  /** The TLS SNI the client sent (null: none, or plain HTTP). */
  servername: string | null;
  at: number;
}

export interface FakeRras {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly behavior: RrasBehavior;
  /** Request heads received so far. */
  readonly requests: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  readonly lastRequest: RecordedRequest | null;
  /** The last completed TLS handshake: the SNI the client sent (null: none) and the protocol. */
  readonly lastHandshake: { servername: string | null; protocol: string | null } | null;
  /** The last 50 requests, oldest first. */
  readonly recentRequests: readonly RecordedRequest[];
  /** Applies to connections accepted from now on; switching to or from `stopped` closes or reopens the port. */
  setBehavior(behavior: RrasBehaviorInput): Promise<void>;
  /** Presents another certificate from now on (a certificate renewal). */
  setCertificate(pem: { cert: string; key: string }): void;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

const MAX_REQUEST_HEAD_BYTES = 64 * 1024;
const HUGE_BODY_BYTES = 10 * 1024 * 1024;
/** Body buffers by size, allocated on first use and shared by every huge-body answer (a few sizes at most). */
const bodies = new Map<number, Buffer>();
function bodyOf(bytes: number): Buffer {
  let body = bodies.get(bytes);
  if (!body) bodies.set(bytes, (body = Buffer.alloc(bytes, 0x78)));
  return body;
}
const RECENT_REQUESTS = 50;

export function normalizeBehavior(input: RrasBehaviorInput): RrasBehavior {
  if (typeof input === 'number') return { mode: 'answer', status: input };
  if (typeof input === 'string') return { mode: input };
  return input;
}

export async function startFakeRras(opts: FakeRrasOptions = {}): Promise<FakeRras> {
  const server = new FakeRrasServer(opts);
  await server.start(normalizeBehavior(opts.behavior ?? 'answer'));
  return server;
}

class FakeRrasServer implements FakeRras {
  readonly host: string;
  port: number;
  behavior: RrasBehavior = { mode: 'answer' };
  requests = 0;
  connections = 0;
  recentRequests: RecordedRequest[] = [];
  lastHandshake: { servername: string | null; protocol: string | null } | null = null;
  private listener: net.Server | null = null;
  private secureContext: tls.SecureContext | null;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(opts: FakeRrasOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.secureContext = opts.tls ? tls.createSecureContext(opts.tls) : null;
  }

  get tls(): boolean {
    return this.secureContext !== null;
  }

  get url(): string {
    const host = net.isIPv6(this.host) ? `[${this.host}]` : this.host;
    return `${this.tls ? 'https' : 'http'}://${host}:${this.port}`;
  }

  get lastRequest(): RecordedRequest | null {
    return this.recentRequests.at(-1) ?? null;
  }

  async start(behavior: RrasBehavior): Promise<void> {
    this.behavior = behavior;
    if (behavior.mode !== 'stopped') await this.listen();
  }

  async setBehavior(input: RrasBehaviorInput): Promise<void> {
    if (this.closed) throw new Error('fake RRAS server is closed');
    this.behavior = normalizeBehavior(input);
    if (this.behavior.mode === 'stopped') await this.stopListening();
    else if (!this.listener) await this.listen();
  }

  setCertificate(pem: { cert: string; key: string }): void {
    this.secureContext = tls.createSecureContext(pem);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopListening();
  }

  private listen(): Promise<void> {
    const listener = net.createServer((socket) => this.onConnection(socket));
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: this.host, port: this.port }, () => {
        listener.off('error', reject);
        listener.on('error', () => {}); // after listening, errors concern single connections
        this.listener = listener;
        this.port = (listener.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private stopListening(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const listener = this.listener;
    this.listener = null;
    if (!listener) return Promise.resolve();
    return new Promise((resolve) => listener.close(() => resolve()));
  }

  private track<T extends net.Socket>(socket: T): T {
    this.sockets.add(socket);
    socket.on('error', () => {}); // clients hang up in every possible way; that is the point
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private every(ms: number, fn: () => void, socket: net.Socket): void {
    const timer = setInterval(fn, ms);
    this.timers.add(timer);
    socket.once('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }

  private onConnection(raw: net.Socket): void {
    this.track(raw);
    this.connections++;
    const behavior = this.behavior;
    switch (behavior.mode) {
      case 'accept-stall':
        raw.resume(); // read and ignore: silent, but a client's hang-up still closes the socket
        return;
      case 'close':
      case 'stopped':
        raw.destroy();
        return;
      case 'reset':
        raw.once('data', () => raw.resetAndDestroy());
        return;
      case 'tls-partial':
        // A ServerHello record header announcing 4 KiB, and 6 of them: the client waits for the rest forever.
        raw.once('data', () => raw.write(Buffer.from([0x16, 0x03, 0x03, 0x10, 0x00, 0x02, 0x00, 0x00, 0x46, 0x03, 0x03])));
        return;
    }
    if (!this.secureContext) return this.serveHttp(raw, behavior, null);
    const tlsSocket = this.track(new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext }));
    tlsSocket.once('secure', () => {
      const servername = (tlsSocket as tls.TLSSocket & { servername?: string | false }).servername || null;
      this.lastHandshake = { servername, protocol: tlsSocket.getProtocol() };
      this.serveHttp(tlsSocket, behavior, servername);
    });
  }

  private serveHttp(socket: net.Socket, behavior: RrasBehavior, servername: string | null): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (!startsLikeHttp(head)) {
        // HTTP.sys answers a TLS ClientHello on a plain port with a plain-text 400.
        socket.off('data', onData);
        return void socket.end(response(400, '1.1'));
      }
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_REQUEST_HEAD_BYTES) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const request = parseRequest(head.toString('latin1', 0, end), servername);
      this.record(request);
      this.respond(socket, behavior, request);
    };
    socket.on('data', onData);
  }

  private record(request: RecordedRequest): void {
    this.requests++;
    this.recentRequests.push(request);
    if (this.recentRequests.length > RECENT_REQUESTS) this.recentRequests.shift();
  }

  private respond(socket: net.Socket, behavior: RrasBehavior, request: RecordedRequest): void {
    switch (behavior.mode) {
      case 'answer': {
        const version = behavior.httpVersion ?? '1.1';
        const status = answerStatus(request, behavior.status ?? 401);
        const send = (): void => void socket.end(response(status, version, behavior.headers));
        if (behavior.delayMs) this.after(behavior.delayMs, send);
        else send();
        return;
      }
      case 'garbage':
        socket.end(behavior.data ?? Buffer.from('\x00\x01SSTP?\xff\xfe garbage \r\n\r\n', 'latin1'));
        return;
      case 'trickle': {
        const bytes = Buffer.from(response(401, '1.1'), 'latin1');
        let sent = 0;
        this.every(behavior.intervalMs ?? 1000, () => {
          if (sent < bytes.length) socket.write(bytes.subarray(sent, ++sent));
          else socket.end();
        }, socket);
        return;
      }
      case 'huge-body': {
        const size = behavior.bytes ?? HUGE_BODY_BYTES;
        socket.write(response(401, '1.1', { 'Content-Length': String(size) }));
        socket.end(bodyOf(size));
        return;
      }
      case 'endless-headers': {
        socket.write('HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-HTTPAPI/2.0\r\n');
        const filler = 'x'.repeat(Math.max(1, (behavior.lineBytes ?? 32) - 16));
        let n = 0;
        this.every(behavior.intervalMs ?? 20, () => socket.write(`X-Filler-${n++}: ${filler}\r\n`), socket);
        return;
      }
      default:
        return; // tls-stall: read the request, never answer
    }
  }
}

/** HTTP.sys: 400 without Host on HTTP/1.1, 404 for a URL nobody reserved. */
function answerStatus(request: RecordedRequest, sstpStatus: number): number {
  if (request.httpVersion === '1.1' && !('host' in request.headers)) return 400;
  return isSstpPath(request.target) ? sstpStatus : 404;
}

/** HTTP.sys matches the URL reservation case-insensitively, after percent-decoding. */
export function isSstpPath(target: string): boolean {
  try {
    return decodeURIComponent(target).toLowerCase() === SSTP_PATH.toLowerCase();
  } catch {
    return false;
  }
}

function startsLikeHttp(data: Buffer): boolean {
  const first = data[0];
  return first === undefined || (first >= 0x41 && first <= 0x5a); // a method: GET, HEAD, SSTP_DUPLEX_POST...
}

function parseRequest(head: string, servername: string | null): RecordedRequest {
  const [requestLine = '', ...headerLines] = head.split('\r\n');
  const [method = '', target = '', version = ''] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    method,
    target,
    httpVersion: version.replace(/^HTTP\//, ''),
    headers,
    raw: `${head}\r\n\r\n`,
    servername,
    at: Date.now(),
  };
}

function response(status: number, version: string, extra: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    'Content-Length': '0',
    Server: 'Microsoft-HTTPAPI/2.0',
    Date: new Date().toUTCString(),
    Connection: 'close',
    ...extra,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/${version} ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${lines.join('')}\r\n`;
}

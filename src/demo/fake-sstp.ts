// A simulated SSTP server for the deep check's tests (and for trying `sstpwatch check --sstp`): it speaks the start
// of real MS-SSTP (Debian's sstpc reaches its Connect Ack, see test/probe/sstpc.test.ts) and can misbehave in
// each way a real server does. It records every call, including how the client ended it.
//
// How a call ends follows accel-ppp's server (accel-pppd/ctrl/sstp/sstp.c), not what would make a test pass:
// - a framing error from the client (version, length) drops the connection without sending anything
//   (sstp_handler returns -1); an unknown message type is ignored (sstp_recv_packet logs and goes on);
// - a Call Abort from the client is answered with a Call Abort, then the server waits in its abort state and
//   closes on a short timer (sstp_recv_msg_call_abort, SSTP_ABORT_TIMEOUT_2);
// - after the server aborted a call it ignores Call Disconnect and everything but Call Abort (no Disconnect Ack
//   ever comes: sstp_recv_msg_call_disconnect returns early in the abort states), and closes on its timer;
// - a Call Disconnect is acknowledged (sstp_recv_msg_call_disconnect).
// The timers are shorter than accel-ppp's 1 s and 3 s, to keep tests quick.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import {
  callAbort,
  callConnectAck,
  callConnectNak,
  callDisconnect,
  callDisconnectAck,
  echoResponse,
  HASH_SHA1,
  HASH_SHA256,
  MESSAGE_TYPES,
  readPacket,
} from '../probe/sstp-frames.js';

export const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';
/** How long the server stays in an abort state before it closes (accel-ppp: 1 s or 3 s). */
const ABORT_TIMEOUT_MS = 300;

export type SstpBehavior =
  /** 200, then Call Connect Ack with this hash bitmask (default SHA-256); Disconnect Ack on Call Disconnect unless told not to. */
  | { mode: 'ack'; hashBitmask?: number; ackDisconnect?: boolean }
  /** Ack offering SHA-1 only. */
  | { mode: 'sha1-only' }
  /** Call Connect Nak with a Status Info (default: value not supported (4) for Encapsulated Protocol ID). */
  | { mode: 'nak'; status?: number; attributeId?: number }
  /** Call Abort (default status: negotiation timeout, 8), then the abort state: only a Call Abort is heeded. */
  | { mode: 'abort'; status?: number | null }
  /** Answer the POST with 200 and this Content-Length (a web page or a proxy, not an SSTP server). */
  | { mode: 'content-length'; contentLength: string }
  /** Ack, then at once Call Disconnect: a server whose PPP side cannot take the call. */
  | { mode: 'disconnect-after-ack' }
  /** Read the POST, never answer. */
  | { mode: 'silent-after-post' }
  /** 200, then never answer the Call Connect Request. */
  | { mode: 'silent-after-request' }
  /** Answer the POST with this status (e.g. 503, 404). */
  | { mode: 'http-status'; status: number }
  /** 200, then an Ack whose version byte is 0x11: a framing error. */
  | { mode: 'bad-version' }
  /** 200, then a well-framed Ack whose Crypto Binding Request says 39 bytes: an invalid message. */
  | { mode: 'invalid-ack' }
  /** 200, then a control message of a type MS-SSTP does not define (0x0A), then the Ack. */
  | { mode: 'unknown-then-ack' }
  /** 200, then the first 20 bytes of an Ack, then close. */
  | { mode: 'truncated' };

export type SstpMode = SstpBehavior['mode'];

export interface SstpCallRecord {
  correlationId: string | null;
  method: string;
  target: string;
  /** Lowercased header names. */
  headers: Record<string, string>;
  /** Control message types received, in order; data packets as 0. */
  received: number[];
  /** The client sent Call Disconnect. */
  clientDisconnected: boolean;
  /** The client acknowledged a Call Disconnect of the server. */
  clientAckedDisconnect: boolean;
  /** The client sent Call Abort. */
  clientAborted: boolean;
  /** Packets the client sent after the server's bad frame (a client must send nothing after a framing error). */
  receivedAfterBadFrame: number;
  /** The connection is closed. */
  closed: boolean;
}

export interface FakeSstpOptions {
  host?: string;
  port?: number;
  /** Certificate chain and key PEM; without it plain HTTP (TLS offloaded). */
  tls?: { cert: string; key: string } | null;
  behavior?: SstpBehavior | SstpMode;
}

export interface FakeSstp {
  readonly url: string;
  readonly port: number;
  /** Every connection that sent a request, oldest first. */
  readonly calls: readonly SstpCallRecord[];
  setBehavior(behavior: SstpBehavior | SstpMode): void;
  /** Resolves once every connection accepted so far is closed. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeSstp(opts: FakeSstpOptions = {}): Promise<FakeSstp> {
  const server = new FakeSstpServer(opts);
  await server.listen(opts.port ?? 0);
  return server;
}

function normalize(behavior: SstpBehavior | SstpMode): SstpBehavior {
  if (typeof behavior !== 'string') return behavior;
  if (behavior === 'http-status') return { mode: 'http-status', status: 503 };
  return { mode: behavior } as SstpBehavior;
}

class FakeSstpServer implements FakeSstp {
  port = 0;
  calls: SstpCallRecord[] = [];
  private behavior: SstpBehavior;
  private readonly host: string;
  private readonly secureContext: tls.SecureContext | null;
  private readonly sockets = new Set<net.Socket>();
  /** Calls in an abort state: the server aborted and awaits the peer's Call Abort, or answered one and times out. */
  private readonly aborting = new WeakMap<net.Socket, 'awaiting-abort' | 'timeout'>();
  private readonly sentBadFrame = new WeakSet<net.Socket>();
  private listener: net.Server | null = null;

  constructor(opts: FakeSstpOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.behavior = normalize(opts.behavior ?? 'ack');
    this.secureContext = opts.tls ? tls.createSecureContext(opts.tls) : null;
  }

  get url(): string {
    return `${this.secureContext ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  listen(port: number): Promise<void> {
    const listener = net.createServer((socket) => this.onConnection(socket));
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: this.host, port }, () => {
        listener.off('error', reject);
        this.listener = listener;
        this.port = (listener.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  setBehavior(behavior: SstpBehavior | SstpMode): void {
    this.behavior = normalize(behavior);
  }

  async idle(): Promise<void> {
    // `sockets` loses a socket on its 'close' event: the ones still in it have not closed yet.
    await Promise.all([...this.sockets].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve()))));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const listener = this.listener;
    this.listener = null;
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  private track<T extends net.Socket>(socket: T): T {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  private onConnection(raw: net.Socket): void {
    this.track(raw);
    const behavior = this.behavior;
    if (!this.secureContext) return this.serve(raw, behavior);
    const secure = this.track(new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext }));
    secure.once('secure', () => this.serve(secure, behavior));
  }

  private serve(socket: net.Socket, behavior: SstpBehavior): void {
    let buffer: Buffer = Buffer.alloc(0);
    let call: SstpCallRecord | null = null;
    socket.once('close', () => {
      if (call) call.closed = true;
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!call) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) {
          if (buffer.length > 64 * 1024) socket.destroy();
          return;
        }
        call = parseRequest(buffer.toString('latin1', 0, end));
        this.calls.push(call);
        buffer = buffer.subarray(end + 4);
        if (!this.answerRequest(socket, call, behavior)) return;
      }
      buffer = this.readPackets(socket, call, behavior, buffer);
    });
  }

  /** Writes the HTTP answer; false when the connection goes no further. */
  private answerRequest(socket: net.Socket, call: SstpCallRecord, behavior: SstpBehavior): boolean {
    if (behavior.mode === 'silent-after-post') return false;
    const sstp = call.method === 'SSTP_DUPLEX_POST' && call.target.toLowerCase() === SSTP_PATH.toLowerCase();
    const status = behavior.mode === 'http-status' ? behavior.status : sstp ? 200 : call.method === 'HEAD' ? 401 : 404;
    if (status !== 200) {
      socket.end(`HTTP/1.1 ${status} Error\r\nContent-Length: 0\r\nServer: Microsoft-HTTPAPI/2.0\r\nConnection: close\r\n\r\n`);
      return false;
    }
    if (behavior.mode === 'content-length') {
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${behavior.contentLength}\r\nContent-Type: text/html\r\n\r\n<html></html>`);
      return false;
    }
    socket.write(
      'HTTP/1.1 200\r\nContent-Length: 18446744073709551615\r\nServer: Microsoft-HTTPAPI/2.0\r\n' +
        `Date: ${new Date().toUTCString()}\r\n\r\n`,
    );
    return true;
  }

  /** Handles every whole packet in `buffer`; returns what is left. */
  private readPackets(socket: net.Socket, call: SstpCallRecord, behavior: SstpBehavior, buffer: Buffer): Buffer {
    for (;;) {
      const read = readPacket(buffer);
      if (read.state === 'incomplete') return buffer;
      if (read.state === 'invalid') {
        socket.destroy(); // a framing error: drop, send nothing
        return Buffer.alloc(0);
      }
      buffer = buffer.subarray(read.length);
      if (read.state === 'malformed') {
        this.abort(socket, 7); // invalid frame received
        continue;
      }
      const type = read.packet.control ? read.packet.messageType : 0;
      call.received.push(type);
      if (this.sentBadFrame.has(socket)) call.receivedAfterBadFrame++;
      this.onPacket(socket, call, behavior, type);
    }
  }

  private onPacket(socket: net.Socket, call: SstpCallRecord, behavior: SstpBehavior, type: number): void {
    const aborting = this.aborting.get(socket);
    if (type === MESSAGE_TYPES.callAbort) call.clientAborted = true;
    if (type === MESSAGE_TYPES.callDisconnect) call.clientDisconnected = true;
    if (aborting) {
      // In the abort states only a Call Abort is heeded: the peer's answer to ours ends the call at once.
      if (type === MESSAGE_TYPES.callAbort && aborting === 'awaiting-abort') socket.end();
      return;
    }
    switch (type) {
      case MESSAGE_TYPES.callConnectRequest:
        return this.answerCall(socket, behavior);
      case MESSAGE_TYPES.callDisconnect:
        if (behavior.mode === 'ack' && behavior.ackDisconnect === false) return;
        socket.end(callDisconnectAck());
        return;
      case MESSAGE_TYPES.callDisconnectAck:
        call.clientAckedDisconnect = true;
        socket.end();
        return;
      case MESSAGE_TYPES.callAbort:
        // Answered with a Call Abort; then closed on the abort timer.
        this.aborting.set(socket, 'timeout');
        socket.write(callAbort(null));
        setTimeout(() => socket.destroy(), ABORT_TIMEOUT_MS).unref();
        return;
      case MESSAGE_TYPES.echoRequest:
        socket.write(echoResponse());
        return;
      default:
        return; // data (PPP), Call Connected, Echo Response: nothing to answer in this fake
    }
  }

  /** The server aborts the call: Call Abort, then only the peer's Call Abort is heeded until the timer closes it. */
  private abort(socket: net.Socket, status: number | null): void {
    if (this.aborting.has(socket)) return;
    this.aborting.set(socket, 'awaiting-abort');
    socket.write(callAbort(status));
    setTimeout(() => socket.destroy(), ABORT_TIMEOUT_MS).unref();
  }

  private answerCall(socket: net.Socket, behavior: SstpBehavior): void {
    const nonce = randomBytes(32);
    switch (behavior.mode) {
      case 'ack':
        socket.write(callConnectAck(behavior.hashBitmask ?? HASH_SHA256, nonce));
        return;
      case 'sha1-only':
        socket.write(callConnectAck(HASH_SHA1, nonce));
        return;
      case 'nak':
        socket.write(callConnectNak(behavior.attributeId ?? 1, behavior.status ?? 4));
        return;
      case 'abort':
        return this.abort(socket, behavior.status === undefined ? 8 : behavior.status);
      case 'disconnect-after-ack':
        socket.write(Buffer.concat([callConnectAck(HASH_SHA256, nonce), callDisconnect(0, 0)]));
        return;
      case 'bad-version': {
        const ack = callConnectAck(HASH_SHA256, nonce);
        ack[0] = 0x11;
        this.sentBadFrame.add(socket);
        socket.write(ack);
        return;
      }
      case 'invalid-ack': {
        const ack = callConnectAck(HASH_SHA256, nonce);
        ack[11] = 39; // the attribute's length field; the packet's own length stays right
        socket.write(ack);
        return;
      }
      case 'unknown-then-ack':
        socket.write(Buffer.concat([Buffer.from([0x10, 0x01, 0x00, 0x08, 0x00, 0x0a, 0x00, 0x00]), callConnectAck(HASH_SHA256, nonce)]));
        return;
      case 'truncated':
        socket.end(callConnectAck(HASH_SHA256, nonce).subarray(0, 20));
        return;
      default:
        return; // silent-after-request
    }
  }
}

function parseRequest(head: string): SstpCallRecord {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const [method = '', target = ''] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    correlationId: headers['sstpcorrelationid'] ?? null,
    method,
    target,
    headers,
    received: [],
    clientDisconnected: false,
    clientAckedDisconnect: false,
    clientAborted: false,
    receivedAfterBadFrame: 0,
    closed: false,
  };
}

// The SSTP HEAD probe, as a load balancer's health check does it: resolve, TCP connect, TLS (unless offload),
// `HEAD /sra_{...}/ HTTP/1.1`, read the status line and headers, never the body. Over net/tls directly so every
// phase is timed and every failure lands in exactly one error kind.
import type net from 'node:net';
import {
  describeAbort,
  describeOk,
  describeUnexpectedStatus,
  describeTimeout,
  type ResponseHead,
} from './classify.js';
import { createTransport, runCheck, USER_AGENT, type Connection, type LookupFn, type Transport } from './transport.js';
import type { ErrorKind, ProbeFn, ProbeResult, ProbeTarget } from './types.js';

export interface HeadProberOptions {
  /** Replaces the system resolver (tests, or a resolver pinned to one DNS server). */
  lookup?: LookupFn;
  userAgent?: string;
  /** The response head may not exceed this; default 16 KiB. */
  maxResponseHeadBytes?: number;
  /** A transport to share with other check kinds (its caches); by default one of its own. */
  transport?: Transport;
}

/** A HEAD prober over its transport (which caches secure contexts, certificates and chains). */
export function createHeadProber(opts: HeadProberOptions = {}): ProbeFn {
  const transport = opts.transport ?? createTransport({ lookup: opts.lookup, maxResponseHeadBytes: opts.maxResponseHeadBytes });
  const userAgent = opts.userAgent ?? USER_AGENT;
  return (target, signal) => runCheck(new HeadProbe(target, transport, userAgent, signal));
}

/** The request a load balancer's SSTP health check sends. */
export function buildRequest(path: string, host: string, userAgent = USER_AGENT): string {
  return `HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${userAgent}\r\nConnection: close\r\n\r\n`;
}

/** One probe attempt. Every path ends in finish(), which clears the timer and closes the connection. */
class HeadProbe {
  private readonly connection: Connection;
  private timer: NodeJS.Timeout | undefined;
  private response: Buffer = Buffer.alloc(0);
  private statusCode: number | null = null;
  private httpVersion: string | null = null;
  private settle: (result: ProbeResult) => void = () => {};
  private done = false;

  constructor(
    private readonly target: ProbeTarget,
    transport: Transport,
    private readonly userAgent: string,
    private readonly signal?: AbortSignal,
  ) {
    this.connection = transport.connect(
      target,
      {
        onOpen: (stream) => this.sendRequest(stream),
        onFailure: (kind, message) => this.finish(kind, message),
        onError: this.fail,
        onClose: this.onEnd,
      },
      { chain: true },
    );
  }

  /** Starts the check; its result comes through `settle`. */
  begin(settle: (result: ProbeResult) => void): void {
    this.settle = settle;
    if (this.signal?.aborted) return this.finish('timeout', 'probe aborted before it started');
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.timer = setTimeout(this.onTimeout, this.target.settings.timeoutMs);
    this.connection.start();
  }

  private sendRequest(stream: net.Socket): void {
    this.connection.lap();
    stream.on('data', this.onData);
    stream.once('end', this.onEnd);
    stream.write(buildRequest(this.target.settings.path, this.connection.endpoint!.hostHeader, this.userAgent));
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.response = this.response.length === 0 ? chunk : Buffer.concat([this.response, chunk]);
    const parsed = this.connection.parseResponseHead(this.response);
    if (parsed.state === 'invalid') return this.finish('http_protocol', parsed.reason);
    if (parsed.state === 'complete') this.onResponseHead(parsed.head);
  };

  private onResponseHead(head: ResponseHead): void {
    this.connection.phases.processing = this.connection.lap();
    this.statusCode = head.statusCode;
    this.httpVersion = head.httpVersion;
    const expected = this.target.settings.expectStatus;
    if (head.httpVersion !== '1.1') {
      return this.finish('http_version', `expected HTTP/1.1, got HTTP/${head.httpVersion} ${head.statusCode}`);
    }
    if (!expected.includes(head.statusCode)) return this.finish('unexpected_status', describeUnexpectedStatus(expected, head.statusCode));
    this.finish('ok', describeOk(head.httpVersion, head.statusCode, head.reason));
  }

  /** The peer closed (FIN, or a close without an error) before the response head was complete. */
  private readonly onEnd = (): void => {
    if (this.response.length === 0) {
      return this.finish('http_protocol', `connection closed by ${this.connection.peer} without any response`);
    }
    this.finish('http_protocol', `connection closed by ${this.connection.peer} in the middle of the response headers`);
  };

  readonly fail = (err: unknown): void => {
    const { kind, message } = this.connection.describeFailure(err);
    this.finish(kind, message);
  };

  private readonly onTimeout = (): void => {
    const { endpoint, peer, probeStage } = this.connection;
    this.finish(
      'timeout',
      describeTimeout(probeStage, this.target.settings.timeoutMs, {
        host: endpoint?.host ?? '',
        peer,
        offload: endpoint?.plain ?? false,
        responseBytes: this.response.length,
      }),
    );
  };

  private readonly onAbort = (): void => this.finish('timeout', describeAbort(this.connection.probeStage));

  private finish(kind: ErrorKind, message: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    const { connection } = this;
    connection.close();
    this.settle(connection.result(kind, message, { statusCode: this.statusCode, httpVersion: this.httpVersion }));
  }
}

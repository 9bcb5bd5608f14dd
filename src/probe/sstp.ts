// The deep SSTP check: the start of a real MS-SSTP call, without authenticating, ended cleanly.
//
//   TCP, TLS (unless offload)  -> SSTP_DUPLEX_POST /sra_{...}/ HTTP/1.1, expect HTTP/1.1 200 whose
//                                 Content-Length, when present, is 18446744073709551615 (sstp-client's rule)
//   Call Connect Request       -> expect Call Connect Ack (Crypto Binding Request; SHA-1 only is accepted
//                                 with a warning), or Nak / Call Abort / Call Disconnect
//   a short settle window      -> a server that cannot take the call drops it right after its Ack
//   Call Disconnect            -> wait briefly for Call Disconnect Ack, then close
//
// Once Call Connect Request is on the wire the server may hold a port (and, with accel-ppp, a pty) for the
// call, so every path from there ends the call as [MS-SSTP] 3.1.2.1 and 3.1.5.1 say, and as accel-ppp's
// sstp.c and sstp-client's sstp-state.c do: our own end is Call Disconnect (then the Ack is awaited); a Call
// Disconnect from the server is acknowledged; a Call Abort from the server is answered with a Call Abort and
// nothing more is awaited (in its abort states a server ignores all else and closes on its timer); a
// well-framed but invalid message gets a Call Abort; a framing error (version, length) drops the connection
// without sending anything. The disconnect wait is reserved inside the timeout: the whole check never takes
// longer than target.settings.timeoutMs.
import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import { describeTimeout, formatTimeout } from './classify.js';
import {
  callAbort,
  callConnectRequest,
  callDisconnect,
  callDisconnectAck,
  describeStatus,
  hashWarning,
  STATUS_INVALID_FRAME,
  interpretCallReply,
  MESSAGE_TYPES,
  readPacket,
  truncated,
  type StatusInfo,
} from './sstp-frames.js';
import { buildDuplexPost, duplexPostRefusal } from './sstp-http.js';
import { ackVerdict, closedVerdict, serverEndedVerdict, type Step, type Verdict } from './sstp-verdicts.js';
import { createTransport, runCheck, USER_AGENT, type Connection, type LookupFn, type Transport } from './transport.js';
import type { ProbeFn, ProbeResult, ProbeTarget, SstpDetails } from './types.js';

export interface SstpProberOptions {
  lookup?: LookupFn;
  userAgent?: string;
  /**
   * How long to wait for Call Disconnect Ack. Reserved inside the timeout; default a fifth of the timeout,
   * between 100 ms and 1 s.
   */
  disconnectWaitMs?: number;
  /** How long to watch after a Call Connect Ack for a server that disconnects at once; default 100 ms. */
  settleMs?: number;
  /** A transport to share with other check kinds (its caches); by default one of its own. */
  transport?: Transport;
}

export function disconnectWaitFor(timeoutMs: number): number {
  return Math.round(Math.min(1000, Math.max(100, timeoutMs / 5), timeoutMs / 2));
}

/** A deep SSTP prober: same signature as the HEAD prober, never rejects, bounded by the target's timeout. */
export function createSstpProber(opts: SstpProberOptions = {}): ProbeFn {
  const deps: SstpDeps = {
    transport: opts.transport ?? createTransport({ lookup: opts.lookup }),
    userAgent: opts.userAgent ?? USER_AGENT,
    disconnectWaitMs: opts.disconnectWaitMs,
    settleMs: opts.settleMs ?? 100,
  };
  return (target, signal) => runCheck(new SstpProbe(target, deps, signal));
}

interface SstpDeps {
  transport: Transport;
  userAgent: string;
  disconnectWaitMs: number | undefined;
  settleMs: number;
}

class SstpProbe {
  private step: Step = 'transport';
  private readonly connection: Connection;
  private readonly details: SstpDetails;
  /** The socket SSTP talks over (the TLS one, or the TCP one under offload). */
  private stream: net.Socket | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stepTimer: NodeJS.Timeout | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private statusCode: number | null = null;
  private httpVersion: string | null = null;
  /** The verdict on the call, decided before the disconnect; the disconnect never changes it. */
  private verdict: Verdict | null = null;
  private settle: (result: ProbeResult) => void = () => {};
  private done = false;
  private readonly disconnectWaitMs: number;

  constructor(
    private readonly target: ProbeTarget,
    private readonly deps: SstpDeps,
    private readonly signal?: AbortSignal,
  ) {
    this.details = {
      stageReached: 'none',
      reply: null,
      stagesMs: {},
      hashBitmask: null,
      status: null,
      disconnectSent: false,
      disconnectAcked: false,
      abortSent: false,
      warning: null,
      correlationId: randomUUID().toUpperCase(),
    };
    this.disconnectWaitMs = deps.disconnectWaitMs ?? disconnectWaitFor(target.settings.timeoutMs);
    this.connection = deps.transport.connect(target, {
      onOpen: (stream) => this.sendPost(stream),
      onFailure: (kind, message) => this.finish({ kind, message }),
      onError: this.fail,
      onClose: this.onClose,
    });
  }

  /** Starts the check; its result comes through `settle`. */
  begin(settle: (result: ProbeResult) => void): void {
    this.settle = settle;
    if (this.signal?.aborted) return this.finish({ kind: 'timeout', message: 'deep check aborted before it started' });
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    // The handshake must be over in time to leave room for a clean disconnect.
    const handshakeMs = Math.max(1, this.target.settings.timeoutMs - this.disconnectWaitMs);
    this.deadline = setTimeout(this.onDeadline, handshakeMs);
    this.connection.start();
  }

  // -------------------------------------------------------------------------------------------------------------
  // HTTP: SSTP_DUPLEX_POST -> 200

  private sendPost(stream: net.Socket): void {
    this.details.stageReached = 'transport';
    this.step = 'http';
    this.stream = stream;
    this.connection.lap();
    stream.on('data', this.onData);
    const { hostHeader } = this.connection.endpoint!;
    stream.write(buildDuplexPost(this.target.settings.path, hostHeader, this.details.correlationId, this.deps.userAgent));
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.step === 'http') this.readResponseHead();
    else this.readPackets();
  };

  private readResponseHead(): void {
    const parsed = this.connection.parseResponseHead(this.buffer);
    if (parsed.state === 'incomplete') return;
    if (parsed.state === 'invalid') return this.finish({ kind: 'http_protocol', message: parsed.reason });
    const head = parsed.head;
    const { phases } = this.connection;
    phases.processing = this.connection.lap();
    this.details.stagesMs.http = phases.processing;
    this.statusCode = head.statusCode;
    this.httpVersion = head.httpVersion;
    const refusal = duplexPostRefusal(head);
    if (refusal) return this.finish(refusal);
    this.details.stageReached = 'http';
    this.buffer = this.buffer.subarray(parsed.length);
    this.sendConnectRequest();
  }

  // -------------------------------------------------------------------------------------------------------------
  // SSTP: Call Connect Request -> reply -> settle -> Call Disconnect -> Disconnect Ack

  private sendConnectRequest(): void {
    this.step = 'call';
    this.connection.lap();
    this.stream!.write(callConnectRequest());
    if (this.buffer.length > 0) this.readPackets();
  }

  private readPackets(): void {
    while (!this.done && this.buffer.length > 0) {
      const read = readPacket(this.buffer);
      if (read.state === 'incomplete') return;
      if (read.state === 'invalid') {
        this.buffer = Buffer.alloc(0);
        return this.onFramingError(read.reason);
      }
      this.buffer = this.buffer.subarray(read.length);
      if (read.state === 'malformed') return this.onInvalidMessage(read.reason);
      const reply = interpretCallReply(read.packet);
      if (reply.reply === 'abort') {
        this.onServerAbort(reply.status);
        continue;
      }
      if (this.step === 'disconnect') {
        this.onDisconnectPhasePacket(read.packet.control ? read.packet.messageType : null, reply);
        continue;
      }
      switch (reply.reply) {
        case 'none':
          if (reply.respond) this.stream!.write(reply.respond);
          continue;
        case 'bad':
          return this.onInvalidMessage(reply.reason);
        case 'ack':
          this.onAck(reply.hashBitmask);
          continue;
        case 'nak':
          this.onRefused('nak', reply.statuses[0]!, {
            kind: 'sstp_nak',
            message: `server refused the call: Call Connect Nak, ${reply.statuses.map(describeStatus).join('; ')}`,
          });
          continue;
        case 'disconnect':
          this.onServerDisconnect(reply.status);
          continue;
      }
    }
  }

  private onAck(hashBitmask: number): void {
    if (this.step !== 'call') return this.onInvalidMessage('a second Call Connect Ack');
    this.details.stagesMs.call = this.connection.lap();
    this.details.stageReached = 'call_reply';
    this.details.reply = 'ack';
    this.details.hashBitmask = hashBitmask;
    this.details.warning = hashWarning(hashBitmask);
    this.verdict = ackVerdict(hashBitmask, this.details.warning);
    this.step = 'settle';
    this.stepTimer = setTimeout(() => this.disconnect(), this.deps.settleMs);
  }

  private onRefused(reply: 'nak', status: StatusInfo, verdict: Verdict): void {
    this.details.stagesMs.call = this.connection.lap();
    this.details.stageReached = 'call_reply';
    this.details.reply = reply;
    this.details.status = { code: status.status, attributeId: status.attributeId };
    this.verdict = verdict;
    this.disconnect();
  }

  /** What the server's ending of the call says, instead of an answer or right after the Ack. */
  private serverEnded(what: 'Call Abort' | 'Call Disconnect', reply: 'abort' | 'disconnect', status: StatusInfo | null): Verdict {
    const afterAck = this.step === 'settle';
    if (this.step === 'call') this.details.stagesMs.call = this.connection.lap();
    this.details.stageReached = 'call_reply';
    if (!afterAck && this.details.reply === null) this.details.reply = reply;
    if (status) this.details.status = { code: status.status, attributeId: status.attributeId };
    return serverEndedVerdict(what, afterAck, status);
  }

  /** The server closed the call itself: acknowledging its Call Disconnect is the clean end. */
  private onServerDisconnect(status: StatusInfo | null): void {
    this.verdict = this.serverEnded('Call Disconnect', 'disconnect', status);
    clearTimeout(this.stepTimer);
    this.step = 'disconnect';
    this.details.disconnectSent = true;
    this.details.disconnectAcked = true;
    this.details.stageReached = 'disconnect_ack';
    this.stream!.write(callDisconnectAck());
    this.finish(this.verdict);
  }

  /**
   * A Call Abort from the server, at any point of the call: answered with a Call Abort ([MS-SSTP] 3.1.2.1), and
   * nothing else is awaited. In its abort states a server ignores everything but Call Abort (accel-ppp's
   * sstp_recv_msg_call_disconnect returns early there) and closes on its own timer.
   */
  private onServerAbort(status: StatusInfo | null): void {
    const ending = this.step === 'disconnect';
    const verdict = this.serverEnded('Call Abort', 'abort', status);
    if (!ending) this.verdict = verdict; // an Abort answering our Disconnect does not change the verdict
    this.sendAbort();
  }

  /** A well-framed but invalid message: Call Abort ([MS-SSTP] 3.1.5.1), then close. */
  private onInvalidMessage(reason: string): void {
    if (this.step !== 'disconnect' || !this.verdict) {
      this.verdict = this.verdict && this.verdict.kind !== 'ok' ? this.verdict : { kind: 'sstp_bad_frame', message: `invalid SSTP message from the server: ${reason}` };
    }
    this.sendAbort(STATUS_INVALID_FRAME);
  }

  /** A framing error (version, length): the stream cannot be followed; drop it without sending anything. */
  private onFramingError(reason: string): void {
    if (this.step !== 'disconnect' || !this.verdict) {
      this.verdict = this.verdict && this.verdict.kind !== 'ok' ? this.verdict : { kind: 'sstp_bad_frame', message: `bad SSTP packet from the server: ${reason}` };
    }
    this.finish(this.verdict);
  }

  private sendAbort(status: number | null = null): void {
    clearTimeout(this.stepTimer);
    this.details.abortSent = true;
    this.stream!.write(callAbort(status));
    this.finish(this.verdict!);
  }

  /** Sends Call Disconnect (once) and waits briefly for the Ack; the verdict is already decided. */
  private disconnect(): void {
    if (this.done || this.step === 'disconnect') return;
    clearTimeout(this.stepTimer);
    clearTimeout(this.deadline);
    this.step = 'disconnect';
    this.connection.lap();
    this.details.disconnectSent = true;
    this.stream!.write(callDisconnect());
    this.stepTimer = setTimeout(() => {
      const note = `; no Call Disconnect Ack within ${formatTimeout(this.disconnectWaitMs)}`;
      this.finish({ ...this.verdict!, message: this.verdict!.message + note });
    }, this.disconnectWaitMs);
    if (this.buffer.length > 0) this.readPackets();
  }

  private onDisconnectPhasePacket(messageType: number | null, reply: ReturnType<typeof interpretCallReply>): void {
    // A Call Abort here is handled before (answered with a Call Abort); what remains ends or is ignored.
    if (messageType === MESSAGE_TYPES.callDisconnectAck || messageType === MESSAGE_TYPES.callDisconnect) {
      if (messageType === MESSAGE_TYPES.callDisconnect) this.stream!.write(callDisconnectAck());
      this.details.stagesMs.disconnect = this.connection.lap();
      this.details.disconnectAcked = true;
      // The stages are the handshake's: a call the server never answered did not reach disconnect_ack.
      if (this.details.stageReached === 'call_reply') this.details.stageReached = 'disconnect_ack';
      return this.finish(this.verdict!);
    }
    if (reply.reply === 'none' && reply.respond) this.stream!.write(reply.respond);
    // Anything else (data, a late Ack) is not what ends the call: keep waiting for the Ack.
  }

  // -------------------------------------------------------------------------------------------------------------
  // The ends

  /** The handshake did not finish in time. */
  private readonly onDeadline = (): void => {
    if (this.done) return;
    const handshakeMs = this.target.settings.timeoutMs - this.disconnectWaitMs;
    const within = formatTimeout(handshakeMs);
    const { endpoint, peer } = this.connection;
    switch (this.step) {
      case 'transport': {
        const context = { host: endpoint?.host ?? '', peer, offload: endpoint?.plain ?? false, responseBytes: 0 };
        return this.finish({ kind: 'timeout', message: describeTimeout(this.connection.probeStage, handshakeMs, context) });
      }
      case 'http':
        return this.finish({
          kind: 'sstp_no_response',
          message:
            this.buffer.length > 0
              ? `HTTP response to SSTP_DUPLEX_POST incomplete after ${within} (${this.buffer.length} bytes)`
              : `no HTTP response to SSTP_DUPLEX_POST within ${within}`,
        });
      case 'call': {
        const partial = this.partialPacket();
        this.verdict = partial
          ? { kind: 'sstp_bad_frame', message: `bad SSTP packet from the server: ${partial}` }
          : { kind: 'sstp_no_response', message: `no answer to Call Connect Request within ${within}` };
        return this.disconnect();
      }
      case 'settle':
        return this.disconnect(); // the settle window ends with the handshake deadline
      case 'disconnect':
        return; // bounded by its own timer
    }
  };

  private partialPacket(): string | null {
    if (this.buffer.length === 0) return null;
    const read = readPacket(this.buffer);
    return read.state === 'incomplete' ? truncated(read.have, read.need) : null;
  }

  /** The peer closed. Before the call it is a failure of its own; during the call the verdict says what happened. */
  private readonly onClose = (): void => {
    if (this.done) return;
    const closed = closedVerdict({
      step: this.step,
      peer: this.connection.peer,
      buffered: this.buffer,
      partialPacket: this.step === 'call' ? this.partialPacket() : null,
      verdict: this.verdict,
    });
    if (closed) this.finish(closed);
  };

  readonly fail = (err: unknown): void => {
    if (this.done) return;
    const { peer } = this.connection;
    if (this.step === 'call' || this.step === 'settle' || this.step === 'disconnect') {
      // A reset during the call: the server dropped it; nothing left to disconnect.
      const verdict = this.verdict ?? { kind: 'sstp_no_response' as const, message: `connection reset by ${peer} after Call Connect Request` };
      return this.finish(this.step === 'settle' ? { kind: 'sstp_abort', message: `connection reset by ${peer} right after the Call Connect Ack` } : verdict);
    }
    this.finish(this.connection.describeFailure(err));
  };

  /** An external abort (shutdown): a call in progress still gets its Call Disconnect, within the wait. */
  private readonly onAbort = (): void => {
    if (this.done) return;
    if (this.step === 'settle') return this.disconnect(); // the verdict on the Ack stands
    if (this.step === 'call') {
      this.verdict = { kind: 'timeout', message: `deep check aborted during the SSTP call` };
      return this.disconnect();
    }
    if (this.step === 'disconnect') return;
    const during = this.step === 'http' ? 'the HTTP request' : `the ${this.connection.stage} step`;
    this.finish({ kind: 'timeout', message: `deep check aborted during ${during}` });
  };

  private finish(verdict: Verdict): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.deadline);
    clearTimeout(this.stepTimer);
    this.signal?.removeEventListener('abort', this.onAbort);
    // A flushed close, so the last packet written (Disconnect, its Ack, or an Abort) reaches the server first.
    const { connection } = this;
    connection.close(this.details.disconnectSent || this.details.abortSent);
    const http = { statusCode: this.statusCode, httpVersion: this.httpVersion };
    this.settle({ ...connection.result(verdict.kind, verdict.message, http), sstp: this.details });
  }
}

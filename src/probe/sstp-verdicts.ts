// What the deep SSTP check's endings mean to an admin: the verdict (error kind and message) on a Call Connect Ack,
// on the server ending the call, and on the connection closing at each step. Pure; sstp.ts decides when.
import { describeBytes } from './classify.js';
import { describeHashBitmask, describeStatus, HASH_SHA1, HASH_SHA256, type StatusInfo } from './sstp-frames.js';
import type { ErrorKind } from './types.js';

export interface Verdict {
  kind: ErrorKind;
  message: string;
}

/**
 * Where the check is; `transport` = the connection's own stages (dns, connect, tls), `call` = Call Connect Request
 * sent, `settle` = Ack received, watching; `disconnect` = ending.
 */
export type Step = 'transport' | 'http' | 'call' | 'settle' | 'disconnect';

/** The verdict on a Call Connect Ack offering `hashBitmask` (`warning`: what the offer lacks, if anything). */
export function ackVerdict(hashBitmask: number, warning: string | null): Verdict {
  // SHA-1 only is a legal offer: the call was accepted, with a warning. Neither SHA-1 nor SHA-256 leaves the
  // client nothing to bind the call with: sstp-client gives up there.
  return hashBitmask & (HASH_SHA256 | HASH_SHA1)
    ? {
        kind: 'ok',
        message: `SSTP call accepted: Call Connect Ack offering ${describeHashBitmask(hashBitmask)}${warning ? ` (warning: ${warning})` : ''}`,
      }
    : {
        kind: 'sstp_no_sha256',
        message: `Call Connect Ack offers ${describeHashBitmask(hashBitmask)} crypto binding: neither SHA-256 nor SHA-1`,
      };
}

/** The server ended the call with `what`, instead of an answer or (`afterAck`) right after its Ack. */
export function serverEndedVerdict(what: 'Call Abort' | 'Call Disconnect', afterAck: boolean, status: StatusInfo | null): Verdict {
  const why = status ? `, ${describeStatus(status)}` : '';
  return {
    kind: 'sstp_abort',
    message: afterAck
      ? `server sent ${what} right after its Call Connect Ack${why}: it accepted the call request, then could not take the call`
      : `server ended the call with ${what} instead of an Ack${why}`,
  };
}

export interface ClosedAt {
  step: Step;
  peer: string;
  /** The bytes received and not yet read as a response head or a packet. */
  buffered: Buffer;
  /** A packet cut short by the close, described; null when none. */
  partialPacket: string | null;
  /** The verdict on the call, decided before the disconnect. */
  verdict: Verdict | null;
}

/**
 * The peer closed. Before the call it is a failure of its own; during the call the verdict says what happened.
 * Null before the connection opened: the transport reports that close itself.
 */
export function closedVerdict({ step, peer, buffered, partialPacket, verdict }: ClosedAt): Verdict | null {
  switch (step) {
    case 'transport':
      return null;
    case 'http':
      return buffered.length === 0
        ? { kind: 'sstp_no_response', message: `connection closed by ${peer} without answering SSTP_DUPLEX_POST` }
        : { kind: 'http_protocol', message: `connection closed by ${peer} in the middle of the response headers: ${describeBytes(buffered)}` };
    case 'call':
      return partialPacket
        ? { kind: 'sstp_bad_frame', message: `bad SSTP packet from the server: ${partialPacket}, then the connection closed` }
        : { kind: 'sstp_no_response', message: `connection closed by ${peer} without answering Call Connect Request` };
    case 'settle':
      return {
        kind: 'sstp_abort',
        message: `server closed the connection right after its Call Connect Ack: it accepted the call request, then could not take the call`,
      };
    case 'disconnect':
      return { ...verdict!, message: `${verdict!.message}; connection closed without Call Disconnect Ack` };
  }
}

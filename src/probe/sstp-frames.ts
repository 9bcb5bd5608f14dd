// MS-SSTP packets: a strict parser and an encoder, pure functions over bytes. All integers are big-endian.
//
//   byte 0     version, 0x10 (SSTP 1.0)
//   byte 1     7 reserved bits, then C: 1 = control packet, 0 = data packet (a PPP frame)
//   bytes 2-3  4 reserved bits, then the 12-bit length of the whole packet, this header included
//   control:   MessageType u16, NumAttributes u16, then the attributes, each
//              Reserved u8, AttributeID u8, 4 reserved bits + 12-bit length (header included), value
//
// Two kinds of errors, as [MS-SSTP] 3.1.5.1 tells them apart: a framing error (the version byte, the packet
// length) means the byte stream cannot be followed any more, and the receiver drops the connection without
// sending anything; a well-framed but invalid message (attribute count and lengths, known attributes of the
// wrong size) is answered with a Call Abort. Unknown message types and unknown attribute ids are skipped, as
// accel-ppp does (it logs "unknown message type" and carries on). Reserved bits are ignored on receipt. Sources: MS-SSTP 2.2, and the open implementations (accel-ppp
// accel-pppd/ctrl/sstp, SoftEther Proto_SSTP.c, Linux sstp-client src/sstp-packet.c) which agree on the bytes.

export const SSTP_VERSION = 0x10;
/** The largest packet the 12-bit length field can describe. */
export const MAX_PACKET_LENGTH = 0x0fff;
export const NONCE_LENGTH = 32;

export const MESSAGE_TYPES = {
  callConnectRequest: 1,
  callConnectAck: 2,
  callConnectNak: 3,
  callConnected: 4,
  callAbort: 5,
  callDisconnect: 6,
  callDisconnectAck: 7,
  echoRequest: 8,
  echoResponse: 9,
} as const;

export type MessageName = keyof typeof MESSAGE_TYPES;

const MESSAGE_NAMES: Record<number, string> = {
  1: 'Call Connect Request',
  2: 'Call Connect Ack',
  3: 'Call Connect Nak',
  4: 'Call Connected',
  5: 'Call Abort',
  6: 'Call Disconnect',
  7: 'Call Disconnect Ack',
  8: 'Echo Request',
  9: 'Echo Response',
};

export const ATTRIBUTE_IDS = {
  encapsulatedProtocolId: 1,
  statusInfo: 2,
  cryptoBinding: 3,
  cryptoBindingRequest: 4,
} as const;

/** Hash protocol bitmask of the Crypto Binding Request. */
export const HASH_SHA1 = 0x01;
export const HASH_SHA256 = 0x02;

export const ENCAPSULATED_PROTOCOL_PPP = 0x0001;

/** Status Info status values (MS-SSTP 2.2.7; names as in sstp-client and accel-ppp). */
export const STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'no error',
  1: 'duplicate attribute',
  2: 'unrecognized attribute',
  3: 'invalid attribute value length',
  4: 'value not supported',
  5: 'unaccepted frame received',
  6: 'retry count exceeded',
  7: 'invalid frame received',
  8: 'negotiation timeout',
  9: 'attribute not supported in message',
  10: 'required attribute missing',
  11: 'status info not supported in message',
};

/** The Status Info a receiver puts in the Call Abort it sends for an invalid message. */
export const STATUS_INVALID_FRAME = 7;

/** Allowed lengths of each attribute, header included. Status Info may carry the offending attribute (up to 64 bytes). */
const ATTRIBUTE_LENGTHS: Readonly<Record<number, { min: number; max: number; name: string }>> = {
  1: { min: 6, max: 6, name: 'Encapsulated Protocol ID' },
  2: { min: 12, max: 12 + 64, name: 'Status Info' },
  3: { min: 104, max: 104, name: 'Crypto Binding' },
  4: { min: 40, max: 40, name: 'Crypto Binding Request' },
};

export type SstpAttribute =
  | { id: 1; protocolId: number }
  | { id: 2; attributeId: number; status: number; value: Buffer }
  | { id: 3; value: Buffer }
  | { id: 4; hashBitmask: number; nonce: Buffer };

export type SstpPacket =
  | { control: false; data: Buffer }
  | { control: true; messageType: number; attributes: SstpAttribute[] };

/** What the bytes at the start of a buffer hold. */
export type PacketRead =
  | { state: 'incomplete'; have: number; need: number | null }
  /** A framing error: the stream cannot be followed; drop the connection without sending anything. */
  | { state: 'invalid'; reason: string }
  /** A well-framed control packet whose message is invalid: answer with a Call Abort. `length` skips it. */
  | { state: 'malformed'; reason: string; length: number }
  | { state: 'packet'; packet: SstpPacket; length: number };

/** A whole-packet decode: a packet, or why the bytes are not exactly one. */
export type PacketDecode =
  | { ok: true; packet: SstpPacket }
  | { ok: false; errorKind: 'sstp_bad_frame'; reason: string };

export function messageName(type: number): string {
  return MESSAGE_NAMES[type] ?? `message type ${type}`;
}

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

/**
 * Reads the packet at the start of `buffer`. Bails out as early as the bytes allow: a wrong version byte is
 * invalid with one byte, a bad length with four. Never throws, whatever the bytes.
 */
export function readPacket(buffer: Uint8Array): PacketRead {
  const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (bytes.length === 0) return { state: 'incomplete', have: 0, need: null };
  if (bytes[0] !== SSTP_VERSION) {
    return { state: 'invalid', reason: `version byte 0x${hex2(bytes[0]!)} (expected 0x10, SSTP 1.0)` };
  }
  if (bytes.length < 4) return { state: 'incomplete', have: bytes.length, need: null };
  const control = (bytes[1]! & 0x01) === 1;
  const length = bytes.readUInt16BE(2) & 0x0fff;
  const minimum = control ? 8 : 4;
  if (length < minimum) {
    return { state: 'invalid', reason: `${control ? 'control' : 'data'} packet length ${length} (at least ${minimum})` };
  }
  if (bytes.length < length) return { state: 'incomplete', have: bytes.length, need: length };
  const body = bytes.subarray(0, length);
  if (!control) return { state: 'packet', packet: { control: false, data: Buffer.from(body.subarray(4)) }, length };
  const parsed = parseControl(body);
  if (typeof parsed === 'string') return { state: 'malformed', reason: parsed, length };
  return { state: 'packet', packet: parsed, length };
}

/** Exactly one whole packet, or sstp_bad_frame with the reason (also for truncated or trailing bytes). */
export function decodePacket(bytes: Uint8Array): PacketDecode {
  const read = readPacket(bytes);
  switch (read.state) {
    case 'invalid':
    case 'malformed':
      return { ok: false, errorKind: 'sstp_bad_frame', reason: read.reason };
    case 'incomplete':
      return { ok: false, errorKind: 'sstp_bad_frame', reason: truncated(read.have, read.need) };
    case 'packet':
      if (read.length !== bytes.length) {
        return { ok: false, errorKind: 'sstp_bad_frame', reason: `${bytes.length - read.length} bytes after a ${read.length}-byte packet` };
      }
      return { ok: true, packet: read.packet };
  }
}

/** `truncated packet: 5 of 48 bytes`. */
export function truncated(have: number, need: number | null): string {
  return need === null ? `truncated packet: ${have} of at least 4 header bytes` : `truncated packet: ${have} of ${need} bytes`;
}

function parseControl(body: Buffer): SstpPacket | string {
  const messageType = body.readUInt16BE(4);
  const count = body.readUInt16BE(6);
  const attributes: SstpAttribute[] = [];
  let offset = 8;
  for (let i = 0; i < count; i++) {
    if (body.length - offset < 4) {
      return `${messageName(messageType)} announces ${count} attributes but has room for ${i}`;
    }
    const id = body[offset + 1]!;
    const length = body.readUInt16BE(offset + 2) & 0x0fff;
    const rule = ATTRIBUTE_LENGTHS[id];
    if (!rule) {
      // An attribute this receiver does not know: skipped whole, when its length keeps to the packet.
      if (length < 4 || offset + length > body.length) return `attribute ${id} of length ${length} in a ${body.length}-byte ${messageName(messageType)}`;
      offset += length;
      continue;
    }
    if (length < rule.min || length > rule.max) {
      const expected = rule.min === rule.max ? `${rule.min}` : `${rule.min} to ${rule.max}`;
      return `${rule.name} attribute length ${length} (expected ${expected})`;
    }
    if (offset + length > body.length) {
      return `${rule.name} attribute of ${length} bytes overruns the ${body.length}-byte packet`;
    }
    attributes.push(parseAttribute(id, body.subarray(offset + 4, offset + length)));
    offset += length;
  }
  if (offset !== body.length) {
    return `${body.length - offset} bytes after the ${count} attribute${count === 1 ? '' : 's'} of ${messageName(messageType)}`;
  }
  return { control: true, messageType, attributes };
}

function parseAttribute(id: number, value: Buffer): SstpAttribute {
  switch (id) {
    case 1:
      return { id: 1, protocolId: value.readUInt16BE(0) };
    case 2:
      return { id: 2, attributeId: value[3]!, status: value.readUInt32BE(4), value: Buffer.from(value.subarray(8)) };
    case 3:
      return { id: 3, value: Buffer.from(value) };
    default:
      return { id: 4, hashBitmask: value[3]!, nonce: Buffer.from(value.subarray(4, 4 + NONCE_LENGTH)) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

export function encodePacket(packet: SstpPacket): Buffer {
  if (!packet.control) return withHeader(0x00, packet.data);
  const attributes = packet.attributes.map(encodeAttribute);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(packet.messageType, 0);
  head.writeUInt16BE(attributes.length, 2);
  return withHeader(0x01, Buffer.concat([head, ...attributes]));
}

function withHeader(flags: number, body: Buffer): Buffer {
  const length = body.length + 4;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`SSTP packet of ${length} bytes exceeds ${MAX_PACKET_LENGTH}`);
  const header = Buffer.from([SSTP_VERSION, flags, (length >> 8) & 0x0f, length & 0xff]);
  return Buffer.concat([header, body]);
}

function encodeAttribute(attribute: SstpAttribute): Buffer {
  let value: Buffer;
  switch (attribute.id) {
    case 1:
      value = Buffer.alloc(2);
      value.writeUInt16BE(attribute.protocolId, 0);
      break;
    case 2:
      value = Buffer.alloc(8 + attribute.value.length);
      value[3] = attribute.attributeId;
      value.writeUInt32BE(attribute.status >>> 0, 4);
      attribute.value.copy(value, 8);
      break;
    case 3:
      value = Buffer.from(attribute.value);
      break;
    case 4:
      value = Buffer.alloc(4 + NONCE_LENGTH);
      value[3] = attribute.hashBitmask;
      attribute.nonce.copy(value, 4, 0, NONCE_LENGTH);
      break;
  }
  const header = Buffer.from([0x00, attribute.id, ((value.length + 4) >> 8) & 0x0f, (value.length + 4) & 0xff]);
  return Buffer.concat([header, value]);
}

const control = (messageType: number, attributes: SstpAttribute[] = []): Buffer =>
  encodePacket({ control: true, messageType, attributes });

/** `10 01 00 0E 00 01 00 01 00 01 00 06 00 01`: one attribute, Encapsulated Protocol ID = PPP. */
export function callConnectRequest(): Buffer {
  return control(MESSAGE_TYPES.callConnectRequest, [{ id: 1, protocolId: ENCAPSULATED_PROTOCOL_PPP }]);
}

/** `10 01 00 14 00 06 00 01 00 02 00 0C 00 00 00 00 00 00 00 00`: with a Status Info "no error". */
export function callDisconnect(attributeId = 0, status = 0): Buffer {
  return control(MESSAGE_TYPES.callDisconnect, [{ id: 2, attributeId, status, value: Buffer.alloc(0) }]);
}

/** `10 01 00 08 00 07 00 00` */
export function callDisconnectAck(): Buffer {
  return control(MESSAGE_TYPES.callDisconnectAck);
}

export function echoRequest(): Buffer {
  return control(MESSAGE_TYPES.echoRequest);
}

export function echoResponse(): Buffer {
  return control(MESSAGE_TYPES.echoResponse);
}

/** What a server answers a Call Connect Request it accepts: a Crypto Binding Request. */
export function callConnectAck(hashBitmask: number, nonce: Buffer): Buffer {
  return control(MESSAGE_TYPES.callConnectAck, [{ id: 4, hashBitmask, nonce }]);
}

export function callConnectNak(attributeId: number, status: number): Buffer {
  return control(MESSAGE_TYPES.callConnectNak, [{ id: 2, attributeId, status, value: Buffer.alloc(0) }]);
}

export function callAbort(status: number | null): Buffer {
  const attributes: SstpAttribute[] = status === null ? [] : [{ id: 2, attributeId: 0, status, value: Buffer.alloc(0) }];
  return control(MESSAGE_TYPES.callAbort, attributes);
}

// ---------------------------------------------------------------------------------------------------------------
// What a server's answer to Call Connect Request means

export interface StatusInfo {
  /** The attribute the status refers to (0: none). */
  attributeId: number;
  status: number;
}

export type CallReply =
  /** Accepted: the server asks for a crypto binding with these hash protocols. */
  | { reply: 'ack'; hashBitmask: number }
  | { reply: 'nak'; statuses: StatusInfo[] }
  | { reply: 'abort'; status: StatusInfo | null }
  | { reply: 'disconnect'; status: StatusInfo | null }
  /** Not an answer yet: a data packet or an echo; `respond` is what to send back, if anything. */
  | { reply: 'none'; respond: Buffer | null }
  | { reply: 'bad'; reason: string };

/** The meaning of one packet received while waiting for the answer to Call Connect Request. */
export function interpretCallReply(packet: SstpPacket): CallReply {
  if (!packet.control) return { reply: 'none', respond: null };
  const statuses = packet.attributes.flatMap((a) => (a.id === 2 ? [{ attributeId: a.attributeId, status: a.status }] : []));
  switch (packet.messageType) {
    case MESSAGE_TYPES.callConnectAck: {
      const request = packet.attributes.find((a) => a.id === 4);
      if (!request || packet.attributes.length !== 1) {
        return { reply: 'bad', reason: 'Call Connect Ack without exactly one Crypto Binding Request attribute' };
      }
      return { reply: 'ack', hashBitmask: request.hashBitmask };
    }
    case MESSAGE_TYPES.callConnectNak:
      if (statuses.length === 0) return { reply: 'bad', reason: 'Call Connect Nak without a Status Info attribute' };
      return { reply: 'nak', statuses };
    case MESSAGE_TYPES.callAbort:
      return { reply: 'abort', status: statuses[0] ?? null };
    case MESSAGE_TYPES.callDisconnect:
      return { reply: 'disconnect', status: statuses[0] ?? null };
    case MESSAGE_TYPES.echoRequest:
      return { reply: 'none', respond: echoResponse() };
    case MESSAGE_TYPES.echoResponse:
      return { reply: 'none', respond: null };
    default:
      // A message type MS-SSTP does not define is ignored, as accel-ppp does; a defined one that a server
      // must not send here (Call Connect Request, Call Connected, a Disconnect Ack out of turn) is invalid.
      if (!(packet.messageType in MESSAGE_NAMES)) return { reply: 'none', respond: null };
      return { reply: 'bad', reason: `unexpected ${messageName(packet.messageType)} in answer to Call Connect Request` };
  }
}

/** `value not supported (4) for Encapsulated Protocol ID`. */
export function describeStatus(info: StatusInfo): string {
  const about = info.attributeId === 0 ? '' : ` for ${ATTRIBUTE_LENGTHS[info.attributeId]?.name ?? `attribute ${info.attributeId}`}`;
  return `${statusName(info.status)} (${info.status})${about}`;
}

/**
 * The warning an accepted call carries when the Crypto Binding Request offers SHA-1 only: legal (sstp-client
 * then binds with SHA-1; SoftEther and accel-ppp offer SHA-256), but the crypto binding that ties the tunnel
 * to the server certificate then rests on SHA-1. Null when SHA-256 is offered.
 */
export function hashWarning(bitmask: number | null): string | null {
  if (bitmask === null || bitmask & HASH_SHA256 || !(bitmask & HASH_SHA1)) return null;
  return 'the server offers only SHA-1 for the crypto binding (Crypto Binding Request hash bitmask 0x01)';
}

/** `SHA-256`, `SHA-1`, `SHA-1 and SHA-256`, `none (0x00)`. */
export function describeHashBitmask(bitmask: number): string {
  const names = [bitmask & HASH_SHA1 ? 'SHA-1' : null, bitmask & HASH_SHA256 ? 'SHA-256' : null].filter(Boolean);
  return names.length ? names.join(' and ') : `none (0x${hex2(bitmask)})`;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  callAbort,
  callConnectAck,
  callConnectNak,
  callConnectRequest,
  callDisconnect,
  callDisconnectAck,
  decodePacket,
  describeHashBitmask,
  describeStatus,
  echoRequest,
  echoResponse,
  encodePacket,
  interpretCallReply,
  readPacket,
  type SstpAttribute,
  type SstpPacket,
} from '../../src/probe/sstp-frames.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const NONCE = Buffer.alloc(32, 0xab);

describe('the encoder writes the bytes seen on the wire (SSTP-NOTES "MS-SSTP, the start of a call")', () => {
  it.each([
    ['Call Connect Request', callConnectRequest(), '10 01 00 0E 00 01 00 01 00 01 00 06 00 01'],
    ['Call Connect Ack', callConnectAck(0x02, NONCE), `10 01 00 30 00 02 00 01 00 04 00 28 00 00 00 02 ${'ab'.repeat(32)}`],
    ['Call Disconnect', callDisconnect(), '10 01 00 14 00 06 00 01 00 02 00 0C 00 00 00 00 00 00 00 00'],
    ['Call Disconnect Ack', callDisconnectAck(), '10 01 00 08 00 07 00 00'],
    ['Echo Request', echoRequest(), '10 01 00 08 00 08 00 00'],
    ['Echo Response', echoResponse(), '10 01 00 08 00 09 00 00'],
    ['Call Connect Nak', callConnectNak(1, 4), '10 01 00 14 00 03 00 01 00 02 00 0C 00 00 00 01 00 00 00 04'],
    ['Call Abort without status', callAbort(null), '10 01 00 08 00 05 00 00'],
  ])('%s', (_name, encoded, wire) => {
    expect(encoded.toString('hex')).toBe(bytes(wire).toString('hex'));
  });
});

describe('the parser reads valid packets', () => {
  it('reads a Call Connect Ack: the hash bitmask and the nonce', () => {
    const decoded = decodePacket(callConnectAck(0x03, NONCE));
    expect(decoded).toEqual({
      ok: true,
      packet: { control: true, messageType: 2, attributes: [{ id: 4, hashBitmask: 0x03, nonce: NONCE }] },
    });
  });

  it('reads a Nak status and the attribute it refers to', () => {
    const decoded = decodePacket(callConnectNak(1, 4));
    expect(decoded.ok && decoded.packet).toMatchObject({ messageType: 3, attributes: [{ id: 2, attributeId: 1, status: 4 }] });
  });

  it('reads a data packet (a PPP frame)', () => {
    expect(decodePacket(bytes('10 00 00 07 ff 03 c0'))).toEqual({ ok: true, packet: { control: false, data: bytes('ff 03 c0') } });
  });

  it('ignores reserved bits, as a receiver must', () => {
    const request = callConnectRequest();
    request[1] = 0xfe | 0x01; // reserved bits set, C still 1
    request[2] = 0xf0; // reserved nibble of the length
    const decoded = decodePacket(request);
    expect(decoded.ok && decoded.packet).toMatchObject({ control: true, messageType: 1 });
  });

  it('reads one packet at a time from a stream and says how much it needs', () => {
    const stream = Buffer.concat([callConnectAck(2, NONCE), callDisconnect()]);
    const first = readPacket(stream);
    expect(first).toMatchObject({ state: 'packet', length: 48 });
    expect(readPacket(stream.subarray(48))).toMatchObject({ state: 'packet', length: 20 });
    expect(readPacket(stream.subarray(0, 10))).toEqual({ state: 'incomplete', have: 10, need: 48 });
    expect(readPacket(stream.subarray(0, 2))).toEqual({ state: 'incomplete', have: 2, need: null });
  });
});

describe('framing errors and invalid messages are told apart, unknown types and attributes skipped ([MS-SSTP] 3.1.5.1, as accel-ppp)', () => {
  it('calls a bad version or packet length a framing error (drop, send nothing)', () => {
    expect(readPacket(bytes('11 01 00 08 00 07 00 00'))).toMatchObject({ state: 'invalid' });
    expect(readPacket(bytes('10 01 00 06 00 07'))).toMatchObject({ state: 'invalid' });
  });

  it('calls a well-framed message with a bad attribute invalid (answer with Call Abort), skipping the packet', () => {
    expect(readPacket(bytes('10 01 00 0f 00 01 00 01 00 01 00 07 00 01 00'))).toMatchObject({ state: 'malformed', length: 15 });
  });

  it('skips an unknown attribute id and keeps an unknown message type', () => {
    const unknownAttribute = readPacket(bytes('10 01 00 14 00 01 00 02 00 07 00 06 00 01 00 01 00 06 00 01'));
    expect(unknownAttribute).toMatchObject({ state: 'packet', packet: { messageType: 1, attributes: [{ id: 1, protocolId: 1 }] } });
    const unknownType = readPacket(bytes('10 01 00 08 00 0a 00 00'));
    expect(unknownType).toMatchObject({ state: 'packet', packet: { control: true, messageType: 10, attributes: [] } });
    expect(interpretCallReply((unknownType as { packet: SstpPacket }).packet)).toEqual({ reply: 'none', respond: null });
  });
});

describe('the parser is strict: each malformed packet is sstp_bad_frame with its reason', () => {
  it.each([
    ['a wrong version byte', '11 01 00 08 00 07 00 00', /version byte 0x11/],
    ['an HTTP answer where a packet belongs', Buffer.from('HTTP/1.1 200 OK\r\n\r\n').toString('hex'), /version byte 0x48/],
    ['a control packet shorter than its header', '10 01 00 06 00 07', /control packet length 6/],
    ['a data packet shorter than its header', '10 00 00 02', /data packet length 2/],
    ['an unknown attribute overrunning the packet', '10 01 00 0e 00 01 00 01 00 07 00 16 00 01', /attribute 7 of length 22 in a 14-byte Call Connect Request/],
    ['an attribute of the wrong length', '10 01 00 0f 00 01 00 01 00 01 00 07 00 01 00', /Encapsulated Protocol ID attribute length 7 \(expected 6\)/],
    ['a Crypto Binding Request shorter than 40', `10 01 00 2f 00 02 00 01 00 04 00 27 ${'00'.repeat(35)}`, /Crypto Binding Request attribute length 39/],
    ['an attribute overrunning the packet', '10 01 00 0e 00 02 00 01 00 04 00 28 00 00', /overruns the 14-byte packet/],
    ['more attributes announced than present', '10 01 00 0e 00 01 00 02 00 01 00 06 00 01', /announces 2 attributes but has room for 1/],
    ['bytes after the attributes', '10 01 00 0a 00 07 00 00 00 00', /2 bytes after the 0 attributes of Call Disconnect Ack/],
    ['bytes after the packet', '10 01 00 08 00 07 00 00 00', /1 bytes after a 8-byte packet/],
    ['a truncated packet', '10 01 00 30 00 02 00 01', /truncated packet: 8 of 48 bytes/],
    ['a truncated header', '10 01', /truncated packet: 2 of at least 4 header bytes/],
    ['nothing', '', /truncated packet: 0 of at least 4/],
  ])('%s', (_name, hex, reason) => {
    const decoded = decodePacket(bytes(hex));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.errorKind).toBe('sstp_bad_frame');
      expect(decoded.reason).toMatch(reason);
    }
  });
});

describe('what an answer to Call Connect Request means', () => {
  const packet = (b: Buffer): SstpPacket => {
    const decoded = decodePacket(b);
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.packet;
  };

  it.each([
    ['an Ack offering SHA-256', callConnectAck(0x02, NONCE), { reply: 'ack', hashBitmask: 2 }],
    ['an Ack offering SHA-1 only', callConnectAck(0x01, NONCE), { reply: 'ack', hashBitmask: 1 }],
    ['a Nak', callConnectNak(1, 4), { reply: 'nak', statuses: [{ attributeId: 1, status: 4 }] }],
    ['an Abort with a status', callAbort(8), { reply: 'abort', status: { attributeId: 0, status: 8 } }],
    ['an Abort without a status', callAbort(null), { reply: 'abort', status: null }],
    ['a Disconnect', callDisconnect(0, 0), { reply: 'disconnect', status: { attributeId: 0, status: 0 } }],
    ['an Echo Request (answered, not an answer)', echoRequest(), { reply: 'none', respond: echoResponse() }],
    ['a data packet', bytes('10 00 00 05 ff'), { reply: 'none', respond: null }],
    ['a Disconnect Ack out of place', callDisconnectAck(), { reply: 'bad', reason: 'unexpected Call Disconnect Ack in answer to Call Connect Request' }],
    ['an Ack without its Crypto Binding Request', encodePacket({ control: true, messageType: 2, attributes: [] }), { reply: 'bad', reason: expect.stringMatching(/without exactly one Crypto Binding Request/) }],
    ['a Nak without a Status Info', encodePacket({ control: true, messageType: 3, attributes: [] }), { reply: 'bad', reason: expect.stringMatching(/Nak without a Status Info/) }],
  ])('%s', (_name, encoded, expected) => {
    expect(interpretCallReply(packet(encoded))).toEqual(expected);
  });

  it('names statuses and bitmasks for people', () => {
    expect(describeStatus({ attributeId: 1, status: 4 })).toBe('value not supported (4) for Encapsulated Protocol ID');
    expect(describeStatus({ attributeId: 0, status: 99 })).toBe('status 99 (99)');
    expect(describeHashBitmask(3)).toBe('SHA-1 and SHA-256');
    expect(describeHashBitmask(0)).toBe('none (0x00)');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzz

const attribute: fc.Arbitrary<SstpAttribute> = fc.oneof(
  fc.record({ id: fc.constant(1 as const), protocolId: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({
    id: fc.constant(2 as const),
    attributeId: fc.integer({ min: 0, max: 255 }),
    status: fc.integer({ min: 0, max: 0xffffffff }),
    value: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  }),
  fc.record({ id: fc.constant(3 as const), value: fc.uint8Array({ minLength: 100, maxLength: 100 }).map((a) => Buffer.from(a)) }),
  fc.record({
    id: fc.constant(4 as const),
    hashBitmask: fc.integer({ min: 0, max: 255 }),
    nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a)),
  }),
);

const validPacket: fc.Arbitrary<SstpPacket> = fc.oneof(
  fc.record({ control: fc.constant(false as const), data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) }),
  fc.record({
    control: fc.constant(true as const),
    messageType: fc.integer({ min: 1, max: 9 }),
    attributes: fc.array(attribute, { maxLength: 4 }),
  }),
);

describe('fuzz: whatever the bytes, the parser never throws', () => {
  it('random bytes: a packet or sstp_bad_frame, and interpreting a packet never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (random) => {
        const decoded = decodePacket(random);
        if (decoded.ok) interpretCallReply(decoded.packet);
        else expect(decoded.errorKind).toBe('sstp_bad_frame');
        const read = readPacket(random);
        expect(['incomplete', 'invalid', 'packet']).toContain(read.state);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes after a valid header: still a packet or sstp_bad_frame', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.uint8Array({ minLength: 0, maxLength: 120 }), (c, body) => {
        const length = body.length + 4;
        const packet = Buffer.concat([Buffer.from([0x10, c, length >> 8, length & 0xff]), body]);
        const decoded = decodePacket(packet);
        if (!decoded.ok) expect(decoded.errorKind).toBe('sstp_bad_frame');
        else interpretCallReply(decoded.packet);
      }),
      { numRuns: 3000 },
    );
  });

  it('valid packets round-trip through encode and decode', () => {
    fc.assert(
      fc.property(validPacket, (packet) => {
        expect(decodePacket(encodePacket(packet))).toEqual({ ok: true, packet });
      }),
      { numRuns: 1000 },
    );
  });

  it('every truncation of a valid packet is sstp_bad_frame, and an incomplete read on a stream', () => {
    fc.assert(
      fc.property(validPacket, fc.nat(), (packet, cut) => {
        const encoded = encodePacket(packet);
        const prefix = encoded.subarray(0, cut % encoded.length);
        const decoded = decodePacket(prefix);
        expect(decoded.ok).toBe(false);
        if (!decoded.ok) expect(decoded.errorKind).toBe('sstp_bad_frame');
        expect(readPacket(prefix).state).toBe('incomplete');
      }),
      { numRuns: 1000 },
    );
  });
});

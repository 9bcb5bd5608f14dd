// Content coding: which Accept-Encoding headers get gzip, and the gzip written chunk by chunk must be one ordinary gzip member: what gunzip, curl and Go's reader (Prometheus,
// test/system/e2e/probe-prometheus.test.ts) take.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { crc32, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptsGzip, crc32Combine, gzipChunks } from '../../src/api/encoding.js';

async function gzipOf(chunks: Buffer[], level = 1): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of gzipChunks((async function* () { yield* chunks; })(), level)) out.push(piece);
  return Buffer.concat(out);
}

const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `sstp_probe_success{target="rras-${i}",group="g${i % 7}"} ${i % 2}\n`).join(''));

describe('gzip written chunk by chunk', () => {
  it('decompresses to the chunks joined, byte for byte, in Node and in the gzip program', async () => {
    const chunks = [text(5000), Buffer.from('zürich € \n'), randomBytes(70_000), Buffer.alloc(0), text(3)];
    const gz = await gzipOf(chunks);
    expect(gunzipSync(gz).equals(Buffer.concat(chunks))).toBe(true);
    const gunzip = spawnSync('gzip', ['-dc'], { input: gz });
    expect(gunzip.stderr.toString()).toBe('');
    expect(gunzip.status).toBe(0);
    expect(gunzip.stdout.equals(Buffer.concat(chunks))).toBe(true);
    expect(spawnSync('gzip', ['-t'], { input: gz }).status).toBe(0); // CRC and length checked
  });

  it('writes a valid empty gzip for no chunks', async () => {
    expect(gunzipSync(await gzipOf([])).length).toBe(0);
  });

  it('shrinks repetitive metric text many times over', async () => {
    const chunks = [text(20_000), text(20_000)];
    expect((await gzipOf(chunks)).length).toBeLessThan(Buffer.concat(chunks).length / 5);
  });
});

describe('whether a client takes gzip (Accept-Encoding, RFC 9110 section 12.5.3)', () => {
  it.each([
    { header: undefined, gzip: false },
    { header: '', gzip: false },
    { header: 'gzip', gzip: true },
    { header: 'GZIP', gzip: true },
    { header: 'x-gzip', gzip: true },
    { header: 'deflate, gzip;q=1.0, *;q=0.5', gzip: true },
    { header: 'br', gzip: false },
    { header: 'identity', gzip: false },
    { header: '*', gzip: true },
    { header: 'gzip;q=0', gzip: false },
    { header: 'gzip; q=0.001', gzip: true },
    { header: 'gzip;q=0.0', gzip: false },
    { header: 'br;q=1, gzip;q=0', gzip: false },
  ])('$header -> $gzip', ({ header, gzip }) => {
    expect(acceptsGzip(header)).toBe(gzip);
  });
});

describe('CRC-32 of two byte strings joined, from their CRCs (zlib crc32_combine)', () => {
  it.each([[0, 0], [1, 0], [0, 5], [3, 1], [100, 3000], [7, 70_000], [65_536, 1]])('%i bytes then %i bytes', (a, b) => {
    const first = randomBytes(a);
    const second = randomBytes(b);
    expect(crc32Combine(crc32(first), crc32(second), b)).toBe(crc32(Buffer.concat([first, second])));
  });
});

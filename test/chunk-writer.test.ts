// The chunk writer behind the /metrics exposition and the status list: the chunks joined are the strings joined,
// as UTF-8, and no chunk is larger than asked unless one string alone is.
import { describe, expect, it } from 'vitest';
import { ChunkWriter } from '../src/chunk-writer.js';

function write(chunkBytes: number, strings: string[]): Buffer[] {
  const out = new ChunkWriter(chunkBytes);
  const chunks: Buffer[] = [];
  for (const s of strings) {
    out.push(s);
    chunks.push(...out.takeFull());
  }
  out.flush();
  return [...chunks, ...out.takeFull()];
}

describe('the chunk writer', () => {
  it.each([
    { case: 'nothing', chunkBytes: 8, strings: [], sizes: [] },
    { case: 'empty strings only', chunkBytes: 8, strings: ['', ''], sizes: [] },
    { case: 'strings that fit one chunk', chunkBytes: 16, strings: ['abc', 'def'], sizes: [6] },
    { case: 'a chunk filled exactly', chunkBytes: 6, strings: ['abc', 'def', 'g'], sizes: [6, 1] },
    { case: 'a string that would overflow starts the next chunk', chunkBytes: 8, strings: ['abcdef', 'ghi'], sizes: [6, 3] },
    { case: 'a string larger than a chunk is a chunk of its own', chunkBytes: 4, strings: ['ab', 'cdefghij', 'k'], sizes: [2, 8, 1] },
    { case: 'multi-byte characters counted in bytes', chunkBytes: 8, strings: ['€€', 'ü', 'z'], sizes: [8, 1] },
    { case: 'a character is never split across chunks', chunkBytes: 4, strings: ['ab', '€'], sizes: [2, 3] },
  ])('$case', ({ chunkBytes, strings, sizes }) => {
    const chunks = write(chunkBytes, strings);
    expect(chunks.map((c) => c.length)).toEqual(sizes);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(strings.join(''));
  });

  it('hands out each chunk as its own Buffer, untouched by what is written after it', () => {
    const out = new ChunkWriter(4);
    out.push('abcd');
    out.push('efgh');
    const [first] = out.takeFull();
    out.push('ijkl');
    out.flush();
    expect(first!.toString()).toBe('abcd');
    expect(out.takeFull().map(String)).toEqual(['efgh', 'ijkl']);
  });

  describe('lending its chunks to a consumer done with each before it takes the next (gzip)', () => {
    /** Writes `strings` as a gzip consumer reads them: each chunk copied (deflated) as soon as it is taken. */
    function consume(out: ChunkWriter, strings: string[]): { copies: Buffer[]; memory: Set<string> } {
      const copies: Buffer[] = [];
      // Where each chunk's bytes live (small Buffers share a pool's ArrayBuffer at different offsets).
      const arrays = new Map<ArrayBufferLike, number>();
      const memory = new Set<string>();
      const take = () => {
        for (const chunk of out.takeFull()) {
          copies.push(Buffer.from(chunk));
          if (!arrays.has(chunk.buffer)) arrays.set(chunk.buffer, arrays.size);
          memory.add(`${arrays.get(chunk.buffer)}@${chunk.byteOffset}`);
        }
      };
      for (const s of strings) {
        out.push(s);
        take();
      }
      out.flush();
      take();
      return { copies, memory };
    }
    const strings = Array.from({ length: 400 }, (_, i) => `line ${i} of the body, €${i}\n`);

    it('gives the same bytes as a writer that hands out new chunks, through two buffers', () => {
      const lending = consume(new ChunkWriter(64, { lend: true }), strings);
      const owning = consume(new ChunkWriter(64), strings);
      expect(Buffer.concat(lending.copies).toString('utf8')).toBe(strings.join(''));
      expect(lending.copies.map((c) => c.toString('hex'))).toEqual(owning.copies.map((c) => c.toString('hex')));
      expect(owning.memory.size).toBe(owning.copies.length);
      expect(lending.memory.size).toBe(2);
    });

    it('keeps every chunk of one take intact until the next take, however many there are', () => {
      const out = new ChunkWriter(4, { lend: true });
      out.push('abcd');
      out.push('efgh');
      out.push('ijkl');
      const taken = out.takeFull();
      out.push('mnop');
      out.push('qrst');
      expect(taken.map(String)).toEqual(['abcd', 'efgh']);
      out.flush();
      expect(out.takeFull().map(String)).toEqual(['ijkl', 'mnop', 'qrst']);
    });
  });
});

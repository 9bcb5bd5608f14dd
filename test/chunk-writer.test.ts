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
});

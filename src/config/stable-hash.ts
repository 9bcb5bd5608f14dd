// A stable hash of a name: the same number on every platform, run and version. Probe phases and the shard a
// target falls to are derived from it, so changing it would move every target's phase and shard on upgrade:
// test/config/stable-hash.test.ts pins fixed values.

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`; an unsigned integer. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

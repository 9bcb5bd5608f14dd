import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_SITE, inShard, parseShard, siteOf } from '../../src/config/sharding.js';
import { stableHash } from '../../src/config/stable-hash.js';
import { ConfigError, type Config } from '../../src/config/types.js';

function config(top: string): Config {
  return parseConfig([top, 'groups:', '  - name: vpn', '    hostname: vpn.example.test', '    servers:', '      - { name: a, url: "https://10.0.0.1" }'].join('\n'), {
    baseDir: '/etc/sstpwatch',
  });
}

function issuesOf(top: string): string[] {
  try {
    config(top);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw err;
  }
  return [];
}

describe('the stable hash of a name', () => {
  // Fixed values ("a" and "foobar" are FNV's published test vectors; the rest computed once by an independent
  // Python FNV-1a over UTF-8): a change here moves every target's probe phase and shard on upgrade. Never update them.
  it.each([
    { text: '', hash: 0x811c9dc5 },
    { text: 'a', hash: 0xe40c292c },
    { text: 'foobar', hash: 0xbf9cf968 },
    { text: 'rras-eu-1', hash: 0xf17cda48 },
    { text: 'lan', hash: 0x56608010 },
    { text: 'default', hash: 0x933b5bde },
    { text: 'zürich', hash: 0xaeca5e40 },
  ])('of $text is $hash', ({ text, hash }) => {
    expect(stableHash(text)).toBe(hash);
  });

  it('hashes the UTF-8 bytes (0xC3 0xBC for ü), not UTF-16 code units', () => {
    expect(stableHash('ü')).toBe(0x119dd44a);
  });
});

describe('site', () => {
  it('is null when unset; the effective site is then "default"', () => {
    expect(config('').site).toBeNull();
    expect(siteOf(config(''))).toBe(DEFAULT_SITE);
    expect(DEFAULT_SITE).toBe('default');
  });

  it.each(['lan', 'internet', 'DC-1', 'eu_west.2', 'x'.repeat(64)])('accepts %s', (site) => {
    expect(config(`site: ${site}`).site).toBe(site);
    expect(siteOf(config(`site: ${site}`))).toBe(site);
  });

  it.each([
    { value: '""', shown: '""' },
    { value: 'x'.repeat(65), shown: `"${'x'.repeat(65)}"` },
    { value: '"lan 1"', shown: '"lan 1"' },
    { value: 'lan/1', shown: '"lan/1"' },
    { value: '42', shown: '42' },
    { value: '[lan]', shown: 'a list' },
  ])('refuses $value, naming the path and the value', ({ value, shown }) => {
    expect(issuesOf(`site: ${value}`)).toEqual([`site: must be 1 to 64 letters, digits, ".", "_" or "-", like "lan" or "internet" (got ${shown})`]);
  });
});

describe('shard', () => {
  it.each([
    { text: '1/1', shard: { index: 1, count: 1 } },
    { text: '2/3', shard: { index: 2, count: 3 } },
    { text: ' 3 / 3 ', shard: { index: 3, count: 3 } },
    { text: '1024/1024', shard: { index: 1024, count: 1024 } },
    { text: '0/3', shard: "I (this instance's shard) must be from 1 to N (3)" },
    { text: '4/3', shard: "I (this instance's shard) must be from 1 to N (3)" },
    { text: '1/0', shard: 'N (the number of shards) must be from 1 to 1024' },
    { text: '1/1025', shard: 'N (the number of shards) must be from 1 to 1024' },
    { text: '1/2/3', shard: 'must be "I/N", this instance\'s number I of N instances, like "2/3"' },
    { text: 'half', shard: 'must be "I/N", this instance\'s number I of N instances, like "2/3"' },
    { text: '-1/2', shard: 'must be "I/N", this instance\'s number I of N instances, like "2/3"' },
  ])('"$text" reads as $shard', ({ text, shard }) => {
    expect(parseShard(text)).toEqual(shard);
  });

  it('is read from the config file (unquoted 1/2 is a YAML string)', () => {
    expect(config('shard: 1/2').shard).toEqual({ index: 1, count: 2 });
    expect(config('shard: "2/2"').shard).toEqual({ index: 2, count: 2 });
    expect(config('').shard).toBeNull();
  });

  it.each([
    { value: '5/3', message: `shard: I (this instance's shard) must be from 1 to N (3) (got "5/3")` },
    { value: '2', message: 'shard: must be a quoted "I/N", like "2/3" (got 2)' },
  ])('refuses $value with a clear error', ({ value, message }) => {
    expect(issuesOf(`shard: ${value}`)).toEqual([message]);
  });

  it('is refused with a PostgreSQL database: instances there share targets by site', () => {
    expect(issuesOf('shard: 1/2\ndatabase: postgres://sstpwatch@127.0.0.1:5432/sstpwatch')).toEqual([
      'shard: applies only to instances with their own SQLite file: instances on one PostgreSQL with the same site share the targets by themselves (remove shard)',
    ]);
  });

  it('puts every name in exactly one of N shards, by its stable hash', () => {
    const names = Array.from({ length: 200 }, (_, i) => `rras-${i}`);
    for (const count of [1, 2, 3, 7]) {
      const shards = Array.from({ length: count }, (_, i) => ({ index: i + 1, count }));
      for (const name of names) expect(shards.filter((shard) => inShard(name, shard))).toHaveLength(1);
      const sizes = shards.map((shard) => names.filter((name) => inShard(name, shard)).length);
      expect(Math.min(...sizes)).toBeGreaterThan(200 / count / 2);
    }
    expect(names.every((name) => inShard(name, null))).toBe(true);
    expect(inShard('rras-0', { index: (stableHash('rras-0') % 3) + 1, count: 3 })).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { fairShare, planShares, siteKey, VIRTUAL_SHARDS, virtualShardOf } from '../../src/scheduler/ownership.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('the fair share of 64 virtual shards', () => {
  it.each([
    { peers: 0, share: 64 },
    { peers: 1, share: 64 },
    { peers: 2, share: 32 },
    { peers: 3, share: 22 },
    { peers: 5, share: 13 },
    { peers: 64, share: 1 },
    { peers: 100, share: 1 },
  ])('is $share for $peers live instances', ({ peers, share }) => {
    expect(fairShare(peers)).toBe(share);
  });
});

describe('a rebalance tick', () => {
  it.each([
    { case: 'a lone instance takes every shard', peers: 1, mine: [], held: [], take: range(0, 64), release: [] },
    { case: 'a lone instance owning all has nothing to do', peers: 1, mine: range(0, 64), held: range(0, 64), take: [], release: [] },
    { case: 'a second peer joined: the owner of all releases its highest 32', peers: 2, mine: range(0, 64), held: range(0, 64), take: [], release: range(32, 64) },
    { case: 'the joining peer finds nothing free yet and waits', peers: 2, mine: [], held: range(0, 64), take: [], release: [] },
    { case: 'the joining peer takes what was released', peers: 2, mine: [], held: range(0, 32), take: range(32, 64), release: [] },
    { case: 'a peer died: the survivor takes its free shards', peers: 1, mine: range(0, 32), held: range(0, 32), take: range(32, 64), release: [] },
    { case: 'three peers: 22 each at most', peers: 3, mine: range(0, 32), held: range(0, 64), take: [], release: range(22, 32) },
    { case: 'under the share, it takes free shards only up to it', peers: 3, mine: range(0, 20), held: range(0, 40), take: [40, 41], release: [] },
    { case: 'free shards held by nobody are taken even when the share is reached by others', peers: 2, mine: range(0, 30), held: [...range(0, 30), ...range(33, 64)], take: [30, 31], release: [] },
  ])('$case', ({ peers, mine, held, take, release }) => {
    const plan = planShares({ peers, mine: new Set(mine), held: new Set(held) });
    expect(plan).toEqual({ share: fairShare(peers), take, release });
  });

  it('starts looking for free shards where this instance starts, wrapping around', () => {
    expect(planShares({ peers: 2, mine: new Set(), held: new Set(range(2, 62)), start: 63 }).take).toEqual([63, 0, 1, 62]);
    expect(planShares({ peers: 1, mine: new Set(), held: new Set(), start: -1 }).take[0]).toBe(63);
  });

  it('converges: peers ticking in turn own every shard once, none more than its share', () => {
    for (const peers of [1, 2, 3, 5, 7]) {
      const owners: Set<number>[] = Array.from({ length: peers }, () => new Set());
      for (let round = 0; round < 4; round++) {
        for (const [i, mine] of owners.entries()) {
          const held = new Set(owners.flatMap((set) => [...set]));
          const plan = planShares({ peers, mine, held, start: i * 13 });
          for (const shard of plan.release) mine.delete(shard);
          for (const shard of plan.take) mine.add(shard);
        }
      }
      const all = owners.flatMap((set) => [...set]).sort((a, b) => a - b);
      expect(all).toEqual(range(0, VIRTUAL_SHARDS));
      for (const mine of owners) expect(mine.size).toBeLessThanOrEqual(fairShare(peers));
    }
  });
});

describe('keys', () => {
  it('a target falls to a virtual shard by its pinned stable hash', () => {
    // fnv1a32("rras-eu-1") = 0xf17cda48 (test/config/sharding.test.ts); 0xf17cda48 % 64 = 8
    expect(virtualShardOf('rras-eu-1')).toBe(0xf17cda48 % 64);
    expect(virtualShardOf('rras-eu-1')).toBe(8);
  });

  it('a site key is a non-negative int4', () => {
    expect(siteKey('lan')).toBe(0x56608010);
    expect(siteKey('default')).toBe(0x933b5bde & 0x7fffffff);
    for (const site of ['lan', 'internet', 'default', '']) {
      expect(siteKey(site)).toBeGreaterThanOrEqual(0);
      expect(siteKey(site)).toBeLessThanOrEqual(0x7fffffff);
    }
  });
});

// Which targets an instance owns. Static: `shard: "I/N"` (config/sharding.ts). Shared on PostgreSQL: the site's
// targets fall into VIRTUAL_SHARDS virtual shards by the stable hash of their names; each shard has one owner at a
// time (an advisory lock, store/postgres/shard-locks.ts) and every instance of the site aims at a fair share of
// them. Pure: ownership-manager.ts does the I/O.
import { stableHash } from '../config/stable-hash.js';

/** Virtual shards per site: enough to spread over a handful of instances, few enough to lock one by one. */
export const VIRTUAL_SHARDS = 64;

export function virtualShardOf(name: string): number {
  return stableHash(name) % VIRTUAL_SHARDS;
}

/** The advisory key of a site: its stable hash as a non-negative int4. */
export function siteKey(site: string): number {
  return stableHash(site) & 0x7fff_ffff;
}

/** The most shards one of `peers` live instances should own: ceil(shards / peers). */
export function fairShare(peers: number, shards = VIRTUAL_SHARDS): number {
  return Math.ceil(shards / Math.max(1, peers));
}

export interface ShareSurvey {
  /** Live instances of the site, this one included. */
  peers: number;
  /** Shards this instance owns. */
  mine: ReadonlySet<number>;
  /** Shards any instance of the site owns, this one's included. */
  held: ReadonlySet<number>;
  /** Where this instance starts looking for free shards, so that peers taking at once try different ones first. */
  start?: number;
}

export interface SharePlan {
  share: number;
  /** Free shards to try to take, in order. */
  take: number[];
  /** Own shards beyond the fair share, to release (after their probes in flight have finished). */
  release: number[];
}

/**
 * An instance over its fair share releases the excess (its highest shards); one under it takes free shards up to
 * it. Peers each at most `share` and every shard owned is the steady state: a joining peer finds no free shard at
 * first, the others release their excess on their next tick and it takes those on its next.
 */
export function planShares(survey: ShareSurvey, shards = VIRTUAL_SHARDS): SharePlan {
  const share = fairShare(survey.peers, shards);
  const mine = [...survey.mine].sort((a, b) => a - b);
  if (mine.length > share) return { share, take: [], release: mine.slice(share) };
  const wanted = share - mine.length;
  const start = ((survey.start ?? 0) % shards + shards) % shards;
  const take: number[] = [];
  for (let i = 0; i < shards && take.length < wanted; i++) {
    const shard = (start + i) % shards;
    if (!survey.held.has(shard) && !survey.mine.has(shard)) take.push(shard);
  }
  return { share, take, release: [] };
}

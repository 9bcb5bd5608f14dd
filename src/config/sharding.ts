// `site:` (where an instance probes from) and `shard: "I/N"` (a static share of the targets, for instances that
// each keep their own SQLite file). Which targets a shard holds is decided by the stable hash of their names.
import { stableHash } from './stable-hash.js';
import { isPostgresUrl } from './database.js';
import { got, type Issues } from './readers.js';
import type { ShardConfig } from './types.js';

export type { ShardConfig };


/**
 * The site of an instance without `site:`. Instances on one PostgreSQL without `site:` share the targets as one
 * site of this name (and `site: default` joins them).
 */
export const DEFAULT_SITE = 'default';

export const MAX_SHARDS = 1024;
const SITE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The site an instance coordinates and records under: `site:`, or DEFAULT_SITE. */
export function siteOf(config: { site: string | null }): string {
  return config.site ?? DEFAULT_SITE;
}

export function readSite(value: unknown, issues: Issues): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && SITE_NAME.test(value)) return value;
  issues.add('site', `must be 1 to 64 letters, digits, ".", "_" or "-", like "lan" or "internet" ${got(value)}`);
  return null;
}

/** "I/N" with 1 <= I <= N <= MAX_SHARDS; a string is the reason it is not. */
export function parseShard(text: string): ShardConfig | string {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) return 'must be "I/N", this instance\'s number I of N instances, like "2/3"';
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS) return `N (the number of shards) must be from 1 to ${MAX_SHARDS}`;
  if (index < 1 || index > count) return `I (this instance's shard) must be from 1 to N (${count})`;
  return { index, count };
}

/** Instances on one PostgreSQL share the targets by site through the database; static shards are for SQLite. */
export function readShard(value: unknown, database: string, issues: Issues): ShardConfig | null {
  if (value === undefined || value === null) return null;
  const shard = typeof value === 'string' ? parseShard(value) : 'must be a quoted "I/N", like "2/3"';
  if (typeof shard === 'string') {
    issues.add('shard', `${shard} ${got(value)}`);
    return null;
  }
  if (isPostgresUrl(database)) {
    issues.add(
      'shard',
      'applies only to instances with their own SQLite file: instances on one PostgreSQL with the same site share the targets by themselves (remove shard)',
    );
    return null;
  }
  return shard;
}

/** Whether a target belongs to the static shard (every target does without one). */
export function inShard(name: string, shard: ShardConfig | null): boolean {
  return shard === null || stableHash(name) % shard.count === shard.index - 1;
}

// What a reload changes: targets added, removed or changed (by name), and the settings that cannot change while
// sstpwatch runs. Pure: service.ts applies the result.

import { targetChanged } from './identity.js';
import type { Config } from './types.js';

export interface ConfigDiff {
  added: string[];
  removed: string[];
  /** Same name, different settings, URL, group or role. */
  changed: string[];
  unchanged: number;
  /** Top-level keys (as written in the file) whose new value takes effect only after a restart. */
  restartRequired: string[];
}

/**
 * Decided: `listen` (the socket is bound), `database` (the store is open), `retention` (the store was opened with
 * it), `demo` (its simulated servers are started once), `log` (the logger is made once), `site` and `shard` (the targets this instance owns and the
 * site it coordinates with are settled at start) and switching `tls` on or off (the server is HTTP or HTTPS)
 * need a restart. Everything else applies on reload: targets, groups, defaults, `probe_endpoint`, `auth` (token,
 * token file, protect_reads), and a renewed `tls` certificate or key while tls stays on.
 */
export function diffConfig(running: Config, next: Config): ConfigDiff {
  const before = new Map(running.targets.map((t) => [t.name, t]));
  const after = new Map(next.targets.map((t) => [t.name, t]));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed = [...after].filter(([name, target]) => before.has(name) && targetChanged(before.get(name)!, target)).map(([name]) => name);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const restartRequired = [
    same(running.listen, next.listen) ? null : 'listen',
    running.database === next.database && running.databasePasswordFile === next.databasePasswordFile ? null : 'database',
    same(running.retention, next.retention) ? null : 'retention',
    running.demo === next.demo ? null : 'demo',
    (running.serverTls === null) === (next.serverTls === null) ? null : 'tls',
    same(running.log, next.log) ? null : 'log',
    same(running.metrics, next.metrics) ? null : 'metrics',
    running.site === next.site ? null : 'site',
    same(running.shard, next.shard) ? null : 'shard',
  ].filter((key): key is string => key !== null);
  return { added, removed, changed, unchanged: after.size - added.length - changed.length, restartRequired };
}

/**
 * The config in force after a reload: the new one, except for the settings that need a restart, which keep their
 * running values (so the next reload reports them again until sstpwatch is restarted).
 */
export function configInForce(running: Config, next: Config): Config {
  const tlsSwitched = (running.serverTls === null) !== (next.serverTls === null);
  return {
    ...next,
    listen: running.listen,
    database: running.database,
    databasePasswordFile: running.databasePasswordFile,
    retention: running.retention,
    demo: running.demo,
    log: running.log,
    metrics: running.metrics,
    site: running.site,
    shard: running.shard,
    serverTls: tlsSwitched ? running.serverTls : next.serverTls,
  };
}

// Shared by the reliability tests: a config for a fleet of targets, and reads of the database from outside.
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface FleetTarget {
  name: string;
  url: string;
}

/** Writes a config with the targets in groups of `perGroup` (vpn-N, hostname vpn-N.example.test). */
export function writeFleetConfig(
  path: string,
  opts: { port: number; database: string; targets: FleetTarget[]; defaults: string[]; perGroup?: number; caFile?: string;
    /** Every group's public name; default vpn-N.example.test. */
    hostname?: string;
    /** Probe settings a group overrides (YAML lines), by group index. */
    groupSettings?: (group: number) => string[] },
): void {
  const perGroup = opts.perGroup ?? 10;
  const lines = [`listen: "127.0.0.1:${opts.port}"`, `database: ${JSON.stringify(opts.database)}`, 'defaults:'];
  lines.push(...opts.defaults.map((l) => `  ${l}`));
  if (opts.caFile) lines.push(`  tls: { ca_file: ${JSON.stringify(opts.caFile)} }`);
  lines.push('groups:');
  for (let g = 0; g * perGroup < opts.targets.length; g++) {
    lines.push(`  - name: vpn-${g}`, `    hostname: ${opts.hostname ?? `vpn-${g}.example.test`}`);
    lines.push(...(opts.groupSettings?.(g) ?? []).map((l) => `    ${l}`), '    servers:');
    for (const t of opts.targets.slice(g * perGroup, (g + 1) * perGroup)) {
      lines.push(`      - { name: ${t.name}, url: "${t.url}"${t.url.startsWith('http:') ? ', offload: true' : ''} }`);
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Runs `read` on a read-only connection to the database (closed afterwards). */
export function readDb<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } finally {
    db.close();
  }
}

/** Every stored result as target name -> sorted `at` list. */
export function storedResults(db: Database.Database): Map<string, number[]> {
  const rows = db.prepare('SELECT t.name AS name, r.at AS at FROM results r JOIN targets t USING (target_id) ORDER BY r.at').all() as {
    name: string;
    at: number;
  }[];
  const byTarget = new Map<string, number[]>();
  for (const row of rows) {
    const list = byTarget.get(row.name) ?? [];
    list.push(row.at);
    byTarget.set(row.name, list);
  }
  return byTarget;
}

/** Prometheus text -> the value of the first sample whose line starts with `series` (name and labels). */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1).split(' ')[0]);
  }
  return undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A stretch of time in which this process's timers ran late: the process (and what it serves) was not running. */
export interface Stall {
  from: number;
  to: number;
}

/**
 * Records every time this process's event loop was held up by more than `thresholdMs` (a 20 ms timer firing
 * late), until stop() returns the stalls. Fake servers in this process answer nothing during a stall, so a
 * probe of them that misses its round then says how loaded the machine was, not how the service behaves.
 */
export function watchStalls(thresholdMs: number): { stop(): Stall[] } {
  const stalls: Stall[] = [];
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last > 20 + thresholdMs) stalls.push({ from: last, to: now });
    last = now;
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return stalls;
    },
  };
}

// Collecting config issues and the small typed readers every section is built from. Each reader returns
// undefined when the key is absent or its value is wrong (and then reports why, with the key's full path),
// so that one bad value never hides the next one.

import { isIP } from 'node:net';
import { formatDuration, timerLimitProblem, tryParseDuration } from './duration.js';
import { type ConfigIssue } from './types.js';

// ---------------------------------------------------------------------------------------------
// Collecting issues

export class Issues {
  readonly list: ConfigIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** `groups[0]` + `url` -> `groups[0].url`; a key YAML allows but a path cannot show plainly is quoted. */
export function keyPath(parent: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** The bad value as an admin would recognise it in the file: strings quoted, lists and mappings named. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(shown);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '[]' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

export function got(value: unknown): string {
  return `(got ${show(value)})`;
}

// ---------------------------------------------------------------------------------------------
// Small typed readers. Each returns undefined when the key is absent or its value is wrong (and
// then reports why), so that one bad value never hides the next one.

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a mapping's keys against the allowed ones; unknown keys are errors. */
export function readMapping(value: unknown, path: string, allowed: readonly string[], issues: Issues): Mapping | undefined {
  if (!isMapping(value)) {
    issues.add(path, `must be a mapping of keys ${got(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) issues.add(keyPath(path, key), unknownKeyMessage(key, allowed));
  }
  return value;
}

/** A section such as `auth:` or `tls:`: absent or empty (`auth:` alone) means all defaults. */
export function readSection(value: unknown, path: string, allowed: readonly string[], issues: Issues): Mapping {
  if (value === undefined || value === null) return {};
  return readMapping(value, path, allowed, issues) ?? {};
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const suggestion = closestKey(key, allowed);
  return suggestion === undefined ? 'unknown key' : `unknown key (did you mean "${suggestion}"?)`;
}

/** The allowed key a typo most likely meant: "ca-file" -> "ca_file", "intervall" -> "interval". */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  const normalized = key.toLowerCase().replaceAll('-', '_');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(normalized, candidate);
    if (distance < bestDistance && distance < candidate.length / 2) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function required(value: unknown, path: string, issues: Issues): boolean {
  if (value !== undefined) return true;
  issues.add(path, 'required key is missing');
  return false;
}

export function readBoolean(value: unknown, path: string, issues: Issues): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.add(path, `must be true or false ${got(value)}`);
  return undefined;
}

export function readInteger(
  value: unknown,
  path: string,
  range: { min: number; max: number; noun?: string },
  issues: Issues,
): number | undefined {
  if (value === undefined) return undefined;
  const { min, max, noun = 'a whole number' } = range;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  issues.add(path, `must be ${noun} from ${min} to ${max} ${got(value)}`);
  return undefined;
}

/** A duration string of at least minMs; with `timer`, no longer than a Node.js timer can wait. */
export function readDuration(value: unknown, path: string, minMs: number, issues: Issues, timer = false): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' ? tryParseDuration(value) : null;
  if (ms === null) {
    issues.add(path, `must be a duration like "30s", "5m" or "1h30m" ${got(value)}`);
    return undefined;
  }
  if (ms < minMs) {
    const bound = minMs <= 1 ? 'longer than 0' : `at least ${formatDuration(minMs)}`;
    issues.add(path, `must be ${bound} ${got(value)}`);
    return undefined;
  }
  const tooLong = timer ? timerLimitProblem(ms) : null;
  if (tooLong !== null) {
    issues.add(path, `${tooLong} ${got(value)}`);
    return undefined;
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Names, hosts and URLs

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readName(value: unknown, path: string, issues: Issues): string | undefined {
  if (!required(value, path, issues)) return undefined;
  if (typeof value === 'string' && NAME.test(value)) return value;
  issues.add(
    path,
    `must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit ${got(value)}`,
  );
  return undefined;
}

/** A DNS name (RFC 1123 labels) or an IPv4/IPv6 address. */
export function isHostname(text: string): boolean {
  if (isIP(text) !== 0) return true;
  if (text.length === 0 || text.length > 253) return false;
  return text.split('.').every((label) => DNS_LABEL.test(label));
}

export function readHostname(value: unknown, path: string, issues: Issues): string | undefined {
  if (!required(value, path, issues)) return undefined;
  if (typeof value === 'string' && isHostname(value)) return value;
  issues.add(path, `must be a DNS name or an IP address ${got(value)}`);
  return undefined;
}

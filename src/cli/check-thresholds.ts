// Which thresholds `sstpwatch check` applies: the ones the service applies to the same target, so that the
// command and the alerts agree. From the config file (--config, else $SSTPWATCH_CONFIG, else ./sstpwatch.yml
// when it exists): the settings of the configured target with this URL, else the config's defaults; then the
// command line (--warn-days, --critical-days, --slow-threshold) on top.
import { existsSync } from 'node:fs';
import { tryParseDuration } from '../config/duration.js';
import { DEFAULT_CONFIG_PATH, loadConfigFile, resolveConfigPath } from '../config/load.js';
import { thresholdsOf, type Thresholds } from '../config/policy.js';
import type { ConfigError } from '../config/types.js';

export interface ThresholdFlags {
  config?: string;
  'warn-days'?: string;
  'critical-days'?: string;
  'slow-threshold'?: string;
}

export interface AppliedThresholds {
  thresholds: Thresholds;
  /** Where they came from, for the output: `built-in defaults`, `sstpwatch.yml, target rras-eu-1`, ... */
  source: string;
  /** A config file that was looked for implicitly and could not be used (the built-in defaults apply). */
  warning: string | null;
}

export interface ThresholdEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  fileExists: (path: string) => boolean;
}

/** Throws an Error whose message is a usage error for the command line. */
export function checkThresholds(
  flags: ThresholdFlags,
  url: string,
  environment: ThresholdEnvironment = { env: process.env, fileExists: existsSync },
): AppliedThresholds {
  const fromFile = fromConfig(flags.config, url, environment);
  const thresholds = fromFile.thresholds;
  const overridden: string[] = [];
  if (flags['warn-days'] !== undefined) {
    thresholds.certificates.warnDays = days(flags['warn-days'], '--warn-days');
    overridden.push('--warn-days');
  }
  if (flags['critical-days'] !== undefined) {
    thresholds.certificates.criticalDays = days(flags['critical-days'], '--critical-days');
    overridden.push('--critical-days');
  }
  if (flags['slow-threshold'] !== undefined) {
    const ms = tryParseDuration(flags['slow-threshold']);
    if (ms === null || ms <= 0) throw new Error(`--slow-threshold must be a duration such as 1s or 800ms (got ${JSON.stringify(flags['slow-threshold'])})`);
    thresholds.slowThresholdMs = ms;
    overridden.push('--slow-threshold');
  }
  const { warnDays, criticalDays } = thresholds.certificates;
  if (criticalDays > warnDays) throw new Error(`critical days (${criticalDays}) must not be more than warning days (${warnDays})`);
  const source = overridden.length ? `${overridden.join(', ')} over ${fromFile.source}` : fromFile.source;
  return { thresholds, source, warning: fromFile.warning };
}

function fromConfig(flag: string | undefined, url: string, { env, fileExists }: ThresholdEnvironment): AppliedThresholds {
  const path = resolveConfigPath(flag, env);
  const explicit = path !== DEFAULT_CONFIG_PATH || flag !== undefined;
  if (!explicit && !fileExists(path)) return { thresholds: thresholdsOf({}), source: 'built-in defaults', warning: null };
  let config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    const problem = `${path}: ${(err as ConfigError).message.split('\n')[0]}`;
    if (explicit) throw new Error(`cannot take the thresholds from the config file ${problem}`);
    return { thresholds: thresholdsOf({}), source: 'built-in defaults', warning: `${problem} (the built-in thresholds apply)` };
  }
  const target = config.targets.find((t) => sameOrigin(t.url, url));
  if (target) return { thresholds: thresholdsOf(target.settings), source: `${path}, target ${target.name}`, warning: null };
  return { thresholds: thresholdsOf(config.defaults), source: `${path}, defaults`, warning: null };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function days(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 3650) throw new Error(`${flag} takes a whole number of days from 0 to 3650 (got ${JSON.stringify(text)})`);
  return n;
}

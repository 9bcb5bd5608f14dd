// Reading dashboards the way Grafana does, for tests: every panel and its queries, the template variables,
// Grafana's interpolation of `$var` and `$__…` macros, and the metric names a PromQL expression reads.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_FILES = ['sstp-fleet.json', 'sstp-target.json'] as const;

export function dashboardPath(file: string): string {
  return fileURLToPath(new URL(`../../grafana/dashboards/${file}`, import.meta.url));
}

export interface DashboardQuery {
  refId?: string;
  expr?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps: Array<{ value: number | null; color: string }> } } };
  targets?: DashboardQuery[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  type: string;
  name: string;
  query?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardJson {
  uid: string;
  title: string;
  time?: { from: string; to: string };
  refresh?: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function loadDashboard(file: string): DashboardJson {
  return JSON.parse(readFileSync(dashboardPath(file), 'utf8')) as DashboardJson;
}

/** Every panel that shows data (rows flattened, rows themselves left out). */
export function dataPanels(dashboard: DashboardJson): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** A query variable `label_values(selector, label)` split into its parts. */
export function parseLabelValues(query: string): { selector: string; label: string } {
  const match = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/s.exec(query.trim());
  if (!match) throw new Error(`not a label_values(selector, label) query: ${query}`);
  return { selector: match[1]!.trim(), label: match[2]! };
}

export interface Interpolation {
  /** Template variable -> its value(s); several values are formatted as Grafana does for Prometheus: (a|b). */
  variables: Record<string, string | string[]>;
  /** Durations for Grafana's macros, e.g. { __rate_interval: '4s', __range: '60s', __interval: '1s' }. */
  macros: Record<string, string>;
}

/**
 * Grafana's prometheusSpecialRegexEscape: a regex character gets two backslashes, since the value lands inside
 * a PromQL double-quoted string, where `\\` is one backslash for the regex.
 */
function escapeRegex(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/**
 * Grafana's interpolation of a Prometheus query: `$name` and `${name}` become the variable's value; a
 * multi-value variable becomes `(a|b)` with regex characters escaped (Grafana's Prometheus formatting). An
 * unknown variable throws, so a dashboard cannot use a variable the test does not know.
 */
export function interpolate(expr: string, with_: Interpolation): string {
  return expr.replace(/\$\{?(__[a-z_]+|[a-zA-Z_][a-zA-Z0-9_]*)\}?/g, (whole, name: string) => {
    if (name in with_.macros) return with_.macros[name]!;
    if (!(name in with_.variables)) throw new Error(`unknown variable ${whole} in: ${expr}`);
    const value = with_.variables[name]!;
    if (typeof value === 'string') return value;
    return value.length === 1 ? escapeRegex(value[0]!) : `(${value.map(escapeRegex).join('|')})`;
  });
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads (vector selectors' names), without its functions, aggregations,
 * keywords, label names and string literals. `{__name__=...}` selectors are not supported (none is used).
 */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of s.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const rest = s.slice(match.index + name.length).trimStart();
    if (rest.startsWith('(')) continue;
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** Sample names in a Prometheus text exposition (histogram _bucket/_sum/_count included). */
export function exposedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (match) names.add(match[0]);
  }
  return names;
}

// The Prometheus text format (0.0.4) as prom-client writes it: label values and help escaped, values as numbers
// with NaN as Nan and infinities as +Inf / -Inf. Shared by the exposition and the pre-rendered per-target families,
// and read back (parseSamples) for prom-client's get() of those families.

export type Labels = Record<string, string | number>;

const NEEDS_ESCAPE = /[\\\n"]/;

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? escapeHelp(value).replace(/"/g, '\\"') : value;
}

/**
 * `target="a",group="b"` (most values need no escaping: tested first). Joined from an array, so one flat string: a
 * target's labels are copied into each of its ~38 series lines at every scrape, and a string built with += stays a
 * tree of its ~20 pieces that every copy walks again (~15% of a scrape's CPU at 10,000 targets).
 */
export function labelText(labels: Labels): string {
  const pairs: string[] = [];
  for (const name in labels) {
    const value = labels[name]!;
    pairs.push(`${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`);
  }
  return pairs.join(',');
}

/**
 * `text` as one flat string. A template literal of 13 characters or more is a tree of its parts (a cons string), and
 * a constant part of every line kept as a tree is walked again each time a piece of the body holding it is copied.
 */
export function flat(text: string): string {
  // A JSON round trip gives back the same characters (lone surrogates too) in a new, flat string; join(), slice()
  // and concat() may hand back the tree itself.
  return JSON.parse(JSON.stringify(text)) as string;
}

/** As prom-client writes values: NaN as Nan, infinities as +Inf / -Inf. */
export function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return `${value}`;
}

/** `# HELP name help\n# TYPE name type`: a family's first two lines. */
export function familyHeader(name: string, help: string, type: string): string {
  return `# HELP ${escapeHelp(name)} ${escapeHelp(help)}\n# TYPE ${escapeHelp(name)} ${type}`;
}

export interface ParsedSample {
  /** Set when the sample's name is not the family's (a histogram's _bucket, _sum, _count). */
  metricName?: string;
  labels: Labels;
  value: number;
}

const SAMPLE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number {
  if (text === 'Nan' || text === 'NaN') return Number.NaN;
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** Reads sample lines this module wrote back into prom-client's { metricName?, labels, value } shape. */
export function parseSamples(text: string, family: string): ParsedSample[] {
  const samples: ParsedSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = SAMPLE_NAME.exec(line)![0];
    let at = name.length;
    const labels: Labels = {};
    if (line[at] === '{') {
      at++;
      while (line[at] !== '}') {
        const eq = line.indexOf('="', at);
        const label = line.slice(at, eq);
        let value = '';
        let i = eq + 2;
        for (; line[i] !== '"'; i++) {
          if (line[i] === '\\') {
            i++;
            value += line[i] === 'n' ? '\n' : line[i];
          } else value += line[i];
        }
        labels[label] = value;
        at = line[i + 1] === ',' ? i + 2 : i + 1;
      }
      at++;
    }
    const sample: ParsedSample = { labels, value: parseValue(line.slice(at + 1)) };
    samples.push(name === family ? sample : { metricName: name, ...sample });
  }
  return samples;
}

// The Prometheus text exposition (format 0.0.4) of a registry, written here rather than by prom-client's
// registry.metrics(). prom-client builds every series of every metric in one go (its per-metric promises resolve
// as microtasks, so nothing else runs in between): at 10,000 targets that is ~300,000 lines and seconds during which
// no probe starts. Here the work yields to the event loop every few thousand lines, and histograms are read without
// the per-bucket label objects prom-client makes for export. The output is the text prom-client gives, series for
// series (test/metrics/exposition.test.ts).
import type { Registry } from 'prom-client';

/** Lines written between two yields to the event loop (a few milliseconds of work). */
const LINES_PER_SLICE = 4000;

type Labels = Record<string, string | number>;

/** prom-client's per-series state (lib/gauge.js, counter.js, histogram.js: hashMap), read as it is. */
interface SeriesEntry {
  labels: Labels;
  value?: number;
  bucketValues?: Record<string, number>;
  sum?: number;
  count?: number;
}

interface MetricInternals {
  name: string;
  help: string;
  type: string;
  hashMap: Record<string, SeriesEntry>;
  upperBounds?: number[];
  collect?: () => unknown;
  get(): Promise<{ values: { value: number; labels?: Labels; metricName?: string }[] }>;
}

/** `target="a",group="b"`, escaped as prom-client escapes label values (most values need no escaping: tested first). */
function labelsOf(labels: Labels): string {
  let text = '';
  for (const name in labels) {
    const value = labels[name]!;
    text += `${text ? ',' : ''}${name}="${typeof value === 'string' && NEEDS_ESCAPE.test(value) ? escapeLabelValue(value) : value}"`;
  }
  return text;
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabelValue(value: string): string {
  return escapeHelp(value).replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** As prom-client writes values: NaN as Nan, infinities as +Inf / -Inf. */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return `${value}`;
}

const braces = (labels: string) => (labels ? `{${labels}}` : '');

/** The registry in the text format, built in slices between which probes and requests get the event loop. */
export async function renderExposition(registry: Registry): Promise<string> {
  const blocks: string[] = [];
  let lines = 0;
  const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
  for (const metric of registry.getMetricsAsArray() as unknown as MetricInternals[]) {
    const out: string[] = [`# HELP ${escapeHelp(metric.name)} ${escapeHelp(metric.help)}`, `# TYPE ${escapeHelp(metric.name)} ${metric.type}`];
    if (metric.type === 'histogram' && metric.upperBounds && metric.hashMap) {
      if (metric.collect) await metric.collect();
      for (const entry of Object.values(metric.hashMap)) {
        const labels = labelsOf(entry.labels);
        const suffix = labels ? `,${labels}` : '';
        let acc = 0;
        for (const bound of metric.upperBounds) {
          acc += entry.bucketValues![bound]!;
          out.push(`${metric.name}_bucket{le="${bound}"${suffix}} ${valueText(acc)}`);
        }
        out.push(`${metric.name}_bucket{le="+Inf"${suffix}} ${valueText(entry.count!)}`);
        out.push(`${metric.name}_sum${braces(labels)} ${valueText(entry.sum!)}`);
        out.push(`${metric.name}_count${braces(labels)} ${valueText(entry.count!)}`);
        lines += metric.upperBounds.length + 3;
        if (lines >= LINES_PER_SLICE) {
          lines = 0;
          await yieldNow();
        }
      }
    } else {
      // get() runs the metric's collect callback; gauges and counters hand out their own series objects.
      for (const value of (await metric.get()).values) {
        out.push(`${value.metricName ?? metric.name}${braces(value.labels ? labelsOf(value.labels) : '')} ${valueText(value.value)}`);
        if (++lines >= LINES_PER_SLICE) {
          lines = 0;
          await yieldNow();
        }
      }
    }
    blocks.push(out.join('\n'));
  }
  return `${blocks.join('\n\n')}\n`;
}

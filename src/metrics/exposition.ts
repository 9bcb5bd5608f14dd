// The Prometheus text exposition (format 0.0.4) of a registry, written here rather than by prom-client's
// registry.metrics(). prom-client builds every series of every metric in one go (its per-metric promises resolve
// as microtasks, so nothing else runs in between). Here the per-target families are rendered from each target's
// facts as they are written (series-table.ts) into chunks of UTF-8, the few prom-client metrics left (process,
// scheduler lag, store) are written from their series, and the work gives the event loop back once a slice of
// SCRAPE_SLICES has passed (time-slice.ts).
// The output is the text prom-client gives for the same series (test/metrics/exposition.test.ts).
import type { Registry } from 'prom-client';
import { ChunkWriter } from '../chunk-writer.js';
import { TimeSlicer } from '../time-slice.js';
import { isRenderedFamily } from './series-table.js';
import { familyHeader, labelText, valueText, type Labels } from './text-format.js';

/**
 * Wall time a scrape keeps the event loop before it gives it back: 10 ms, then twice as long after each pause, up to
 * 40 ms. Each pause waits a whole turn of the loop, and under probing a turn runs every socket callback that became
 * ready meanwhile: a scrape paused every thousand rows (a millisecond) spent most of its wall time waiting, and one
 * paused every 10 ms still got only the share of the loop the probes left it (time-slice.ts), ~0.7 s at 10,000
 * targets and over 1 s when probing peaked. Growing slices keep a small fleet's scrape to one or two short slices,
 * and a large one's to a handful of pauses, while a callback of a probe in flight or a status-list request waits at
 * most 40 ms (docs/capacity.md). New probes wait for the scrape to end, within a bound (start-gate.ts).
 */
export const SCRAPE_SLICES = { firstMs: 10, maxMs: 40 } as const;

/** Lines of prom-client's metrics written between two looks at the clock. */
const LINES_PER_CHECK = 200;

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

const braces = (labels: string) => (labels ? `{${labels}}` : '');

/** Bytes of a chunk of the body: a socket write each. */
const CHUNK_BYTES = 256 * 1024;
/**
 * Bytes of a lent chunk (a gzip input each). Each deflate sets up and tears down a zlib stream (~50 us and its
 * ~256 KB of state), so a fourth of the chunks costs less CPU, and a little less gzip (each chunk is deflated on its
 * own). The same three buffers are written over (3 MB), and deflating one holds the loop ~2-3 ms, well inside a slice.
 */
const LENT_CHUNK_BYTES = 1024 * 1024;

export interface ExpositionOptions {
  /**
   * Each chunk is written over once the next one is asked for: for a consumer done with a chunk before it asks again
   * (gzip deflates each at once), never for one that keeps them (a socket's write queue). See chunk-writer.ts.
   */
  lendChunks?: boolean;
}

/**
 * The registry in the text format, as UTF-8 chunks of up to 256 KB (1 MB when lent), the event loop given back once a
 * slice of SCRAPE_SLICES has passed (`slicer`; its clock also runs while the caller gzips or sends a chunk): the
 * per-target families render their rows in pieces of ~16 K characters, one UTF-8 copy each. Streamed as they come
 * (routes/metrics.ts), the body is never held whole.
 */
export async function* expositionChunks(
  registry: Registry,
  slicer = new TimeSlicer(SCRAPE_SLICES),
  options: ExpositionOptions = {},
): AsyncGenerator<Buffer> {
  const out = new ChunkWriter(options.lendChunks ? LENT_CHUNK_BYTES : CHUNK_BYTES, { lend: options.lendChunks });
  let lines = 0;
  const counted = async (n: number) => {
    lines += n;
    if (lines >= LINES_PER_CHECK) {
      lines = 0;
      await slicer.yieldIfSpent();
    }
  };
  let first = true;
  for (const metric of registry.getMetricsAsArray() as unknown[]) {
    if (!first) out.push('\n\n');
    first = false;
    if (isRenderedFamily(metric)) {
      for (const _rows of metric.writeTo(out)) {
        yield* out.takeFull();
        await slicer.yieldIfSpent();
      }
    } else {
      out.push(await promClientBlock(metric as MetricInternals, counted));
    }
    yield* out.takeFull();
  }
  out.push('\n');
  out.flush();
  yield* out.takeFull();
}

/** The whole exposition as one string (tests, and callers that need the body at once). */
export async function renderExposition(registry: Registry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of expositionChunks(registry)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** One of prom-client's own metrics, from its series. */
async function promClientBlock(metric: MetricInternals, counted: (lines: number) => Promise<void>): Promise<string> {
  const out: string[] = [familyHeader(metric.name, metric.help, metric.type)];
  if (metric.type === 'histogram' && metric.upperBounds && metric.hashMap) {
    if (metric.collect) await metric.collect();
    for (const entry of Object.values(metric.hashMap)) {
      const labels = labelText(entry.labels);
      const suffix = labels ? `,${labels}` : '';
      let acc = 0;
      for (const bound of metric.upperBounds) {
        acc += entry.bucketValues![bound]!;
        out.push(`${metric.name}_bucket{le="${bound}"${suffix}} ${valueText(acc)}`);
      }
      out.push(`${metric.name}_bucket{le="+Inf"${suffix}} ${valueText(entry.count!)}`);
      out.push(`${metric.name}_sum${braces(labels)} ${valueText(entry.sum!)}`);
      out.push(`${metric.name}_count${braces(labels)} ${valueText(entry.count!)}`);
      await counted(metric.upperBounds.length + 3);
    }
  } else {
    // get() runs the metric's collect callback; gauges and counters hand out their own series objects.
    for (const value of (await metric.get()).values) {
      out.push(`${value.metricName ?? metric.name}${braces(value.labels ? labelText(value.labels) : '')} ${valueText(value.value)}`);
      await counted(1);
    }
  }
  return out.join('\n');
}

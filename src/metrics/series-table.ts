// Per-target series kept the way blackbox_exporter and node_exporter keep theirs: plain facts per target, rendered
// into text only while a scrape writes them. Nothing is cached between scrapes: a cached string per target and
// family held the whole body (~2.3 KiB a target) in the old generation, and each result that changed it left the
// old string there for a full collection, so caching cost more memory and more collector time than rendering
// again (measured at 10,000 targets with half the fleet changed between scrapes, bench/metrics.ts).
//
// A family is registered in the prom-client registry as a metric of its own (name, help, type, get()), so the
// registry's order, registry.metrics(), getSingleMetric() and getMetricsAsJSON() keep working; exposition.ts takes
// the fast path (writeTo()).
import type { Registry } from 'prom-client';
import { familyHeader, parseSamples, type ParsedSample } from './text-format.js';

/** One target (or other key): its rendered labels. */
export interface SeriesRow {
  /** `target="a",group="b",role="server"` plus the constant labels, escaped. */
  labels: string;
}

/** Rows by key, in the order they were first set (the order their series are written). */
export class SeriesTable<R extends SeriesRow> {
  readonly rows = new Map<string, R>();
}

/**
 * Rows written between two chances for the caller to look at its clock and give the event loop back (well under
 * a millisecond of work: the caller slices by time, exposition.ts).
 */
const ROWS_PER_CHECK = 100;
/**
 * Characters of rendered rows joined before they are handed to the writer: one UTF-8 copy per piece instead of one
 * per row (a call into the Buffer binding costs about what copying a row does).
 */
const PIECE_CHARS = 16 * 1024;

/** A family whose series are rendered per row: render gives a row's lines, each preceded by "\n", or "". */
export class RenderedFamily<R extends SeriesRow> {
  /** prom-client reads these when it registers and writes the metric. */
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter' | 'histogram',
    private readonly table: SeriesTable<R>,
    private readonly render: (row: R) => string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /**
   * Appends the family's text to `pieces`: its header, then each row's lines, rendered from the row's facts as they
   * are now. Yields every hundred rows so that the caller can give the event loop back once its slice has had its time.
   */
  *writeTo(pieces: { push(text: string): void }): Generator<void> {
    let piece = familyHeader(this.name, this.help, this.type);
    let rows = 0;
    for (const row of this.table.rows.values()) {
      piece += this.render(row);
      if (piece.length >= PIECE_CHARS) {
        pieces.push(piece);
        piece = '';
      }
      if (++rows % ROWS_PER_CHECK === 0) yield;
    }
    if (piece) pieces.push(piece);
  }

  /** prom-client's view (registry.metrics(), getMetricsAsJSON()): the rendered lines read back. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ParsedSample[] }> {
    const values: ParsedSample[] = [];
    for (const row of this.table.rows.values()) values.push(...parseSamples(this.render(row), this.name));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** registry.resetMetrics(): nothing to drop, the text is rendered from the facts at each scrape. */
  reset(): void {}
}

/** Is this registry metric one of the pre-rendered families? */
export function isRenderedFamily(metric: unknown): metric is RenderedFamily<SeriesRow> {
  return metric instanceof RenderedFamily;
}

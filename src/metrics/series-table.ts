// Per-target series kept the way blackbox_exporter and node_exporter keep theirs: plain facts per target, and the
// target's lines of each family rendered once after the facts change (a cached string per target and family,
// dropped by the update that changed it). A scrape joins the cached strings family by family, in slices between
// which the event loop runs, instead of rebuilding ~35 label objects and lines per target as prom-client's gauges
// do (their label sets were also the largest part of the heap at 10,000 targets).
//
// A family is registered in the prom-client registry as a metric of its own (name, help, type, get()), so the
// registry's order, registry.metrics(), getSingleMetric() and getMetricsAsJSON() keep working; exposition.ts takes
// the fast path (chunks()).
import type { Registry } from 'prom-client';
import { familyHeader, parseSamples, type ParsedSample } from './text-format.js';

/** One target (or other key): its rendered labels and the cached text of each family (undefined: to render). */
export interface SeriesRow {
  /** `target="a",group="b",role="server"` plus the constant labels, escaped. */
  labels: string;
  text: (string | undefined)[];
}

/** Rows by key, in the order they were first set (the order their series are written). */
export class SeriesTable<R extends SeriesRow> {
  readonly rows = new Map<string, R>();
  private slots = 0;

  /** A slot in every row's text for a new family. */
  claimSlot(): number {
    return this.slots++;
  }

  /** Drops every cached text of a row (its labels changed). */
  invalidate(row: R): void {
    row.text.fill(undefined);
  }

  newText(): (string | undefined)[] {
    return new Array<string | undefined>(this.slots).fill(undefined);
  }
}

/** Rows written between two yields of a scrape (a few thousand lines; most of them cached). */
const ROWS_PER_SLICE = 1000;

/** A family whose series are rendered per row: render gives a row's lines, each preceded by "\n", or "". */
export class RenderedFamily<R extends SeriesRow> {
  readonly slot: number;
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
    this.slot = table.claimSlot();
    registry.registerMetric(this as never);
  }

  /** The row's values changed: its lines are rendered again at the next scrape. */
  dirty(row: R): void {
    row.text[this.slot] = undefined;
  }

  private textOf(row: R): string {
    let text = row.text[this.slot];
    if (text === undefined) {
      text = row.text[this.slot] = this.render(row);
      // Flattens the string built by concatenation: a flat string takes about half the memory of the rope and is
      // copied into the body twice as fast (measured on Node 20).
      text.charCodeAt(0);
    }
    return text;
  }

  /**
   * Appends the family's text to `pieces`: its header, then each row's cached lines (rendered first where they
   * changed). Yields every thousand rows so that the caller can give the event loop back.
   */
  *writeTo(pieces: { push(text: string): void }): Generator<void> {
    pieces.push(familyHeader(this.name, this.help, this.type));
    let rows = 0;
    for (const row of this.table.rows.values()) {
      const text = this.textOf(row);
      if (text) pieces.push(text);
      if (++rows % ROWS_PER_SLICE === 0) yield;
    }
  }

  /** prom-client's view (registry.metrics(), getMetricsAsJSON()): the rendered lines read back. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ParsedSample[] }> {
    const values: ParsedSample[] = [];
    for (const row of this.table.rows.values()) values.push(...parseSamples(this.textOf(row), this.name));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const row of this.table.rows.values()) this.dirty(row);
  }
}

/** Is this registry metric one of the pre-rendered families? */
export function isRenderedFamily(metric: unknown): metric is RenderedFamily<SeriesRow> {
  return metric instanceof RenderedFamily;
}

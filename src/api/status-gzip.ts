// The gzip of the full status list, kept between versions in runs of entries. At 10,000 targets the list is 9.6 MB
// and a new version comes every second while it is polled, yet each target's entry changes once per probe (every
// 30 s): compressing the whole body again each second wrote 9.6 MB of strings into buffers, deflated them and left
// the buffers to the garbage collector, for ~1/30 of the entries that changed. Here the targets are cut into runs of
// RUN_ENTRIES entries; each run's deflate bytes, CRC-32 and length are kept with the fragments they were made from,
// and a version deflates again only the runs where a fragment changed (plus the head and the tail, which carry
// generated_at and the summary). The pieces are independent deflate blocks (encoding.ts), so they join into one
// gzip member; each run refers back into the entry before it (a preset dictionary), which a reader holds already:
// entries look alike, and a run of a few entries compressed alone shrinks only ~7x instead of ~40x.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TimeSlicer } from '../time-slice.js';
import { deflatePiece, gzipOfPieces, type DeflatedPiece } from './encoding.js';
import { LOOK_SLICE_MS } from './status-cache.js';

/**
 * Entries per run, chosen by measurement at 10,000 targets (bench/status-list.ts; docs/capacity.md): with results
 * landing at random places in the list, fewer entries a run are deflated again each second, but each run costs a
 * call into zlib and compresses a little worse. 8 deflates ~1/4 of the body each second at ~45x.
 */
export const RUN_ENTRIES = 8;

interface Run extends DeflatedPiece {
  /** The fragments it holds and the one before it (its dictionary), compared with the list's current ones. */
  readonly fragments: string[];
  before: string | undefined;
}

/** The full list's runs of deflated entries, by position; a run is deflated again when one of its fragments changed. */
export class GzipRuns {
  private runs: (Run | undefined)[] = [];

  constructor(private readonly runEntries = RUN_ENTRIES) {}

  /**
   * The gzip of `open`, the fragments separated by commas, then `close`: the body status-list.ts assembles, byte for
   * byte. Runs are looked at in slices of about LOOK_SLICE_MS, the event loop given back in between (`pause`); each
   * run is checked and replaced in one go, so two bodies being compressed at once each see whole runs.
   */
  async gzip(open: string, fragments: readonly string[], close: string, pause: () => Promise<unknown> = nextTurn): Promise<Buffer> {
    const count = Math.ceil(fragments.length / this.runEntries);
    if (this.runs.length > count) this.runs.length = count;
    const pieces: DeflatedPiece[] = [deflatePiece(Buffer.from(open, 'utf8'))];
    const slicer = new TimeSlicer(LOOK_SLICE_MS, undefined, pause);
    for (let k = 0; k < count; k++) {
      if (slicer.spent()) await slicer.yield();
      pieces.push(this.run(k, fragments));
    }
    pieces.push(deflatePiece(Buffer.from(close, 'utf8')));
    return gzipOfPieces(pieces);
  }

  /** Runs deflated so far (tests, benches): what a version cost beyond the head and the tail. */
  deflatedRuns = 0;

  private run(k: number, fragments: readonly string[]): Run {
    const from = k * this.runEntries;
    const to = Math.min(fragments.length, from + this.runEntries);
    const before = k > 0 ? fragments[from - 1] : undefined;
    const kept = this.runs[k];
    if (kept && kept.before === before && holds(kept.fragments, fragments, from, to)) {
      kept.before = before;
      return kept;
    }
    const mine = fragments.slice(from, to);
    const text = (k > 0 ? ',' : '') + mine.join(',');
    const made: Run = {
      ...deflatePiece(Buffer.from(text, 'utf8'), before === undefined ? undefined : Buffer.from(before, 'utf8')),
      fragments: mine, before,
    };
    this.runs[k] = made;
    this.deflatedRuns++;
    return made;
  }
}

/**
 * Whether `kept` equals fragments[from, to) (=== on strings: the same object at once, else the same characters).
 * An equal fragment in a new string (an entry presented again after a minute, unchanged) replaces the kept one, so
 * the run never holds a copy of a fragment the list has let go of.
 */
function holds(kept: string[], fragments: readonly string[], from: number, to: number): boolean {
  if (kept.length !== to - from) return false;
  for (let i = from; i < to; i++) if (kept[i - from] !== fragments[i]) return false;
  for (let i = from; i < to; i++) kept[i - from] = fragments[i]!;
  return true;
}

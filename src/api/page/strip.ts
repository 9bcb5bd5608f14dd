// Pure: the per-target latency/availability strip of the status page, from minute rollups and recent raw results.
import type { RollupPoint } from '../../store/store.js';
import { formatLatency } from './format.js';
import { html, type SafeHtml } from './html.js';

export const MINUTE_MS = 60_000;

/** One minute of the strip. probes 0: nothing was probed (or nothing is known) in that minute. */
export interface StripBucket {
  at: number;
  probes: number;
  failures: number;
  /** Null when probes is 0. */
  avgMs: number | null;
  maxMs: number | null;
}

/** What the strip needs of a raw result. */
export interface StripSample {
  at: number;
  ok: boolean;
  durationMs: number;
}

/**
 * One bucket per minute for the `minutes` minutes ending with the one holding `now`, oldest first. Minutes that
 * have a rollup take it; the others (not rolled up yet: the last minute or two) are aggregated from `raw`.
 */
export function minuteStrip(rollups: readonly RollupPoint[], raw: readonly StripSample[], now: number, minutes: number): StripBucket[] {
  const last = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const first = last - (minutes - 1) * MINUTE_MS;
  const byMinute = new Map<number, StripBucket>();
  for (const r of rollups) {
    if (r.at < first || r.at > last) continue;
    byMinute.set(r.at, { at: r.at, probes: r.probes, failures: r.failures, avgMs: r.probes ? r.avgMs : null, maxMs: r.probes ? r.maxMs : null });
  }
  const fromRaw = new Map<number, { probes: number; failures: number; sum: number; max: number }>();
  for (const s of raw) {
    const minute = Math.floor(s.at / MINUTE_MS) * MINUTE_MS;
    if (minute < first || minute > last || byMinute.has(minute)) continue;
    let agg = fromRaw.get(minute);
    if (!agg) fromRaw.set(minute, (agg = { probes: 0, failures: 0, sum: 0, max: 0 }));
    agg.probes++;
    if (!s.ok) agg.failures++;
    agg.sum += s.durationMs;
    agg.max = Math.max(agg.max, s.durationMs);
  }
  for (const [minute, agg] of fromRaw) {
    byMinute.set(minute, { at: minute, probes: agg.probes, failures: agg.failures, avgMs: agg.sum / agg.probes, maxMs: agg.max });
  }
  const buckets: StripBucket[] = [];
  for (let at = first; at <= last; at += MINUTE_MS) {
    buckets.push(byMinute.get(at) ?? { at, probes: 0, failures: 0, avgMs: null, maxMs: null });
  }
  return buckets;
}

export interface StripSummary {
  probes: number;
  failures: number;
  /** Minutes with at least one probe. */
  minutesWithData: number;
  /** Minutes in which every probe failed. */
  minutesDown: number;
  avgMs: number | null;
  maxMs: number | null;
}

export function summarizeStrip(buckets: readonly StripBucket[]): StripSummary {
  let probes = 0;
  let failures = 0;
  let sum = 0;
  let maxMs: number | null = null;
  let minutesWithData = 0;
  let minutesDown = 0;
  for (const b of buckets) {
    if (b.probes === 0) continue;
    minutesWithData++;
    if (b.failures === b.probes) minutesDown++;
    probes += b.probes;
    failures += b.failures;
    sum += (b.avgMs ?? 0) * b.probes;
    maxMs = Math.max(maxMs ?? 0, b.maxMs ?? 0);
  }
  return { probes, failures, minutesWithData, minutesDown, avgMs: probes ? sum / probes : null, maxMs };
}

/** In words, for the strip's accessible name and its caption. */
export function describeStrip(buckets: readonly StripBucket[]): string {
  const s = summarizeStrip(buckets);
  if (s.probes === 0) return `no probes in the last ${buckets.length} minutes`;
  const failed = s.failures === 0 ? 'none failed' : `${s.failures} failed`;
  return `${s.probes} probe${s.probes === 1 ? '' : 's'}, ${failed} · avg ${formatLatency(s.avgMs ?? 0)}, max ${formatLatency(s.maxMs ?? 0)}`;
}

const BAR_WIDTH = 3;
const BAR_STEP = 4;
const HEIGHT = 24;
const MIN_BAR = 3;

/**
 * Inline SVG: one bar per minute. Height: average latency (square-root scale up to the strip's highest
 * average, so one slow minute does not flatten the rest); class: ok, some failed (partial), all failed
 * (full-height bar), no data (the grey baseline only). The page prints the same facts in words next to it.
 */
export function renderStrip(buckets: readonly StripBucket[]): SafeHtml {
  const peak = Math.max(0, ...buckets.map((b) => b.avgMs ?? 0));
  const width = buckets.length * BAR_STEP;
  const bars = buckets.map((b, i) => {
    if (b.probes === 0) return null;
    const x = i * BAR_STEP;
    if (b.failures === b.probes) return html`<rect class="bar failed" x="${x}" y="0" width="${BAR_WIDTH}" height="${HEIGHT}"/>`;
    const scaled = peak > 0 ? Math.sqrt((b.avgMs ?? 0) / peak) : 0;
    const h = Math.max(MIN_BAR, Math.round(scaled * HEIGHT));
    return html`<rect class="bar ${b.failures ? 'partial' : 'ok'}" x="${x}" y="${HEIGHT - h}" width="${BAR_WIDTH}" height="${h}"/>`;
  });
  // Minutes without data show the grey baseline; the words next to the strip carry its meaning for screen readers.
  return html`<svg class="strip" viewBox="0 0 ${width} ${HEIGHT}" width="${width}" height="${HEIGHT}" preserveAspectRatio="none" aria-hidden="true" focusable="false"><title>${describeStrip(buckets)}</title><rect class="bar none" x="0" y="${HEIGHT - 2}" width="${width}" height="2"/>${bars}</svg>`;
}

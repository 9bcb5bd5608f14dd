// Pure rollup maths: raw results -> minute/hour buckets, and which stored data answers an uptime window.
import type { RollupResolution } from './store.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export const BUCKET_MS: Readonly<Record<RollupResolution, number>> = { '1m': MINUTE_MS, '1h': HOUR_MS };

/** What a rollup needs of one raw result. */
export interface RawSample {
  at: number;
  /** 0 = ok. */
  errorKind: number;
  /** 0 counts for uptime; anything else is excluded (maintenance, no verdict yet). */
  excluded: number;
  durationUs: number;
}

/** One bucket of one target. Durations cover every probe in the bucket, ok or failed. */
export interface Bucket {
  /** Start of the bucket, ms. */
  bucket: number;
  probes: number;
  failures: number;
  /** Probes that count for uptime (excluded = 0). */
  counted: number;
  countedFailures: number;
  sumUs: number;
  maxUs: number;
  /** Nearest-rank 95th percentile of the bucket's durations: the smallest value >= 95 % of them. */
  p95Us: number;
}

export function bucketStart(at: number, bucketMs: number): number {
  return Math.floor(at / bucketMs) * bucketMs;
}

export function bucketCeil(at: number, bucketMs: number): number {
  return Math.ceil(at / bucketMs) * bucketMs;
}

/** Nearest-rank percentile of sorted values (ascending): the value at rank ceil(p * n). */
export function nearestRank(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Aggregates samples (any order) into buckets of bucketMs, oldest first. */
export function aggregate(samples: RawSample[], bucketMs: number): Bucket[] {
  const byBucket = new Map<number, RawSample[]>();
  for (const s of samples) {
    const start = bucketStart(s.at, bucketMs);
    let list = byBucket.get(start);
    if (!list) byBucket.set(start, (list = []));
    list.push(s);
  }
  const buckets: Bucket[] = [];
  for (const [bucket, list] of byBucket) {
    const durations = list.map((s) => s.durationUs).sort((a, b) => a - b);
    let failures = 0;
    let counted = 0;
    let countedFailures = 0;
    let sumUs = 0;
    for (const s of list) {
      const failed = s.errorKind !== 0;
      if (failed) failures++;
      if (s.excluded === 0) {
        counted++;
        if (failed) countedFailures++;
      }
      sumUs += s.durationUs;
    }
    buckets.push({
      bucket,
      probes: list.length,
      failures,
      counted,
      countedFailures,
      sumUs,
      maxUs: durations.at(-1) ?? 0,
      p95Us: nearestRank(durations, 0.95),
    });
  }
  return buckets.sort((a, b) => a.bucket - b.bucket);
}

/** A time range [from, to) answered from one kind of stored data. */
export interface Segment {
  source: 'hour' | 'minute' | 'raw';
  from: number;
  /** Exclusive. */
  to: number;
}

/**
 * Which stored data answers [from, to): whole hours already rolled up come from hour rollups, whole minutes
 * already rolled up from minute rollups, and the rest (the partial minute at the start, the tail not rolled
 * up yet) from raw results. The segments do not overlap and cover [from, to) exactly.
 */
export function uptimeSegments(from: number, to: number, minuteRolledUntil: number, hourRolledUntil: number): Segment[] {
  if (to <= from) return [];
  const segments: Segment[] = [];
  const push = (source: Segment['source'], a: number, b: number) => {
    if (b > a) segments.push({ source, from: a, to: b });
  };
  const minuteStart = Math.min(bucketCeil(from, MINUTE_MS), to);
  const minuteEnd = Math.max(minuteStart, Math.min(bucketStart(to, MINUTE_MS), minuteRolledUntil));
  const hourStart = Math.min(Math.max(bucketCeil(from, HOUR_MS), minuteStart), minuteEnd);
  const hourEnd = Math.max(hourStart, Math.min(bucketStart(minuteEnd, HOUR_MS), hourRolledUntil));
  push('raw', from, minuteStart);
  push('minute', minuteStart, hourStart);
  push('hour', hourStart, hourEnd);
  push('minute', hourEnd, minuteEnd);
  push('raw', minuteEnd, to);
  return segments;
}

// ---------------------------------------------------------------------------------------------------------------
// Minute rollups are stored packed, one row per target and hour: 60 entries, each a 0 byte (no probe that minute)
// or seven unsigned LEB128 varints: probes, failures, probes - counted, failures - countedFailures, sumUs, maxUs,
// p95Us. At one probe every 30 s that is ~11 bytes a minute instead of ~30 for a row of its own.

const MINUTES_PER_HOUR = 60;
const VARINTS_PER_MINUTE = 7;
/** The longest packed hour: every minute's seven varints at their longest (8 bytes hold 2^53). */
const MAX_PACKED_BYTES = MINUTES_PER_HOUR * VARINTS_PER_MINUTE * 8;

/** The buckets of one hour by minute (buckets outside [hourStart, hourStart + 1 h) are refused). */
function byMinuteOf(hourStart: number, buckets: readonly Bucket[]): (Bucket | undefined)[] {
  const byMinute = new Array<Bucket | undefined>(MINUTES_PER_HOUR);
  for (const b of buckets) {
    const index = (b.bucket - hourStart) / MINUTE_MS;
    if (!Number.isInteger(index) || index < 0 || index >= MINUTES_PER_HOUR) throw new RangeError(`bucket ${b.bucket} is not a minute of the hour ${hourStart}`);
    byMinute[index] = b;
  }
  return byMinute;
}

/**
 * Packs hours of minute buckets into one reused array, copied out at the end of each hour: a rollup step packs
 * thousands of hours. Each store's housekeeping owns one (its steps never run at the same time).
 */
export class MinutePacker {
  private readonly bytes = new Uint8Array(MAX_PACKED_BYTES);
  private pos = 0;

  /** Packs the minute buckets of one hour (buckets outside [hourStart, hourStart + 1 h) are refused). */
  pack(hourStart: number, buckets: readonly Bucket[]): Buffer {
    const byMinute = byMinuteOf(hourStart, buckets);
    this.pos = 0;
    for (const b of byMinute) this.bucket(b);
    return this.done();
  }

  /**
   * An hour's packed minutes: `fresh` for [windowStart, windowEnd), the `stored` ones (if any) outside it. The
   * same bytes as packing the stored buckets outside the window with the fresh ones, but the stored minutes are
   * copied as they are, never decoded.
   */
  merge(hour: number, stored: Uint8Array | undefined, fresh: readonly Bucket[], windowStart: number, windowEnd: number): Buffer {
    if (!stored) return this.pack(hour, fresh);
    const byMinute = byMinuteOf(hour, fresh);
    const starts = entryStarts(stored);
    this.pos = 0;
    // Stored minutes kept side by side are copied as one run: a minute's rollup keeps ~59 of them per target.
    let runStart = 0;
    let runEnd = 0;
    for (let minute = 0; minute < MINUTES_PER_HOUR; minute++) {
      const at = hour + minute * MINUTE_MS;
      const b = byMinute[minute];
      if (b || (at >= windowStart && at < windowEnd) || starts[minute + 1]! === starts[minute]!) {
        this.copy(stored, runStart, runEnd);
        runStart = runEnd = 0;
        this.bucket(b);
      } else {
        if (runEnd === runStart) runStart = starts[minute]!;
        runEnd = starts[minute + 1]!;
      }
    }
    this.copy(stored, runStart, runEnd);
    return this.done();
  }

  private varint(value: number): void {
    let v = Math.max(0, Math.round(value));
    while (v >= 0x80) {
      this.bytes[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.pos++] = v;
  }

  private bucket(b: Bucket | undefined): void {
    if (!b || b.probes === 0) {
      this.bytes[this.pos++] = 0;
      return;
    }
    this.varint(b.probes);
    this.varint(b.failures);
    this.varint(b.probes - b.counted);
    this.varint(b.failures - b.countedFailures);
    this.varint(b.sumUs);
    this.varint(b.maxUs);
    this.varint(b.p95Us);
  }

  private copy(from: Uint8Array, start: number, end: number): void {
    if (end === start) return;
    this.bytes.set(from.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  private done(): Buffer {
    return Buffer.from(this.bytes.subarray(0, this.pos));
  }
}

/**
 * Where each minute's entry starts in a packed hour: minute m is bytes [starts[m], starts[m + 1]) (none past the
 * end of a short blob: those minutes had no probe).
 */
function entryStarts(blob: Uint8Array): Int32Array {
  const starts = new Int32Array(MINUTES_PER_HOUR + 1);
  let pos = 0;
  for (let minute = 0; minute < MINUTES_PER_HOUR; minute++) {
    starts[minute] = pos;
    if (pos >= blob.length) continue;
    if (blob[pos] === 0) {
      pos++;
      continue;
    }
    for (let v = 0; v < VARINTS_PER_MINUTE; v++) {
      for (;;) {
        if (pos >= blob.length) throw new RangeError('packed minutes are truncated');
        if (blob[pos++]! < 0x80) break;
      }
    }
  }
  starts[MINUTES_PER_HOUR] = pos;
  return starts;
}

/** The minute buckets of one packed hour, oldest first (minutes without probes are left out). */
export function unpackMinutes(hourStart: number, blob: Uint8Array): Bucket[] {
  const buckets: Bucket[] = [];
  let pos = 0;
  const read = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= blob.length) throw new RangeError('packed minutes are truncated');
      const byte = blob[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  for (let minute = 0; minute < MINUTES_PER_HOUR && pos < blob.length; minute++) {
    const probes = read();
    if (probes === 0) continue;
    const failures = read();
    const uncounted = read();
    const uncountedFailures = read();
    buckets.push({
      bucket: hourStart + minute * MINUTE_MS,
      probes,
      failures,
      counted: probes - uncounted,
      countedFailures: failures - uncountedFailures,
      sumUs: read(),
      maxUs: read(),
      p95Us: read(),
    });
  }
  return buckets;
}

/** Minute buckets grouped by the hour they are packed in. */
export function minutesByHour(buckets: readonly Bucket[]): Map<number, Bucket[]> {
  const byHour = new Map<number, Bucket[]>();
  for (const b of buckets) {
    const hour = bucketStart(b.bucket, HOUR_MS);
    let list = byHour.get(hour);
    if (!list) byHour.set(hour, (list = []));
    list.push(b);
  }
  return byHour;
}

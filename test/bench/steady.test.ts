import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlScrape } from '../../bench/lib/api-load.js';
import { histogramIncrease, lagByWindow, lagDuring, MEMORY_METRICS, memoryReading, slopePerHour, summarizeScrapes } from '../../bench/lib/steady.js';
import { histogramQuantile, parseMetrics } from '../../bench/lib/stats.js';

// Real /metrics of sstpwatch (1,000 targets, the steady bench's service) 90 s apart: prom-client's process and
// Node.js series as they open the body, then the lines around the scheduler's lag histogram near its end.
const exposition = (name: string) => readFileSync(new URL(`./metrics-output/${name}.txt`, import.meta.url), 'utf8');

describe('memoryReading takes the heap gauges from the service\'s own metrics', () => {
  it.each([
    { name: 'early', heapUsedBytes: 40053960, heapTotalBytes: 55738368, externalBytes: 4914704, rssBytes: 120807424 },
    { name: 'late', heapUsedBytes: 40740624, heapTotalBytes: 59408384, externalBytes: 3350528, rssBytes: 126545920 },
  ])('$name: heap used $heapUsedBytes of $heapTotalBytes, not a heap space\'s figure', ({ name, ...expected }) => {
    expect(memoryReading(parseMetrics(exposition(name)))).toEqual(expected);
  });

  it('has no reading from a service that exports no process metrics', () => {
    expect(memoryReading(parseMetrics('sstp_target_up{target="a",group="g",role="server"} 1\n'))).toBeNull();
  });
});

describe('histogramIncrease gives the lag histogram of the probes between two scrapes', () => {
  const increase = histogramIncrease(parseMetrics(exposition('late')), parseMetrics(exposition('early')), 'sstpwatch_scheduler_lag_seconds');

  it('subtracts bucket by bucket, and the count', () => {
    const bucket = (le: string) => increase.find((s) => s.name === 'sstpwatch_scheduler_lag_seconds_bucket' && s.labels.le === le)?.value;
    expect([bucket('0.001'), bucket('0.05'), bucket('+Inf')]).toEqual([1677 - 593, 2046 - 757, 2077 - 780]);
    expect(increase.find((s) => s.name === 'sstpwatch_scheduler_lag_seconds_count')?.value).toBe(1297);
  });

  it.each([
    // rank 648.5 of the 1,084 probes under 1 ms
    { q: 0.5, seconds: (0.001 * 648.5) / 1084 },
    // rank 1284.03 between 1,272 (<= 25 ms) and 1,289 (<= 50 ms)
    { q: 0.99, seconds: 0.025 + (0.025 * (1284.03 - 1272)) / (1289 - 1272) },
  ])('quantile $q over the increase: $seconds s', ({ q, seconds }) => {
    expect(histogramQuantile(increase, 'sstpwatch_scheduler_lag_seconds', q)).toBeCloseTo(seconds, 9);
  });

  it('leaves the other families out', () => {
    expect(increase.every((s) => s.name.startsWith('sstpwatch_scheduler_lag_seconds_'))).toBe(true);
  });
});

describe('summarizeScrapes', () => {
  const ok = (ms: number, bytes = 100) => ({ ms, bytes, failed: false });
  it.each([
    { what: 'no scrapes', scrapes: [], count: 0, failures: 0, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, over1s: 0, bodyBytes: { min: NaN, max: NaN } },
    { what: 'ten under a second', scrapes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => ok(i * 90, 1000 + i)), count: 10, failures: 0, p50Ms: 450, p90Ms: 810, p99Ms: 900, maxMs: 900, over1s: 0, bodyBytes: { min: 1001, max: 1010 } },
    { what: 'a slow one and a timeout (its wall time counts, its size does not)', scrapes: [ok(400), ok(1200), { ms: 10_003, bytes: NaN, failed: true }], count: 3, failures: 1, p50Ms: 1200, maxMs: 10_003, over1s: 2, bodyBytes: { min: 100, max: 100 } },
  ])('$what', ({ what: _, scrapes, ...expected }) => {
    expect(summarizeScrapes(scrapes)).toMatchObject(expected);
  });
});

describe('lagDuring keeps the probes started during a scrape or within the slack after it', () => {
  const lag = [900, 1000, 1500, 2000, 2400, 2600, 5000, 5200, 9000].map((at) => ({ at, seconds: at / 10_000 }));
  it.each([
    { what: 'one window, no slack', windows: [{ from: 1000, to: 2000 }], slackMs: 0, at: [1000, 1500, 2000] },
    { what: 'one window, 500 ms slack', windows: [{ from: 1000, to: 2000 }], slackMs: 500, at: [1000, 1500, 2000, 2400] },
    { what: 'two windows', windows: [{ from: 1000, to: 1200 }, { from: 5000, to: 5100 }], slackMs: 200, at: [1000, 5000, 5200] },
    { what: 'windows overlapping through their slack', windows: [{ from: 2000, to: 2400 }, { from: 2500, to: 2600 }], slackMs: 200, at: [2000, 2400, 2600] },
    { what: 'no windows', windows: [], slackMs: 1000, at: [] },
  ])('$what', ({ windows, slackMs, at }) => {
    expect(lagDuring(lag, windows, slackMs).map((s) => s.at)).toEqual(at);
  });
});

describe('lagByWindow splits the lag after the warm-up into stretches of the run', () => {
  it('gives each stretch its own percentiles and leaves out what came before the warm-up ended', () => {
    const samples = [
      { at: 500, seconds: 9 }, // before the warm-up ended
      ...Array.from({ length: 100 }, (_, i) => ({ at: 1_000 + i, seconds: 0.01 })),
      ...Array.from({ length: 100 }, (_, i) => ({ at: 61_000 + i, seconds: i === 99 ? 3 : 0.02 })),
    ];
    const windows = lagByWindow(samples, 1_000, 60_000);
    expect(windows.map((w) => [w.fromMin, w.toMin, w.samples, w.p50, w.max])).toEqual([
      [0, 1, 100, 0.01, 0.01],
      [1, 2, 100, 0.02, 3],
    ]);
  });

  it('has no stretch without samples', () => {
    expect(lagByWindow([{ at: 0, seconds: 1 }], 10, 60_000)).toEqual([]);
  });
});

describe('slopePerHour', () => {
  it.each([
    { what: 'flat', points: [[0, 200], [30, 200], [60, 200]], slope: 0 },
    { what: '1 MiB a minute', points: [[0, 200], [60, 201], [120, 202]], slope: 60 },
    { what: 'a saw-tooth that ends where it began', points: [[0, 10], [30, 20], [60, 10], [90, 20], [120, 10]], slope: 0 },
    { what: 'a single point', points: [[0, 200]], slope: NaN },
  ] as { what: string; points: [number, number][]; slope: number }[])('$what: $slope MiB per hour', ({ points, slope }) => {
    if (Number.isNaN(slope)) expect(slopePerHour(points)).toBeNaN();
    else expect(slopePerHour(points)).toBeCloseTo(slope, 9);
  });
});

describe('curlScrape with keepMetrics: curl into grep, as the steady run reads the heap', () => {
  let server: Server;
  let base = '';
  const body = exposition('late');
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/broken') return res.writeHead(500).end('no');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-encoding': 'gzip' }).end(gzipSync(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('returns only the sample lines of the metrics asked for, and the gzipped size and timing of the whole body', async () => {
    const scrape = await curlScrape(`${base}/metrics`, true, { keepMetrics: MEMORY_METRICS });
    expect(scrape).toMatchObject({ bytes: gzipSync(body).length, encoding: 'gzip' });
    expect(scrape.ms).toBeGreaterThanOrEqual(0);
    const kept = body.split('\n').filter((l) => MEMORY_METRICS.some((m) => l.startsWith(`${m} `) || l.startsWith(`${m}{`)));
    expect(kept).toHaveLength(4 + 12 + 2);
    expect(scrape.lines).toEqual(kept);
    expect(memoryReading(parseMetrics(scrape.lines!.join('\n')))?.heapUsedBytes).toBe(40740624);
  });

  it('reads no lines when none were asked for', async () => {
    expect((await curlScrape(`${base}/metrics`, true)).lines).toBeUndefined();
  });

  it('fails a scrape answered with an error, whatever grep found', async () => {
    await expect(curlScrape(`${base}/broken`, true, { keepMetrics: MEMORY_METRICS })).rejects.toThrow(/HTTP 500/);
  });
});

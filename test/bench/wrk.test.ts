import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWrk, socketErrorCount } from '../../bench/lib/wrk.js';

// Real `wrk -t1 -c4 -d<N>s --latency` output (Debian's wrk 4.1.0) against a node:http server on loopback: a
// 0.47 MB body, a 404, answers after 1.5 s (once with --timeout 1s), a server that resets every connection, and a
// run without --latency.
const sample = (name: string) => readFileSync(new URL(`./wrk-output/${name}.txt`, import.meta.url), 'utf8');

describe('parseWrk reads what wrk --latency printed', () => {
  it.each([
    { name: 'big', requests: 4915, seconds: 2.01, p50Ms: 0.95, p99Ms: 11.08, maxMs: 29.87, non2xx: 0, errors: 0, bytesRead: 2.15 * 1024 ** 3 },
    { name: 'missing', requests: 35521, seconds: 2, p50Ms: 0.151, p99Ms: 12.87, maxMs: 26.86, non2xx: 35521, errors: 0, bytesRead: 4.44 * 1024 ** 2 },
    { name: 'slow', requests: 8, seconds: 3.05, p50Ms: 1500, p99Ms: 1500, maxMs: 1500, non2xx: 0, errors: 0, bytesRead: 0.97 * 1024 },
    // Every request outlived --timeout: wrk counts them but leaves them out of its histogram (it prints zeros).
    { name: 'timeout', requests: 8, seconds: 4.01, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, non2xx: 0, errors: 8, bytesRead: 0.97 * 1024 },
    { name: 'reset', requests: 0, seconds: 2, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, non2xx: 0, errors: 9012, bytesRead: 0 },
  ])('$name: $requests requests, p50 $p50Ms ms, p99 $p99Ms ms, $non2xx non-2xx, $errors socket errors', ({ name, errors, bytesRead, ...expected }) => {
    const r = parseWrk(sample(name));
    expect(r).toMatchObject(expected);
    expect(r.bytesRead).toBe(Math.round(bytesRead));
    expect(socketErrorCount(r)).toBe(errors);
  });

  it('says which part is missing when --latency was not given, instead of reporting no percentiles', () => {
    expect(() => parseWrk(sample('nolatency'))).toThrow(/no 50% line in its output \(was --latency given\?\)/);
  });

  it('refuses output that is not wrk\'s', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/no request count/);
  });
});

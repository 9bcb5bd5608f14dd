// The API under load while sstpwatch probes (issue goals: /api/v1/status p99 < 50 ms with 4 connections and the
// scheduler's lag p99 < 1 s meanwhile; /metrics < 1 s with the lag p99 < 1 s while it is scraped every 15 s).
// Each phase returns its time window; fleet.ts reads the scheduler's lag log over it.
// Status phases are measured with wrk (wrk.ts: a C client, as the scrapes use curl): autocannon parses each body in
// JavaScript and was itself the bound on a 0.47 MB body. One autocannon row stays beside the gzipped list's, so
// results before and after the change of client can be read together.
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { BenchReport, LagFigures } from './report.js';
import { forkTs, sleep } from './proc.js';
import { requireWrk, runWrk, socketErrorCount } from './wrk.js';

interface AutocannonResult {
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
  throughput: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; timeout?: number; headers?: Record<string, string> }) => Promise<AutocannonResult>;
const execFileAsync = promisify(execFile);
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadPhase {
  name: string;
  from: number;
  to: number;
  /** The scheduler's lag over the phase (filled by fleet.ts from the lag log). */
  lag?: LagFigures;
}

/** wrk: C, HdrHistogram of every request. autocannon: JavaScript (http-parser-js), the client of results before. */
export type LoadClient = 'wrk' | 'autocannon';

export interface StatusLoad extends LoadPhase {
  /** The path asked for; `fixed` is the control server's, not sstpwatch's. */
  path: string;
  client?: LoadClient;
  /** A bare node:http server sending a fixed Buffer of the gzipped list's bytes (fixed-body-server.ts). */
  fixed?: boolean;
  connections: number;
  gzip: boolean;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  /** Bytes of one body as sent (gzipped when `gzip`). */
  bodyBytes: number;
}

/** One body as the server sent it: raw bytes, never decoded (fetch would gunzip it), and its Content-Encoding. */
function rawBody(url: string, gzip: boolean): Promise<{ body: Buffer; encoding: string }> {
  return new Promise((resolve, reject) => {
    // A connection of its own (agent: false): a kept-alive one, idle while wrk ran, may be closed by the server
    // (keepAliveTimeout) just as it is reused, and the request dies with "socket hang up".
    const request = get(url, { agent: false, headers: { 'accept-encoding': gzip ? 'gzip' : 'identity' }, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject);
      res.on('end', () => resolve({ body: Buffer.concat(chunks), encoding: String(res.headers['content-encoding'] ?? 'identity') }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer in 60 s`))).on('error', reject);
  });
}

function phaseName(path: string, gzip: boolean, connections: number, client: LoadClient): string {
  const coding = gzip ? ' (gzip, as clients ask)' : path === '/api/v1/status' ? ' (identity: no Accept-Encoding)' : '';
  return `${path}${coding}, ${connections} connection${connections === 1 ? '' : 's'}, ${client === 'wrk' ? 'wrk' : 'autocannon (JavaScript client)'}`;
}

/** `client` with `connections` on `url` for `seconds` while probing goes on. */
async function loadOf(client: LoadClient, url: string, seconds: number, connections: number, gzip: boolean) {
  // autocannon sends no Accept-Encoding unless told; neither does wrk.
  const headers = gzip ? { 'accept-encoding': 'gzip' } : undefined;
  if (client === 'wrk') {
    // 2 s of the same load first: the phase measures the endpoint in use (its one request before it is not enough).
    const r = await runWrk(url, { seconds, warmupS: 2, connections, headers });
    return { requests: r.requests, p50Ms: r.p50Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, non2xx: r.non2xx, errors: socketErrorCount(r) };
  }
  const r = await autocannon({ url, connections, duration: seconds, timeout: 30, headers });
  return { requests: r.requests.total, p50Ms: r.latency.p50, p99Ms: r.latency.p99, maxMs: r.latency.max, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

/** `path` of sstpwatch under `client` with `connections` for `seconds` while probing goes on. */
export async function statusLoad(baseUrl: string, path: string, seconds: number, connections = 4, gzip = false, client: LoadClient = 'wrk'): Promise<StatusLoad> {
  // One request first: the body's size as sent. One that fails (a starved machine) is an error of the phase, not
  // the end of the run.
  const first = await rawBody(baseUrl + path, gzip).catch((err: unknown) => err as Error);
  const from = Date.now();
  const r = await loadOf(client, baseUrl + path, seconds, connections, gzip);
  const failed = first instanceof Error ? `; its first request failed: ${first.message}` : '';
  return {
    name: phaseName(path, gzip, connections, client) + failed, path, client, connections, gzip, from, to: Date.now(), ...r,
    errors: r.errors + (failed ? 1 : 0), bodyBytes: first instanceof Error ? NaN : first.body.length,
  };
}

/**
 * The floor: a bare node:http server (its own process, loopback) sending the bytes sstpwatch just sent for the
 * gzipped list, measured with `client` for `seconds` while sstpwatch goes on probing.
 */
export async function fixedBodyLoad(baseUrl: string, seconds: number, connections = 4, client: LoadClient = 'wrk'): Promise<StatusLoad> {
  const got = await rawBody(`${baseUrl}/api/v1/status`, true).catch((err: unknown) => err as Error);
  if (got instanceof Error) {
    const at = Date.now();
    return { name: `control: a bare node:http server (not run: the list's body could not be fetched: ${got.message})`, path: 'fixed', fixed: true, client, connections, gzip: true, from: at, to: at, requests: 0, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, non2xx: 0, errors: 1, bodyBytes: NaN };
  }
  const { body, encoding } = got;
  const server = forkTs(fileURLToPath(new URL('./fixed-body-server.ts', import.meta.url)));
  try {
    const { port } = await server.request<{ port: number }>({ type: 'start', body: body.toString('base64') }, 'ready');
    const from = Date.now();
    const r = await loadOf(client, `http://127.0.0.1:${port}/`, seconds, connections, true);
    const what = `control: a bare node:http server sending a fixed ${(body.length / 1e6).toFixed(2)} MB Buffer (the list's ${encoding} bytes)`;
    return { name: `${what}, ${connections} connections, ${client === 'wrk' ? 'wrk' : 'autocannon (JavaScript client)'}`, path: 'fixed', fixed: true, client, connections, gzip: true, from, to: Date.now(), ...r, bodyBytes: body.length };
  } finally {
    await server.stop();
  }
}

/** One GET /metrics as curl saw it (a C client, as Prometheus' Go one: no JavaScript parsing the body). */
export interface Scrape {
  /** curl's time_total: request sent to the last byte received (and, for gzip, decompressed). */
  ms: number;
  /** Bytes received: the compressed body when it came gzipped. */
  bytes: number;
  /** Content-Encoding of the answer (an older sstpwatch sends identity to everyone). */
  encoding: string;
}

export interface ScrapeLoad extends LoadPhase {
  everyS: number;
  /** With `Accept-Encoding: gzip`, as Prometheus scrapes. */
  gzip: Scrape[];
  /** Without Accept-Encoding (curl, wget, a browser's view-source). */
  identity: Scrape[];
}

export interface ApiLoadFigures {
  status: StatusLoad[];
  scrape?: ScrapeLoad;
  /** CPU of gzip level 1 on the full list body, measured here (the same zlib sstpwatch uses). */
  statusGzipCpuMs?: number;
}

export interface CurlScrapeOptions {
  /** curl's --max-time, seconds (default 60; Prometheus' own scrape_timeout defaults to 10). */
  timeoutS?: number;
  /**
   * Metric names whose sample lines to keep from the (decoded) body. The body goes from curl straight into grep,
   * two C programs: the bench process never holds or parses the tens of MB of a large fleet's exposition.
   */
  keepMetrics?: readonly string[];
}

/** One scrape, and the sample lines of `keepMetrics` when asked for. */
export interface FilteredScrape extends Scrape {
  lines?: string[];
}

/** GET /metrics with curl, gzipped as Prometheus asks for it or as it is. */
export async function curlScrape(url: string, gzip: boolean, opts: CurlScrapeOptions = {}): Promise<FilteredScrape> {
  const format = '%{http_code} %{time_total} %{size_download} %header{content-encoding}';
  const args = ['-sS', '--max-time', String(opts.timeoutS ?? 60)];
  // Prometheus 2.42 sends exactly this header (scrape.go: acceptEncodingHeader); --compressed makes curl decode it.
  if (gzip) args.push('-H', 'Accept-Encoding: gzip', '--compressed');
  let report: string;
  let lines: string[] | undefined;
  if (opts.keepMetrics) {
    // The body to stdout and into grep; curl's figures to stderr. pipefail: a failed curl fails the scrape, while
    // grep finding nothing (exit 1) does not.
    const pattern = `^(${opts.keepMetrics.join('|')})[ {]`;
    const script = 'set -o pipefail; curl "$@" | { grep -E -- "$SCRAPE_PATTERN"; true; }';
    const { stdout, stderr } = await execFileAsync('bash', ['-c', script, 'curl', ...args, '-o', '-', '-w', `%{stderr}${format}`, url], {
      env: { ...process.env, SCRAPE_PATTERN: pattern },
      maxBuffer: 16 * 1024 * 1024,
    });
    report = stderr;
    lines = stdout.split('\n').filter(Boolean);
  } else {
    report = (await execFileAsync('curl', [...args, '-o', '/dev/null', '-w', format, url])).stdout;
  }
  const [code, seconds, bytes, encoding] = report.trim().split(' ');
  if (code !== '200') throw new Error(`curl ${url}: HTTP ${code}`);
  return { ms: Math.round(Number(seconds) * 1000), bytes: Number(bytes), encoding: encoding || 'identity', ...(lines ? { lines } : {}) };
}

/**
 * GET /metrics every `everyS` seconds for `seconds`, as a Prometheus would (gzip), each followed by one without gzip.
 * Timed by curl: the bench's own fetch() spends as long reading a 34 MB text as sstpwatch takes to send it.
 */
export async function scrapeLoad(baseUrl: string, seconds: number, everyS = 15): Promise<ScrapeLoad> {
  const from = Date.now();
  const gzip: Scrape[] = [];
  const identity: Scrape[] = [];
  while (Date.now() - from < seconds * 1000) {
    const started = performance.now();
    gzip.push(await curlScrape(`${baseUrl}/metrics`, true));
    identity.push(await curlScrape(`${baseUrl}/metrics`, false));
    const wait = everyS * 1000 - (performance.now() - started);
    if (Date.now() - from + wait >= seconds * 1000) break;
    await sleep(Math.max(0, wait));
  }
  return { name: `/metrics every ${everyS} s (curl: gzip, then identity)`, everyS, from, to: Date.now(), gzip, identity };
}

/** CPU (this process) of compressing the full list once at level 1, as sstpwatch does per version. */
export async function gzipCost(baseUrl: string): Promise<number> {
  const body = Buffer.from(await (await fetch(`${baseUrl}/api/v1/status`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
  const before = process.cpuUsage();
  for (let i = 0; i < 5; i++) gzipSync(body, { level: 1 });
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / 1000 / 5);
}

/** The phases a benchmark run goes through: full list gzipped, full list identity, filtered list, the status page, then scrapes. */
export async function apiLoad(
  baseUrl: string,
  opts: { seconds: number; scrapeS: number; filter: string; /** Wraps each phase (fleet.ts: the peak RSS of each). */ phase?: <T>(name: string, run: () => Promise<T>) => Promise<T> },
): Promise<ApiLoadFigures> {
  const phase = opts.phase ?? ((_name, run) => run());
  // --api-load 0 with --scrapes: the scrapes alone. Without wrk the run stops here, saying what to install.
  if (opts.seconds > 0) requireWrk();
  const status = opts.seconds > 0 ? [
    // gzip first: the figure of the goal, what clients send (browsers, Grafana, curl --compressed, requests, fetch).
    await phase('status list gzip', () => statusLoad(baseUrl, '/api/v1/status', opts.seconds, 4, true)),
    // The floor for that body: the same bytes from a bare server, the same client, the same probing going on.
    await phase('control: fixed buffer', () => fixedBodyLoad(baseUrl, opts.seconds)),
    // The control: the same 4 connections on a trivial endpoint under the same probing. What it shows (its p99, the
    // lag meanwhile) is the service's turn of the event loop, not the list's.
    await phase('control /healthz', () => statusLoad(baseUrl, '/healthz', opts.seconds, 4)),
    await phase('status list identity, 4 connections', () => statusLoad(baseUrl, '/api/v1/status', opts.seconds)),
    await phase(`status list ?${opts.filter}`, () => statusLoad(baseUrl, `/api/v1/status?${opts.filter}`, opts.seconds)),
    // The status page: bounded to 200 targets and 200 groups a page whatever the fleet (docs/status-page.md).
    await phase('status page', () => statusLoad(baseUrl, '/', opts.seconds, 1)),
    // The gzipped list with the client of results before (parsing in JavaScript): reads older reports beside these.
    await phase('status list gzip, autocannon', () => statusLoad(baseUrl, '/api/v1/status', opts.seconds, 4, true, 'autocannon')),
  ] : [];
  const statusGzipCpuMs = opts.seconds <= 0 ? undefined : await phase('status list once (gzip cost)', () => gzipCost(baseUrl));
  const scrape = opts.scrapeS > 0 ? await phase('/metrics every 15 s', () => scrapeLoad(baseUrl, opts.scrapeS)) : undefined;
  return { status, scrape, statusGzipCpuMs };
}

const ms = (v: number | undefined) => (v === undefined ? '' : `${Math.round(v)} ms`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** The markdown table of every size's API load. */
export function renderApiLoad(report: BenchReport): string {
  const rows: string[] = [];
  for (const size of report.sizes) {
    for (const [system, f] of Object.entries(size.systems)) {
      const load = f?.apiLoad;
      if (!load) continue;
      for (const s of load.status) {
        rows.push(`| ${size.targets} | ${system} | ${s.name} | ${s.requests} | ${ms(s.p50Ms)} / ${ms(s.p99Ms)} / ${ms(s.maxMs)} | ${mb(s.bodyBytes)} | ${s.non2xx + s.errors} | ${ms((s.lag?.p99 ?? NaN) * 1000)} / ${ms((s.lag?.max ?? NaN) * 1000)} |`);
      }
      if (load.scrape) {
        const lag = `${ms((load.scrape.lag?.p99 ?? NaN) * 1000)} / ${ms((load.scrape.lag?.max ?? NaN) * 1000)}`;
        for (const [coding, scrapes] of [['gzip', load.scrape.gzip], ['identity', load.scrape.identity]] as const) {
          const times = scrapes.map((x) => ms(x.ms)).join(', ');
          const last = scrapes.at(-1);
          const got = last && last.encoding !== coding ? ` (sent ${last.encoding})` : '';
          rows.push(`| ${size.targets} | ${system} | ${load.scrape.name}: ${coding} asked${got} | ${scrapes.length} | ${times} | ${mb(last?.bytes ?? 0)} | | ${lag} |`);
        }
      }
      if (load.statusGzipCpuMs !== undefined) rows.push(`| ${size.targets} | ${system} | gzip level 1 of the full list (CPU once per version) | | ${ms(load.statusGzipCpuMs)} | | | |`);
    }
  }
  if (!rows.length) return '';
  return [
    '## API under load while probing',
    '',
    '| N | system | phase | requests | p50 / p99 / max (scrapes: each) | body | errors | scheduler lag p99 / max |',
    '|---:|---|---|---:|---|---:|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

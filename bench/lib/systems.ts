// The systems under test: the real sstpwatch (bin/sstpwatch.js, child process) and Debian's blackbox_exporter,
// each with a generated config for N targets spread over the fake fleet's ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from './proc.js';

export const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';
export const BENCH_HOSTNAME = 'vpn.bench.test';
const BIN = fileURLToPath(new URL('../../bin/sstpwatch.js', import.meta.url));
export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';

export interface Fleet {
  /** Target i is served on ports[i % ports.length]. */
  ports: number[];
  caFile: string;
}

export function targetPort(fleet: Fleet, i: number): number {
  return fleet.ports[i % fleet.ports.length]!;
}

export const DEFAULT_GROUP_SIZE = 10;

export interface SstpwatchConfigOptions {
  port: number;
  database: string;
  intervalS: number;
  /** Servers per group (default 10): the cost of a result must not grow with it. */
  groupSize?: number;
  /** The config's retention section, e.g. { raw: '5m', minute: '10m', hour: '20m' }; absent: the built-in one. */
  retention?: Record<'raw' | 'minute' | 'hour', string>;
}

/** sstpwatch's config: N targets in groups (of 10 by default) sharing the public name, every `intervalS` seconds. */
export function sstpwatchConfig(n: number, fleet: Fleet, opts: SstpwatchConfigOptions): string {
  const groupSize = opts.groupSize ?? DEFAULT_GROUP_SIZE;
  const lines = [
    `listen: "127.0.0.1:${opts.port}"`,
    `database: ${JSON.stringify(opts.database)}`,
    'auth: { token_env: null }',
    'defaults:',
    `  interval: ${opts.intervalS}s`,
    '  timeout: 5s',
    `  tls: { verify: true, ca_file: ${JSON.stringify(fleet.caFile)} }`,
    ...(opts.retention ? [`retention: { raw: ${opts.retention.raw}, minute: ${opts.retention.minute}, hour: ${opts.retention.hour} }`] : []),
    'groups:',
  ];
  for (let g = 0; g * groupSize < n; g++) {
    lines.push(`  - name: g${String(g).padStart(4, '0')}`, `    hostname: ${BENCH_HOSTNAME}`, '    servers:');
    for (let i = g * groupSize; i < Math.min(n, (g + 1) * groupSize); i++) {
      lines.push(`      - { name: t${String(i).padStart(5, '0')}, url: "https://127.0.0.1:${targetPort(fleet, i)}" }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface RunningProcess {
  pid: number;
  baseUrl: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after killAfterMs; resolves with the exit code. */
  stop(killAfterMs?: number): Promise<number | null>;
}

async function stopChild(child: ChildProcess, killAfterMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(no output)';
  }
}

async function waitUntilAnswering(child: ChildProcess, url: string, what: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${tail(logFile)}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(5000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stopChild(child, 5000);
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s; see ${logFile}`);
}

/**
 * NODE_OPTIONS as the systemd unit beside `bin` sets it (deploy/systemd/sstpwatch.service; the image and the Windows
 * service set the same), so that the service is measured as installed; '' when that checkout's unit sets none.
 */
export function installedNodeOptions(bin: string = BIN): string {
  const unit = join(dirname(dirname(bin)), 'deploy', 'systemd', 'sstpwatch.service');
  if (!existsSync(unit)) return '';
  return /^Environment=NODE_OPTIONS=(.*)$/m.exec(readFileSync(unit, 'utf8'))?.[1]?.trim() ?? '';
}

/** Starts the real sstpwatch (node bin/sstpwatch.js serve) as its systemd unit would, with the raw lag log hook on. */
export async function startSstpwatch(
  dir: string,
  n: number,
  fleet: Fleet,
  intervalS: number,
  opts: { nodeArgs?: string[]; bin?: string; /** Default: installedNodeOptions(bin). */ nodeOptions?: string; /** A PostgreSQL URL; default: an SQLite file in `dir`. */ database?: string } & Pick<SstpwatchConfigOptions, 'groupSize' | 'retention'> = {},
): Promise<RunningProcess & { lagLog: string; database: string }> {
  const port = await freePort();
  const database = opts.database ?? join(dir, 'sstpwatch.db');
  const lagLog = join(dir, 'lag.log');
  const configPath = join(dir, 'sstpwatch.yml');
  writeFileSync(configPath, sstpwatchConfig(n, fleet, { port, database, intervalS, groupSize: opts.groupSize, retention: opts.retention }));
  const logFile = join(dir, 'sstpwatch.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.bin ?? BIN, 'serve', '--config', configPath], {
    env: { ...process.env, NODE_OPTIONS: opts.nodeOptions ?? installedNodeOptions(opts.bin ?? BIN), SSTPWATCH_LOG_LEVEL: 'info', SSTPWATCH_BENCH_LAG_LOG: lagLog },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(child, `${baseUrl}/healthz`, 'sstpwatch', logFile, 120_000);
  return { pid: child.pid!, baseUrl, child, lagLog, database, stop: (ms = 30_000) => stopChild(child, ms) };
}

/** blackbox_exporter's module for the SSTP health check, as an admin would write it. */
export function blackboxConfig(caFile: string): string {
  return `modules:
  sstp:
    prober: http
    timeout: 5s
    http:
      method: HEAD
      valid_status_codes: [401]
      valid_http_versions: ["HTTP/1.1"]
      fail_if_not_ssl: true
      no_follow_redirects: true
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      headers:
        Host: ${BENCH_HOSTNAME}
      tls_config:
        ca_file: ${JSON.stringify(caFile)}
        server_name: ${BENCH_HOSTNAME}
`;
}

/** Throws, naming the package, when blackbox_exporter is not installed. */
export function requireBlackbox(): void {
  if (!existsSync(BLACKBOX)) throw new Error(`${BLACKBOX} not found: install the Debian package prometheus-blackbox-exporter`);
}

export async function startBlackbox(dir: string, caFile: string): Promise<RunningProcess> {
  requireBlackbox();
  const port = await freePort();
  const configPath = join(dir, 'blackbox.yml');
  writeFileSync(configPath, blackboxConfig(caFile));
  const logFile = join(dir, 'blackbox.log');
  const log = createWriteStream(logFile);
  const child = spawn(BLACKBOX, [`--config.file=${configPath}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(child, `${baseUrl}/-/healthy`, 'blackbox_exporter', logFile, 30_000);
  return { pid: child.pid!, baseUrl, child, stop: (ms = 10_000) => stopChild(child, ms) };
}

// autocannon ships no types; this is the part of its result the benchmark reads.
interface AutocannonResult {
  latency: { p50: number; p99: number; max: number; average: number };
  requests: { total: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; timeout?: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface EndpointLatency {
  path: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  /** The first request alone (before autocannon): it may pay one-time costs such as compiling a serializer. */
  firstMs: number;
  bytes: number;
}

/** One request, then autocannon against the endpoint: one connection (a dashboard or a scraper), `seconds` long. */
export async function endpointLatency(baseUrl: string, path: string, seconds: number): Promise<EndpointLatency> {
  const started = performance.now();
  // A first request that fails (a starved machine, a closed connection) is counted as an error, not the run's end.
  const body = await fetch(baseUrl + path, { signal: AbortSignal.timeout(60_000) })
    .then((response) => response.arrayBuffer())
    .catch(() => undefined);
  const firstMs = body ? Math.round(performance.now() - started) : NaN;
  const r = await autocannon({ url: baseUrl + path, connections: 1, duration: seconds, timeout: 30 });
  return {
    path, requests: r.requests.total, p50Ms: r.latency.p50, p99Ms: r.latency.p99, maxMs: r.latency.max,
    non2xx: r.non2xx, errors: r.errors + r.timeouts + (body ? 0 : 1), firstMs, bytes: body?.byteLength ?? 0,
  };
}

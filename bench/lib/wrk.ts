// HTTP load with wrk (Debian package `wrk`), a C client: what a request costs the server, not what parsing its
// body costs the client. autocannon parses every response in JavaScript (http-parser-js): against a bare node:http
// server sending a fixed 0.47 MB buffer it measured p99 140-183 ms at ~41 MB/s, where wrk measured p99 28-48 ms at
// ~1,200 requests/s on the same loaded machine, the server handing each body to the kernel in p50 0.3 / p99 7 ms.
// wrk keeps a count of every request per microsecond of latency (stats.c: no sampling), and before it prints
// corrects it for coordinated omission (stats_correct): a response that took k times the mean interval between two
// requests of a connection also counts as responses of k-1, k-2 ... intervals, the requests a steady client would
// have sent meanwhile and that would have waited too. One stall of a connection thus weighs in the percentiles as
// much as it would for clients arriving at random, which autocannon's figures (one sample per response) never
// showed. A request that outlives --timeout is counted as a timeout and left out of the percentiles, so the timeout
// here is long (30 s, as autocannon's was).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface WrkResult {
  requests: number;
  /** The run's length as wrk timed it. */
  seconds: number;
  /** Bytes read, headers included (wrk rounds them to 2 decimals of their unit). */
  bytesRead: number;
  /** Latency percentiles and maximum over the requests that completed in time; NaN when none did. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers with a status above 399 (wrk's "Non-2xx or 3xx responses" counts only those). */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BYTE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** A wrk duration ("149.00us", "1.50s") in milliseconds. */
function timeMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read the duration ${JSON.stringify(text)}`);
  return Number(m[1]) * TIME_UNITS[m[2]!]!;
}

/** What `wrk --latency` printed, read. Throws on output it does not recognise rather than report a wrong figure. */
export function parseWrk(output: string): WrkResult {
  const line = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(output);
    if (!m) throw new Error(`wrk: no ${what} in its output (was --latency given?):\n${output}`);
    return m;
  };
  const total = line(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read$/m, 'request count');
  const requests = Number(total[1]);
  const percentile = (p: string) => timeMs(line(new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm'), `${p}% line`)[1]!);
  const max = timeMs(line(/^\s*Latency\s+\S+\s+\S+\s+(\S+)/m, 'latency line')[1]!);
  const errors = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$/m.exec(output);
  const socketErrors = { connect: Number(errors?.[1] ?? 0), read: Number(errors?.[2] ?? 0), write: Number(errors?.[3] ?? 0), timeout: Number(errors?.[4] ?? 0) };
  // Timed-out requests are counted but not in the histogram: with none left, its zeros are no figure.
  const timed = requests - socketErrors.timeout > 0;
  return {
    requests,
    seconds: timeMs(`${total[2]}${total[3]}`) / 1000,
    bytesRead: Math.round(Number(total[4]) * BYTE_UNITS[total[5]!]!),
    p50Ms: timed ? percentile('50') : NaN,
    p99Ms: timed ? percentile('99') : NaN,
    maxMs: timed ? max : NaN,
    non2xx: Number(/^\s*Non-2xx or 3xx responses: (\d+)$/m.exec(output)?.[1] ?? 0),
    socketErrors,
  };
}

/** The socket errors of a run, all kinds together. */
export function socketErrorCount(r: WrkResult): number {
  return r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout;
}

let checked = false;

/** Fails, saying what to install, when wrk is not on the PATH: a bench never skips its API phases. */
export function requireWrk(): void {
  if (checked) return;
  try {
    // wrk has no --version; with -v it prints its version and usage and exits 1.
    execFileSync('wrk', ['-v'], { stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('wrk is not installed: the API load phases measure with wrk, a C HTTP client (install the Debian package wrk: apt-get install wrk)');
    }
  }
  checked = true;
}

/**
 * wrk with one thread and `connections` connections on `url` for `seconds`, after `warmupS` seconds of the same
 * load whose figures are dropped: the measured run starts on a server already under that load (for the status list:
 * a version polled, not a quiet list whose first request waits for a look), without a gap a single warm-up request
 * and a process start would leave.
 */
export async function runWrk(url: string, opts: { seconds: number; warmupS?: number; connections?: number; headers?: Record<string, string>; timeoutS?: number }): Promise<WrkResult> {
  requireWrk();
  const headers = Object.entries(opts.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = (seconds: number) => ['-t1', `-c${opts.connections ?? 4}`, `-d${seconds}s`, `--timeout`, `${opts.timeoutS ?? 30}s`, '--latency', ...headers, url];
  const run = async (seconds: number) => {
    try {
      const { stdout } = await execFileAsync('wrk', args(seconds), { maxBuffer: 1 << 20 });
      return parseWrk(stdout);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`wrk ${args(seconds).join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  };
  if (opts.warmupS) await run(opts.warmupS);
  return run(opts.seconds);
}

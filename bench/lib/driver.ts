// Child process of bench/fleet.ts: drives probes at sstpwatch's schedule (every target once per interval, phases
// spread evenly over it) in one of two modes:
//   floor     the bare cost of the work: tls.connect (one shared secure context, certificate and name verified)
//             + HEAD + read the status line, nothing else. Its own CPU is the figure.
//   blackbox  GET blackbox_exporter's /probe?module=sstp&target=... over keep-alive HTTP; blackbox's CPU is the
//             figure, this process only keeps the rate and checks probe_success.
//
// IPC: receives {type:'start', ...DriverConfig}; {type:'stats'} answers {type:'stats', ...DriverStats}; 'stop' exits.
import http from 'node:http';
import tls from 'node:tls';

export interface DriverConfig {
  mode: 'floor' | 'blackbox';
  /** One port per target (targets share the fake fleet's ports). */
  ports: number[];
  intervalMs: number;
  hostname: string;
  path: string;
  caPem: string;
  timeoutMs: number;
  /** blackbox mode: http://127.0.0.1:port of the exporter. */
  blackboxUrl?: string;
}

export interface DriverStats {
  started: number;
  completed: number;
  failed: number;
  failures: string[];
  /** How late probes started against their schedule (driver side), max seconds. */
  maxLateSeconds: number;
  cpuSeconds: number;
  at: number;
}

const stats = { started: 0, completed: 0, failed: 0, failures: [] as string[], maxLateSeconds: 0 };
let timer: NodeJS.Timeout | undefined;

function noteFailure(message: string): void {
  stats.failed++;
  if (stats.failures.length < 10) stats.failures.push(message);
}

function floorProbe(config: DriverConfig, secureContext: tls.SecureContext, port: number): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    let response = '';
    const socket = tls.connect({ host: '127.0.0.1', port, servername: config.hostname, secureContext });
    const finish = (error: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      socket.destroy();
      stats.completed++;
      if (error) noteFailure(error);
      resolve();
    };
    const deadline = setTimeout(() => finish('timeout'), config.timeoutMs);
    socket.on('error', (err: Error) => finish(err.message));
    socket.once('secureConnect', () => {
      socket.write(`HEAD ${config.path} HTTP/1.1\r\nHost: ${config.hostname}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1');
      const eol = response.indexOf('\r\n');
      if (eol === -1) return;
      const line = response.slice(0, eol);
      finish(line.startsWith('HTTP/1.1 401') ? null : `unexpected status line ${JSON.stringify(line)}`);
    });
    socket.once('end', () => finish('closed without a response'));
  });
}

function blackboxProbe(config: DriverConfig, agent: http.Agent, port: number): Promise<void> {
  const target = `https://127.0.0.1:${port}${config.path}`;
  const url = `${config.blackboxUrl}/probe?module=sstp&target=${encodeURIComponent(target)}`;
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: config.timeoutMs + 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        stats.completed++;
        if (res.statusCode !== 200 || !/^probe_success 1$/m.test(body)) {
          const failed = body.split('\n').filter((l) => /^probe_(success|http_status_code|failed_due_to_regex) /.test(l));
          noteFailure(`status ${res.statusCode}: ${failed.join(', ') || body.slice(0, 200)}`);
        }
        resolve();
      });
      res.on('error', (err) => {
        stats.completed++;
        noteFailure(err.message);
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('driver timeout')));
    req.on('error', (err) => {
      stats.completed++;
      noteFailure(err.message);
      resolve();
    });
  });
}

function start(config: DriverConfig): void {
  const n = config.ports.length;
  const secureContext = tls.createSecureContext({ ca: config.caPem });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const probe = config.mode === 'floor'
    ? (port: number) => floorProbe(config, secureContext, port)
    : (port: number) => blackboxProbe(config, agent, port);
  // Probe j (j = 0, 1, ...) is target j % n, due at t0 + floor(j / n) * interval + its phase.
  const phase = (i: number): number => Math.floor((i * config.intervalMs) / n);
  const t0 = Date.now() + 100;
  let j = 0;
  const dueAt = (k: number): number => t0 + Math.floor(k / n) * config.intervalMs + phase(k % n);
  const run = (): void => {
    const now = Date.now();
    while (dueAt(j) <= now) {
      stats.maxLateSeconds = Math.max(stats.maxLateSeconds, (now - dueAt(j)) / 1000);
      stats.started++;
      void probe(config.ports[j % n]!);
      j++;
    }
    timer = setTimeout(run, Math.max(0, dueAt(j) - Date.now()));
  };
  timer = setTimeout(run, t0 - Date.now());
}

process.on('message', (message: { type: string } & Partial<DriverConfig>) => {
  if (message.type === 'start') {
    start(message as DriverConfig);
    process.send!({ type: 'started' });
  } else if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    const snapshot: DriverStats = { ...stats, failures: [...stats.failures], cpuSeconds: (cpu.user + cpu.system) / 1e6, at: Date.now() };
    process.send!({ type: 'stats', ...snapshot });
  } else if (message.type === 'stop') {
    clearTimeout(timer);
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

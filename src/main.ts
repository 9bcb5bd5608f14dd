// The command line and the service's wiring. Only what the dispatch needs is imported here; each command loads its
// own modules when it runs, so `--version`, `--help`, a usage error or `config check` start without Fastify,
// SQLite, PostgreSQL or prom-client (a plain `node -e 0` is a tenth of what loading the whole service costs).
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, USAGE, type Output } from './cli/output.js';
import { allowListWarnings } from './config/allow-list.js';
import { tryParseDuration } from './config/duration.js';
import { readAuthToken, type AuthToken } from './config/token.js';
import { ConfigError, type Config } from './config/types.js';
import type { Demo } from './demo/demo.js';
import type { ServiceLog } from './log.js';
import { createLagLog } from './scheduler/lag-log.js';
import { databasePathProblem } from './store/database-file.js';
import type { InstanceLock } from './store/instance-lock.js';
import type { ReloadedConfig, Service } from './service.js';
import { VERSION } from './version.js';

/**
 * From the first SIGTERM/SIGINT: past this, shutdown is abandoned (exit 1). Probes get SHUTDOWN_GRACE_MS of it;
 * the rest is room for the final write, under the 10 s a container runtime usually waits before SIGKILL.
 */
const SHUTDOWN_DEADLINE_MS = 8_000;
/** How long an abandoned shutdown waits for the last write of what is queued. */
const ABANDON_FLUSH_MS = 2_000;
/** How long the last log lines may take to reach stdout at exit (a pipe nobody reads must not hold the exit). */
const LOG_CLOSE_MS = 500;

/**
 * Instances of a site on PostgreSQL: time between rebalance ticks, a duration ("5s", the default). Shorter moves
 * shards sooner after a peer dies, at one small query per tick per instance (docs/sharding.md).
 */
const REBALANCE_INTERVAL_ENV = 'SSTPWATCH_REBALANCE_INTERVAL';

/** The interval in ms, undefined when unset, or why the value is wrong. */
function rebalanceInterval(text: string | undefined): number | undefined | string {
  if (text === undefined || text === '') return undefined;
  const ms = tryParseDuration(text);
  if (ms === null || ms < 100 || ms > 3_600_000) return `${REBALANCE_INTERVAL_ENV} must be a duration from 100ms to 1h, like "5s" (got ${JSON.stringify(text)})`;
  return ms;
}

const io: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') return help();
  if (command === '--version' || command === '-V') return version();
  if (command === undefined || command.startsWith('-')) return serve(argv);
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'check':
      return (await import('./cli/check.js')).runCheck(rest, io);
    case 'config':
      if (rest[0] === 'check') return configCheck(rest.slice(1));
      return usage(`unknown command "config ${rest[0] ?? ''}": did you mean "config check"?`);
    case 'migrate-store':
      return (await import('./cli/migrate-store.js')).runMigrateStore(rest, io);
    case 'help':
      return help();
    case 'version':
      return version();
    default:
      return usage(`unknown command ${JSON.stringify(command)}`);
  }
}

function help(): number {
  io.out(USAGE);
  return EXIT_OK;
}

function version(): number {
  io.out(`sstpwatch ${VERSION} (node ${process.version})`);
  return EXIT_OK;
}

function usage(message: string): number {
  io.err(`sstpwatch: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

async function configCheck(args: string[]): Promise<number> {
  let config: string | undefined;
  try {
    ({ config } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true, allowPositionals: false }).values);
  } catch (err) {
    return usage((err as Error).message);
  }
  const [{ resolveConfigPath }, { runConfigCheck }] = await Promise.all([import('./config/load.js'), import('./cli/config-check.js')]);
  return runConfigCheck(resolveConfigPath(config, process.env), io);
}

function serveFlags(args: string[]): { config?: string; logFormat?: string } | number {
  try {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, 'log-format': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    return { config: values.config, logFormat: values['log-format'] };
  } catch (err) {
    return usage((err as Error).message);
  }
}

async function serve(args: string[]): Promise<number> {
  const flags = serveFlags(args);
  if (typeof flags === 'number') return flags;
  const [{ loadConfigFile, resolveConfigPath }, { chooseLogSettings, createLogger }] = await Promise.all([import('./config/load.js'), import('./log.js')]);
  const path = resolveConfigPath(flags.config, process.env);
  let config: Config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`sstpwatch: invalid config ${path}:`);
    for (const issue of err.issues) io.err(`  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    return EXIT_FAILED;
  }
  const logSettings = chooseLogSettings({
    flagFormat: flags.logFormat,
    envLevel: process.env.SSTPWATCH_LOG_LEVEL,
    config: config.log,
    stdoutIsTerminal: process.stdout.isTTY === true,
  });
  if (typeof logSettings === 'string') return usage(logSettings);
  const serviceLog = createLogger(logSettings, process.stdout.isTTY === true && !process.env.NO_COLOR);
  try {
    return await runService(config, path, serviceLog);
  } finally {
    await serviceLog.close(LOG_CLOSE_MS);
  }
}

/** Runs the service until a stop signal; the exit code. */
async function runService(config: Config, path: string, serviceLog: ServiceLog): Promise<number> {
  const log = serviceLog.logger;
  log.info({ version: VERSION, node: process.version, config: path, pid: process.pid }, 'sstpwatch starting');

  const { loadConfigFile } = await import('./config/load.js');
  let demo: Demo | null = null;
  if (config.demo) {
    demo = await (await import('./demo/demo.js')).startDemo(config.defaults);
    config = { ...config, groups: [...config.groups, ...demo.groups], targets: [...config.targets, ...demo.targets] };
    log.info({ targets: demo.targets.map((t) => t.name) }, 'demo mode: simulated RRAS servers started on loopback');
  }

  let token: AuthToken;
  try {
    token = readAuthToken(config.auth, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) io.err(`sstpwatch: invalid config ${path}: ${issue.path}: ${issue.message}`);
    await demo?.close();
    return EXIT_FAILED;
  }
  const authToken = token.token;
  for (const warning of token.warnings) log.warn({ warning }, 'token file warning');
  for (const warning of probeEndpointWarnings(config)) log.warn({ warning }, 'probe endpoint warning');
  if (!authToken) log.warn({ tokenEnv: config.auth.tokenEnv, tokenFile: config.auth.tokenFile, howTo: tokenHowTo(config) }, 'no bearer token configured: write endpoints answer 401');
  else log.info({ source: token.source, protectReads: config.auth.protectReads }, 'bearer token configured');
  if (!isLoopback(config.listen.host) && !config.serverTls) {
    log.warn({ listen: config.listen }, 'listening beyond loopback over plain HTTP: put a reverse proxy with TLS in front, or set tls: {cert_file, key_file}');
  }
  // SIGHUP and POST /-/reload read the file again; the demo's simulated servers (started once) stay.
  const running = demo;
  const reloadConfig = (): ReloadedConfig => {
    const next = loadConfigFile(path);
    const nextToken = readAuthToken(next.auth, process.env);
    const config = running ? { ...next, groups: [...next.groups, ...running.groups], targets: [...next.targets, ...running.targets] } : next;
    return { config, authToken: nextToken.token, warnings: [...nextToken.warnings, ...probeEndpointWarnings(next)] };
  };
  // Benchmark hook (bench/fleet.ts): raw scheduling lag samples to a file; unset in normal operation.
  const lagLogPath = process.env.SSTPWATCH_BENCH_LAG_LOG;
  const lagLog = lagLogPath ? createLagLog(lagLogPath) : null;
  const databaseProblem = databasePathProblem(config.database);
  if (databaseProblem !== null) {
    io.err(`sstpwatch: ${databaseProblem}`);
    await demo?.close();
    return EXIT_FAILED;
  }
  let lock: InstanceLock | null = null;
  if (config.database !== ':memory:' && !/^postgres(ql)?:\/\//i.test(config.database)) {
    const { InstanceLockedError, lockDatabase } = await import('./store/instance-lock.js');
    try {
      lock = lockDatabase(config.database);
    } catch (err) {
      io.err(`sstpwatch: ${err instanceof InstanceLockedError ? err.message : `cannot lock the database ${JSON.stringify(config.database)}: ${(err as Error).message}`}`);
      await demo?.close();
      return EXIT_FAILED;
    }
  }
  const rebalanceIntervalMs = rebalanceInterval(process.env[REBALANCE_INTERVAL_ENV]);
  if (typeof rebalanceIntervalMs === 'string') {
    io.err(`sstpwatch: ${rebalanceIntervalMs}`);
    lock?.release();
    await demo?.close();
    return EXIT_USAGE;
  }
  const { createService } = await import('./service.js');
  let service: Service;
  try {
    service = await createService(config, { log, authToken, reloadConfig, rebalanceIntervalMs, onLag: lagLog ? (seconds) => lagLog.record(seconds) : undefined });
  } catch (err) {
    // What the path check could not foresee (a full disk, a file that is not a database): one line, no stack trace.
    const where = /^postgres(ql)?:\/\//i.test(config.database) ? 'the PostgreSQL database' : `the database ${JSON.stringify(config.database)}`;
    io.err(`sstpwatch: cannot open ${where}: ${err instanceof Error ? err.message : String(err)}`);
    await demo?.close();
    return EXIT_FAILED;
  }
  // Windows has no SIGHUP to send (Node raises it there when the console window closes, and Windows ends the
  // process soon after): reload through POST /-/reload instead, and treat it as a stop signal (STOP_SIGNALS).
  if (process.platform !== 'win32') {
    process.on('SIGHUP', () => {
      log.info({ config: path }, 'SIGHUP: reloading the config');
      void service.reload();
    });
  }
  try {
    await service.app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    log.fatal({ err, listen: config.listen }, 'cannot listen');
    await service.stop();
    await demo?.close();
    return EXIT_FAILED;
  }
  await service.start();
  await waitForStopSignal(log);
  // A second signal, or a shutdown past its deadline, ends the process now (after writing what is queued).
  const onSecondSignal = (signal: NodeJS.Signals) => void abandonShutdown(service, serviceLog, 'second stop signal during shutdown: exiting now', { signal });
  for (const signal of STOP_SIGNALS) process.on(signal, onSecondSignal);
  const deadline = setTimeout(
    () => void abandonShutdown(service, serviceLog, 'shutdown did not finish in time: exiting now', { deadlineMs: SHUTDOWN_DEADLINE_MS }),
    SHUTDOWN_DEADLINE_MS,
  );
  const stopStarted = performance.now();
  await service.stop();
  clearTimeout(deadline);
  log.info({ ms: Math.round(performance.now() - stopStarted) }, 'shutdown complete');
  lagLog?.close();
  lock?.release();
  await demo?.close();
  return EXIT_OK;
}

/** Writes what is queued (waiting at most ABANDON_FLUSH_MS for the database), says why, and exits 1. */
async function abandonShutdown(service: Service, serviceLog: ServiceLog, message: string, fields: Record<string, unknown>): Promise<never> {
  // flush() never rejects; a closed store ignores it
  const flushed = service.store.flush().then(() => service.store.writeHealth().ok);
  const gaveUp = new Promise<boolean>((resolve) => setTimeout(resolve, ABANDON_FLUSH_MS, false).unref());
  const written = await Promise.race([flushed, gaveUp]);
  serviceLog.logger.error({ ...fields, queuedWritten: written, pendingResults: service.store.writeHealth().pending }, message);
  await serviceLog.close(LOG_CLOSE_MS);
  process.exit(EXIT_FAILED);
}

/** An enabled /probe whose allow list reaches everything, loopback or link-local: valid, rarely meant. */
function probeEndpointWarnings(config: Config): string[] {
  return config.probeEndpoint.enabled ? allowListWarnings(config.probeEndpoint.allow) : [];
}

/** For the operator's log only: clients are told just that a bearer token is required. */
function tokenHowTo(config: Config): string {
  if (config.auth.tokenFile) return `put a token (at least 16 printable characters, e.g. openssl rand -hex 24) in ${config.auth.tokenFile} and reload`;
  if (config.auth.tokenEnv) return `set the environment variable ${config.auth.tokenEnv} to a token (at least 16 printable characters) and restart`;
  return 'set auth.token_env or auth.token_file in the config (docs/security.md)';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * SIGTERM (systemd, Docker), SIGINT (Ctrl+C; on Windows also what WinSW and NSSM send to stop a service). On Windows
 * also SIGBREAK (Ctrl+Break) and SIGHUP (the console window is closing).
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];

function waitForStopSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'stopping');
      for (const stop of STOP_SIGNALS) process.off(stop, onSignal);
      resolve();
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sstpwatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_FAILED);
  },
);

import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { runCheck } from './cli/check.js';
import { runConfigCheck } from './cli/config-check.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, USAGE, type Output } from './cli/output.js';
import { loadConfigFile, resolveConfigPath } from './config/load.js';
import { ConfigError, type Config } from './config/types.js';
import { startDemo, type Demo } from './demo/demo.js';
import { createService } from './service.js';

const io: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command.startsWith('-')) return command === '--help' || command === '-h' ? help() : serve(argv);
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'check':
      return runCheck(rest, io);
    case 'config':
      if (rest[0] === 'check') return configCheck(rest.slice(1));
      return usage(`unknown command "config ${rest[0] ?? ''}": did you mean "config check"?`);
    case 'help':
      return help();
    default:
      return usage(`unknown command ${JSON.stringify(command)}`);
  }
}

function help(): number {
  io.out(USAGE);
  return EXIT_OK;
}

function usage(message: string): number {
  io.err(`sstpwatch: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

function configFlag(args: string[]): string | number {
  try {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true, allowPositionals: false });
    return resolveConfigPath(values.config, process.env);
  } catch (err) {
    return usage((err as Error).message);
  }
}

function configCheck(args: string[]): number {
  const path = configFlag(args);
  return typeof path === 'number' ? path : runConfigCheck(path, io);
}

async function serve(args: string[]): Promise<number> {
  const path = configFlag(args);
  if (typeof path === 'number') return path;
  const log = pino({ level: process.env.SSTPWATCH_LOG_LEVEL ?? 'info', base: { app: 'sstpwatch' } });
  let config: Config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`sstpwatch: invalid config ${path}:`);
    for (const issue of err.issues) io.err(`  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    return EXIT_FAILED;
  }

  let demo: Demo | null = null;
  if (config.demo) {
    demo = await startDemo(config.defaults);
    config = { ...config, groups: [...config.groups, ...demo.groups], targets: [...config.targets, ...demo.targets] };
    log.info({ targets: demo.targets.map((t) => t.name) }, 'demo mode: simulated RRAS servers started on loopback');
  }

  const authToken = config.auth.tokenEnv ? process.env[config.auth.tokenEnv] : undefined;
  if (!authToken) log.info({ tokenEnv: config.auth.tokenEnv }, 'no bearer token configured: write endpoints answer 401');
  const service = createService(config, { log, authToken });
  try {
    await service.app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    log.fatal({ err, listen: config.listen }, 'cannot listen');
    await service.stop();
    await demo?.close();
    return EXIT_FAILED;
  }
  service.start();
  await waitForStopSignal(log);
  await service.stop();
  await demo?.close();
  return EXIT_OK;
}

function waitForStopSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'stopping');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sstpwatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_FAILED);
  },
);

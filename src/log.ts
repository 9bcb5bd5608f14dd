import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type pretty from 'pino-pretty';
import { LOG_FORMATS, LOG_LEVELS, type LogConfig, type LogFormat, type LogLevel } from './config/types.js';

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

/** Where the settings come from, strongest first: the command line, the environment, the config file, stdout. */
export interface LogSources {
  /** `--log-format`, as given. */
  flagFormat?: string;
  /** `SSTPWATCH_LOG_LEVEL`. */
  envLevel?: string;
  /** `log:` in the config file. */
  config: LogConfig;
  /** Text by default on a terminal, JSON otherwise (journald, Docker, a pipe, a file). */
  stdoutIsTerminal: boolean;
}

/** The level and format to log with, or the reason a value given on the command line or in the environment is wrong. */
export function chooseLogSettings(sources: LogSources): LogSettings | string {
  const { flagFormat, envLevel, config } = sources;
  if (flagFormat !== undefined && !isOneOf(flagFormat, LOG_FORMATS)) {
    return `--log-format must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(flagFormat)})`;
  }
  const level = envLevel === undefined || envLevel === '' ? null : envLevel.toLowerCase();
  if (level !== null && !isOneOf(level, LOG_LEVELS)) {
    return `SSTPWATCH_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(envLevel)})`;
  }
  return {
    level: level ?? config.level ?? 'info',
    format: flagFormat ?? config.format ?? (sources.stdoutIsTerminal ? 'text' : 'json'),
  };
}

/** The service's log: the logger, and how to write out what it still holds before the process exits. */
export interface ServiceLog {
  logger: Logger;
  /**
   * Writes out the buffered lines and stops logging, waiting at most `timeoutMs`: true when everything was
   * written. Call it last, just before the process exits.
   */
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * How many bytes of log lines wait in memory while stdout does not take them (a stuck journald, a log reader
 * that stopped reading its pipe). Past this, lines are dropped and counted: a log that nobody reads must never
 * block probing, the API or shutdown, which a synchronous write to a full pipe does, for good.
 */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** pino-pretty, loaded only for text logs: JSON logs (a service under systemd or in a container) start without it. */
function prettyPrinter(): typeof pretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof pretty;
}

/**
 * The service's logger on `fd` (stdout). json: pino's own lines, one object each. text: one readable line an
 * entry (time, level, message, then the fields). Writes are asynchronous and bounded (LOG_BUFFER_BYTES); when
 * lines had to be dropped, the next line written says how many.
 */
export function createLogger(settings: LogSettings, colorize = false, fd = 1): ServiceLog {
  const options = { level: settings.level, base: { app: 'sstpwatch' } };
  // A full pipe answers EAGAIN: retried every 100 ms without blocking, until close() sets a deadline.
  let giveUpAt = Infinity;
  const destination = pino.destination({ dest: fd, sync: false, minLength: 0, maxLength: LOG_BUFFER_BYTES, retryEAGAIN: () => Date.now() < giveUpAt });
  // EPIPE and the like: the reader is gone and there is nowhere left to say so; never crash the service over it.
  destination.on('error', () => undefined);
  let dropped = 0;
  destination.on('drop', () => (dropped += 1));
  const logger =
    settings.format === 'json'
      ? pino(options, destination)
      : pino(options, prettyPrinter()({ destination, colorize, singleLine: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o', ignore: 'app,pid,hostname' }));
  let closing = false;
  destination.on('write', () => {
    if (dropped === 0 || closing) return;
    const count = dropped;
    dropped = 0;
    logger.warn({ dropped: count, bufferBytes: LOG_BUFFER_BYTES }, 'log lines dropped: stdout was not being read');
  });
  return {
    logger,
    close: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        giveUpAt = Date.now() + timeoutMs;
        const timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
        destination.once('finish', () => {
          clearTimeout(timer);
          resolve(true);
        });
        // Lines still in the pretty-printer's stream reach the destination on the next turn.
        setImmediate(() => {
          closing = true;
          logger.level = 'silent';
          destination.end();
        });
      }),
  };
}

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
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

/**
 * The service's logger on stdout. json: pino's own lines, one object each. text: one readable line an entry
 * (time, level, message, then the fields), written synchronously so nothing is lost when the process exits.
 */
export function createLogger(settings: LogSettings, colorize = false): Logger {
  const options = { level: settings.level, base: { app: 'sstpwatch' } };
  if (settings.format === 'json') return pino(options);
  return pino(options, pretty({ sync: true, colorize, singleLine: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o', ignore: 'app,pid,hostname' }));
}

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}

import { describe, expect, it } from 'vitest';
import { chooseLogSettings, type LogSources } from '../src/log.js';

const unset = { level: null, format: null };

describe('choosing the log level and format', () => {
  const cases: [string, LogSources, ReturnType<typeof chooseLogSettings>][] = [
    ['text at info on a terminal when nothing is set', { config: unset, stdoutIsTerminal: true }, { level: 'info', format: 'text' }],
    ['JSON when stdout is not a terminal (journald, Docker, a pipe)', { config: unset, stdoutIsTerminal: false }, { level: 'info', format: 'json' }],
    ['the config file over the terminal default', { config: { level: 'debug', format: 'json' }, stdoutIsTerminal: true }, { level: 'debug', format: 'json' }],
    ['--log-format over the config file', { flagFormat: 'text', config: { level: null, format: 'json' }, stdoutIsTerminal: false }, { level: 'info', format: 'text' }],
    ['SSTPWATCH_LOG_LEVEL over the config file, in any case', { envLevel: 'WARN', config: { level: 'debug', format: null }, stdoutIsTerminal: false }, { level: 'warn', format: 'json' }],
    ['an empty SSTPWATCH_LOG_LEVEL as unset', { envLevel: '', config: { level: 'error', format: null }, stdoutIsTerminal: false }, { level: 'error', format: 'json' }],
    ['a reason for a bad --log-format', { flagFormat: 'pretty', config: unset, stdoutIsTerminal: true }, '--log-format must be one of text, json (got "pretty")'],
    ['a reason for a bad SSTPWATCH_LOG_LEVEL', { envLevel: 'verbose', config: unset, stdoutIsTerminal: true }, 'SSTPWATCH_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
  ];
  it.each(cases)('gives %s', (_name, sources, expected) => {
    expect(chooseLogSettings(sources)).toEqual(expected);
  });
});

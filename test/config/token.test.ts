import { describe, expect, it } from 'vitest';
import { ConfigError, type AuthConfig } from '../../src/config/index.js';
import { readAuthToken, type TokenFileSystem } from '../../src/config/token.js';

const TOKEN = 'f3c1a9e27b5d4c08a6e2f19d3b7c5a41';

function files(content: Record<string, string>, mode: number | null = 0o100600): TokenFileSystem {
  return {
    readFile: (path) => {
      const text = content[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    mode: () => mode,
  };
}

const auth = (over: Partial<AuthConfig>): AuthConfig => ({ tokenEnv: null, tokenFile: null, protectReads: false, ...over });

describe('the bearer token', () => {
  it('comes from the variable token_env names; unset or blank means none', () => {
    expect(readAuthToken(auth({ tokenEnv: 'SSTPWATCH_TOKEN' }), { SSTPWATCH_TOKEN: TOKEN })).toEqual({ token: TOKEN, source: 'env SSTPWATCH_TOKEN', warnings: [] });
    expect(readAuthToken(auth({ tokenEnv: 'SSTPWATCH_TOKEN' }), {})).toEqual({ token: null, source: null, warnings: [] });
    expect(readAuthToken(auth({ tokenEnv: 'SSTPWATCH_TOKEN' }), { SSTPWATCH_TOKEN: '  ' }).token).toBeNull();
    expect(readAuthToken(auth({ tokenEnv: null }), { SSTPWATCH_TOKEN: TOKEN }).token).toBeNull();
  });

  it('comes from token_file: one line, surrounding blanks and the newline trimmed', () => {
    const fs = files({ '/etc/sstpwatch/token': `  ${TOKEN}\n` });
    expect(readAuthToken(auth({ tokenFile: '/etc/sstpwatch/token' }), {}, fs)).toEqual({ token: TOKEN, source: 'file /etc/sstpwatch/token', warnings: [] });
  });

  it.each([
    { mode: 0o100644, octal: '644' },
    { mode: 0o100640, octal: '640' },
    { mode: 0o100604, octal: '604' },
    { mode: 0o100620, octal: '620' },
  ])('warns when the token file has mode $octal, and still uses it', ({ mode, octal }) => {
    const read = readAuthToken(auth({ tokenFile: '/t' }), {}, files({ '/t': TOKEN }, mode));
    expect(read.token).toBe(TOKEN);
    expect(read.warnings).toEqual([`token file /t is open to other users (mode ${octal}); chmod 600 it`]);
  });

  it('does not warn where permission bits say nothing (Windows: the ACL decides who reads the file)', () => {
    expect(readAuthToken(auth({ tokenFile: 'C:/ProgramData/sstpwatch/token' }), {}, files({ 'C:/ProgramData/sstpwatch/token': TOKEN }, null)).warnings).toEqual([]);
  });

  it.each([
    { case: 'a missing file', content: undefined, message: 'cannot read "/t": ENOENT' },
    { case: 'an empty file', content: '\n\n', message: '"/t" is empty: put the bearer token on its first line' },
    { case: 'two lines', content: `${TOKEN}\n${TOKEN}\n`, message: '"/t" must hold the token on one line (it has 2 lines)' },
    { case: 'a token with a space', content: `${TOKEN} x`, message: '"/t": the token must not contain spaces or other whitespace' },
    { case: 'a non-ASCII token', content: `${TOKEN}é`, message: '"/t": the token must be printable ASCII (letters, digits, punctuation): an HTTP header cannot carry anything else' },
    { case: 'a short token', content: 'secret', message: '"/t": the token is 6 characters long; use at least 16 (e.g. openssl rand -hex 24)' },
  ])('refuses $case with the path auth.token_file, never quoting the token', ({ content, message }) => {
    const fs = files(content === undefined ? {} : { '/t': content });
    let error: unknown;
    try {
      readAuthToken(auth({ tokenFile: '/t' }), {}, fs);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'auth.token_file', message }]);
    expect((error as ConfigError).message).not.toContain(TOKEN);
    expect((error as ConfigError).message).not.toContain('secret');
  });

  it.each([
    { case: 'a one-letter token', value: 'a', message: 'the token is 1 characters long; use at least 16 (e.g. openssl rand -hex 24)' },
    { case: 'a token with a space inside', value: `${TOKEN} ${TOKEN}`, message: 'the token must not contain spaces or other whitespace' },
    { case: 'a token with a tab inside', value: `${TOKEN}\t${TOKEN}`, message: 'the token must not contain spaces or other whitespace' },
    { case: 'a non-ASCII token', value: `${TOKEN}ü`, message: 'the token must be printable ASCII (letters, digits, punctuation): an HTTP header cannot carry anything else' },
    { case: 'a token with a control character', value: `${TOKEN}\u0001`, message: 'the token must be printable ASCII (letters, digits, punctuation): an HTTP header cannot carry anything else' },
  ])('refuses $case from the environment as it would from a file, with the path auth.token_env', ({ value, message }) => {
    let error: unknown;
    try {
      readAuthToken(auth({ tokenEnv: 'SSTPWATCH_TOKEN' }), { SSTPWATCH_TOKEN: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'auth.token_env', message: `the environment variable SSTPWATCH_TOKEN: ${message}` }]);
    expect((error as ConfigError).message).not.toContain(TOKEN);
  });

  it('trims the newline a shell leaves around a token from the environment', () => {
    expect(readAuthToken(auth({ tokenEnv: 'T' }), { T: `\n${TOKEN}\n` }).token).toBe(TOKEN);
  });
});

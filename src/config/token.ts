// Where the bearer token comes from: the environment variable auth.token_env names, or the file auth.token_file
// names (read at start and on every reload, so a rotated token takes effect with a reload). The token itself is
// never logged or put in an error message; only where it came from is.

import { readFileSync, statSync } from 'node:fs';
import { ConfigError, type AuthConfig } from './types.js';

export interface AuthToken {
  /** Null: no token configured (the write routes answer 401 saying how to set one). */
  token: string | null;
  /** Where it came from, for the log: `env SSTPWATCH_TOKEN`, `file /etc/sstpwatch/token`. */
  source: string | null;
  /** Problems worth a warning that do not stop sstpwatch (a token file others may read). */
  warnings: string[];
}

export interface TokenFileSystem {
  readFile(path: string): string;
  /** The file's permission bits; null where they say nothing about who may read it. */
  mode(path: string): number | null;
}

const realFileSystem: TokenFileSystem = {
  readFile: (path) => readFileSync(path, 'utf8'),
  // On Windows the mode is always 0o666 or 0o444: the file's ACL decides who reads it, and Node cannot read ACLs.
  // deploy/windows/install.ps1 restricts the ACL instead.
  mode: (path) => (process.platform === 'win32' ? null : statSync(path).mode),
};

/** The shortest token accepted (from a file or the environment): anything shorter is a placeholder or a mistake. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Why a token cannot serve, or null when it can. One rule for both sources: a client sends the token in an HTTP
 * header, so it must be printable ASCII (a space or a non-ASCII character could never match what a client sends),
 * and long enough not to be guessed. The token itself never appears in the answer.
 */
export function tokenProblem(token: string): string | null {
  if (/\s/.test(token)) return 'the token must not contain spaces or other whitespace';
  if (!/^[\x21-\x7e]*$/.test(token)) return 'the token must be printable ASCII (letters, digits, punctuation): an HTTP header cannot carry anything else';
  if (token.length < MIN_TOKEN_LENGTH) return `the token is ${token.length} characters long; use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 24)`;
  return null;
}

/**
 * Resolves the configured token. Throws ConfigError (path `auth.token_file` or `auth.token_env`) when the file or
 * the variable holds a token that cannot serve.
 */
export function readAuthToken(
  auth: AuthConfig,
  env: Readonly<Record<string, string | undefined>>,
  fs: TokenFileSystem = realFileSystem,
): AuthToken {
  if (auth.tokenFile === null) {
    const token = auth.tokenEnv === null ? '' : (env[auth.tokenEnv] ?? '').trim();
    if (!token) return { token: null, source: null, warnings: [] };
    const problem = tokenProblem(token);
    if (problem !== null) throw new ConfigError([{ path: 'auth.token_env', message: `the environment variable ${auth.tokenEnv}: ${problem}` }]);
    return { token, source: `env ${auth.tokenEnv}`, warnings: [] };
  }
  const file = auth.tokenFile;
  const fail = (message: string): never => {
    throw new ConfigError([{ path: 'auth.token_file', message }]);
  };
  let text = '';
  try {
    text = fs.readFile(file);
  } catch (err) {
    fail(`cannot read ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) fail(`${JSON.stringify(file)} is empty: put the bearer token on its first line`);
  if (lines.length > 1) fail(`${JSON.stringify(file)} must hold the token on one line (it has ${lines.length} lines)`);
  const token = lines[0]!.trim();
  const problem = tokenProblem(token);
  if (problem !== null) fail(`${JSON.stringify(file)}: ${problem}`);
  const warnings: string[] = [];
  let mode: number | null = null;
  try {
    mode = fs.mode(file);
  } catch {
    // read a moment ago; a stat that fails now changes nothing about the token
  }
  if (mode !== null && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    warnings.push(`token file ${file} is open to other users (mode ${octal}); chmod 600 it`);
  }
  return { token, source: `file ${file}`, warnings };
}

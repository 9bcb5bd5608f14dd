// `database:` is an SQLite file path or a PostgreSQL URL. The PostgreSQL password comes from the URL, the file
// `database_password_file` names (read like auth.token_file: at start, never logged), or PGPASSWORD.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './types.js';

export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/** Why a PostgreSQL URL cannot serve, or null. The message never repeats a password. */
export function postgresUrlProblem(database: string): string | null {
  let url: URL;
  try {
    url = new URL(database);
  } catch {
    return 'is not a valid URL: write it as postgres://USER@HOST:PORT/DATABASE';
  }
  const socketDir = url.searchParams.get('host');
  if (url.hostname === '' && !socketDir) return 'names no host: write it as postgres://USER@HOST:PORT/DATABASE';
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65_535)) return 'has a port outside 1..65535';
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (name === '' || name.includes('/')) return 'names no database: write it as postgres://USER@HOST:PORT/DATABASE';
  if (url.username === '') return 'names no user: write it as postgres://USER@HOST:PORT/DATABASE';
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) return `has sslmode=${sslmode}; use one of ${SSL_MODES.join(', ')}`;
  return null;
}

/** True when the URL carries a password (config check warns: the config file is then a secret). */
export const urlHasPassword = (database: string): boolean => {
  try {
    return new URL(database).password !== '';
  } catch {
    return false;
  }
};

export interface DatabasePassword {
  /** Null: none configured here (the URL's, or PGPASSWORD, or none). */
  password: string | null;
  warnings: string[];
}

/** Reads `database_password_file`: one line, the password. Throws ConfigError (never with the password in it). */
export function readDatabasePassword(file: string | null): DatabasePassword {
  if (file === null) return { password: null, warnings: [] };
  const fail = (message: string): never => {
    throw new ConfigError([{ path: 'database_password_file', message }]);
  };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot read ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const lines = text.split(/\r?\n/).filter((line) => line !== '');
  if (lines.length === 0) fail(`${JSON.stringify(file)} is empty: put the PostgreSQL password on its first line`);
  if (lines.length > 1) fail(`${JSON.stringify(file)} must hold the password on one line (it has ${lines.length} lines)`);
  const warnings: string[] = [];
  try {
    const mode = statSync(file).mode;
    if ((mode & 0o077) !== 0) {
      warnings.push(`password file ${file} is open to other users (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); chmod 600 it`);
    }
  } catch {
    // read a moment ago; a stat that fails now changes nothing about the password
  }
  return { password: lines[0]!, warnings };
}

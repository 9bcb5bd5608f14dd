import { isPostgresUrl, readDatabasePassword, urlHasPassword } from '../config/database.js';
import { loadConfigFile } from '../config/load.js';
import { readAuthToken } from '../config/token.js';
import { ConfigError } from '../config/types.js';
import { checkPostgres } from '../store/postgres/check.js';
import { EXIT_FAILED, EXIT_OK, type Output } from './output.js';

/**
 * `sstpwatch config check`: every problem with its path, exit 1; or a summary of what would be probed. With a
 * PostgreSQL database it also connects (PGPASSWORD is read from the environment, as at start) and says whether it can.
 */
export async function runConfigCheck(path: string, io: Output, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  try {
    const config = loadConfigFile(path);
    // The token file is read as at start (its text is never printed); the environment is not looked at here.
    if (config.auth.tokenFile !== null) for (const warning of readAuthToken(config.auth, {}).warnings) io.err(`warning: auth.token_file: ${warning}`);
    const servers = config.targets.filter((t) => t.role === 'server').length;
    const vips = config.targets.length - servers;
    io.out(`${path}: valid: ${config.groups.length} group(s), ${servers} server(s), ${vips} VIP(s)${config.demo ? ', demo mode on' : ''}`);
    if (!isPostgresUrl(config.database)) return EXIT_OK;
    const password = readDatabasePassword(config.databasePasswordFile);
    for (const warning of password.warnings) io.err(`warning: database_password_file: ${warning}`);
    if (urlHasPassword(config.database)) {
      io.err('warning: database: the URL holds the password, so the config file is a secret; prefer database_password_file or PGPASSWORD');
    }
    const check = await checkPostgres(config.database, password.password ?? env['PGPASSWORD'] ?? null);
    (check.ok ? io.out : io.err)(`database: ${check.message}`);
    return check.ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${path}: ${err.issues.length} error(s):`);
    for (const issue of err.issues) io.err(`  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    return EXIT_FAILED;
  }
}

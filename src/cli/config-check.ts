import { allowListWarnings } from '../config/allow-list.js';
import { isPostgresUrl, readDatabasePassword, urlHasPassword } from '../config/database.js';
import { loadConfigFile } from '../config/load.js';
import { readAuthToken } from '../config/token.js';
import { databasePathProblem } from '../store/database-file.js';
import { ConfigError, type MaintenanceWindowConfig } from '../config/types.js';
import { describeWindow, occurrenceAt, occurrencesAfter, type Occurrence } from '../health/maintenance-windows.js';
import { formatLocal } from '../health/zoned-time.js';
import { EXIT_FAILED, EXIT_OK, type Output } from './output.js';

/**
 * `sstpwatch config check`: every problem with its path, exit 1; or a summary of what would be probed and, for each
 * maintenance window, the occurrence in progress and the next three (so an admin sees how a DST night falls). With a
 * PostgreSQL database it also connects (PGPASSWORD is read from the environment, as at start) and says whether it can.
 */
export async function runConfigCheck(
  path: string,
  io: Output,
  env: Readonly<Record<string, string | undefined>> = process.env,
  now = Date.now(),
): Promise<number> {
  try {
    const config = loadConfigFile(path);
    const databaseProblem = databasePathProblem(config.database);
    if (databaseProblem !== null) throw new ConfigError([{ path: 'database', message: databaseProblem }]);
    // The token file is read as at start (its text is never printed); the environment is not looked at here.
    if (config.auth.tokenFile !== null) for (const warning of readAuthToken(config.auth, {}).warnings) io.err(`warning: auth.token_file: ${warning}`);
    if (config.probeEndpoint.enabled) for (const warning of allowListWarnings(config.probeEndpoint.allow)) io.err(`warning: ${warning}`);
    const servers = config.targets.filter((t) => t.role === 'server').length;
    const vips = config.targets.length - servers;
    io.out(`${path}: valid: ${config.groups.length} group(s), ${servers} server(s), ${vips} VIP(s)${config.demo ? ', demo mode on' : ''}`);
    for (const window of config.maintenanceWindows) for (const line of windowLines(window, now)) io.out(line);
    if (!isPostgresUrl(config.database)) return EXIT_OK;
    const password = readDatabasePassword(config.databasePasswordFile);
    for (const warning of password.warnings) io.err(`warning: database_password_file: ${warning}`);
    if (urlHasPassword(config.database)) {
      io.err('warning: database: the URL holds the password, so the config file is a secret; prefer database_password_file or PGPASSWORD');
    }
    // Loaded only here: a config on SQLite is checked without the PostgreSQL driver.
    const { checkPostgres } = await import('../store/postgres/check.js');
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

/** The window, what it covers, and its occurrences in its own time zone and in UTC. */
export function windowLines(window: MaintenanceWindowConfig, now: number): string[] {
  const covers = [...window.groups.map((g) => `group ${g}`), ...window.targets.map((t) => `target ${t}`)].join(', ');
  const span = (o: Occurrence) =>
    `${formatLocal(window.timezone, o.start)} to ${formatLocal(window.timezone, o.end)} (${new Date(o.start).toISOString()} to ${new Date(o.end).toISOString()})`;
  const current = occurrenceAt(window, now);
  return [
    `maintenance window ${window.name}: ${describeWindow(window)}; covers ${covers}`,
    ...(current ? [`  now:  ${span(current)}`] : []),
    ...occurrencesAfter(window, now, 3).map((o) => `  next: ${span(o)}`),
  ];
}

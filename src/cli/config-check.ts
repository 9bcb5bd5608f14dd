import { loadConfigFile } from '../config/load.js';
import { readAuthToken } from '../config/token.js';
import { ConfigError } from '../config/types.js';
import { EXIT_FAILED, EXIT_OK, type Output } from './output.js';

/** `sstpwatch config check`: every problem with its path, exit 1; or a summary of what would be probed. */
export function runConfigCheck(path: string, io: Output): number {
  try {
    const config = loadConfigFile(path);
    // The token file is read as at start (its text is never printed); the environment is not looked at here.
    if (config.auth.tokenFile !== null) for (const warning of readAuthToken(config.auth, {}).warnings) io.err(`warning: auth.token_file: ${warning}`);
    const servers = config.targets.filter((t) => t.role === 'server').length;
    const vips = config.targets.length - servers;
    io.out(`${path}: valid: ${config.groups.length} group(s), ${servers} server(s), ${vips} VIP(s)${config.demo ? ', demo mode on' : ''}`);
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${path}: ${err.issues.length} error(s):`);
    for (const issue of err.issues) io.err(`  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    return EXIT_FAILED;
  }
}

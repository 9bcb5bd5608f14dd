// Helpers shared by the load-*.test.ts files and duration.test.ts: parsing a config from text with a fixed
// base directory and no file system, collecting its error lines, and a minimal config to vary. Kept in one
// place so every file builds its configs the same way.
import { ConfigError, parseConfig, type Config } from '../../src/config/index.js';

export const DAY = 86_400_000;
const BASE_DIR = '/etc/sstpwatch';
export const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';

/** Reads nothing: a CA file named in a test must be given by the test itself. */
export function noFiles(path: string): string {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}

export function parse(yaml: string, readFile: (path: string) => string = noFiles): Config {
  return parseConfig(yaml, { baseDir: BASE_DIR, readFile });
}

/** Every issue of an invalid config, as `config check` prints them. */
export function errorsOf(yaml: string, readFile: (path: string) => string = noFiles): string[] {
  try {
    parse(yaml, readFile);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

/** The smallest valid config: one group with one server. */
export const MINIMAL = `
groups:
  - name: vpn-eu
    hostname: vpn.example.com
    servers:
      - { name: rras-eu-1, url: "https://10.0.0.11" }
`;

/** MINIMAL with its only server written as given. */
export function withServer(server: string): string {
  return MINIMAL.replace('{ name: rras-eu-1, url: "https://10.0.0.11" }', server);
}

/** MINIMAL with extra lines for its group (indented as group keys). */
export function withGroupKeys(lines: string): string {
  return MINIMAL.replace('    servers:', `${lines}\n    servers:`);
}

import { readFileSync } from 'node:fs';

/**
 * The package's version, read from its package.json (one level above src/ and dist/ alike), so a release
 * changes it in one place.
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

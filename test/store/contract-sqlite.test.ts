// The store contract on the SQLite store, each store a real database file in a temp directory; reopening opens the
// same file again, as a restart does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { describeStoreContract } from './contract.js';
import { quiet } from './contract-support.js';

let dir: string;
let opened = 0;
const paths = new WeakMap<Store, string>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-contract-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('SQLite', {
  async open(options) {
    const path = join(dir, `store-${++opened}.db`);
    const store = openSqliteStore({ path, log: quiet, ...options });
    paths.set(store, path);
    return store;
  },
  async reopen(closed, options) {
    const path = paths.get(closed)!;
    const store = openSqliteStore({ path, log: quiet, ...options });
    paths.set(store, path);
    return store;
  },
});

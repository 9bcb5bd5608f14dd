// The store contract on the PostgreSQL store against a real PostgreSQL 15 started for this file
// (test/fixtures/postgres.ts): a database per store; reopening connects to the same database again, as a restart does.
import { afterAll, beforeAll } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/store.js';
import { startPostgres, type TestPostgres } from '../fixtures/postgres.js';
import { describeStoreContract } from './contract.js';
import { quiet, type ContractStoreOptions } from './contract-support.js';

let server: TestPostgres;
const urls = new WeakMap<Store, string>();

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.destroy());

async function open(url: string, options: ContractStoreOptions): Promise<Store> {
  const store = await openPostgresStore({ url, log: quiet, startupTimeoutMs: 10_000, ...options });
  urls.set(store, url);
  return store;
}

describeStoreContract('PostgreSQL', {
  open: async (options) => open(server.urlWithPassword(await server.createDatabase()), options),
  reopen: async (closed, options) => open(urls.get(closed)!, options),
  openBeside: async (beside, options) => open(urls.get(beside)!, options),
});

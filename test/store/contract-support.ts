// What the store contract's parts share: how a test opens a store, the clock and the builders of results and
// transitions.
import { pino, type Logger } from 'pino';
import type { RetentionConfig } from '../../src/config/types.js';
import type { StateTransition } from '../../src/health/types.js';
import type { ProbeResult } from '../../src/probe/types.js';
import type { Store, StoredResult, TargetRecord } from '../../src/store/store.js';
import { probeResult } from '../fixtures/domain.js';

export interface ContractStoreOptions {
  now?: () => number;
  retention?: RetentionConfig;
  maxPending?: number;
  log?: Logger;
  /** The site the store writes for; default the unnamed site. */
  site?: string;
}

export interface StoreUnderTest {
  /** Opens a new, empty store. */
  open(options: ContractStoreOptions): Promise<Store>;
  /** Opens the data of a store after its close() (a store that keeps its data); absent for one that keeps nothing. */
  reopen?: (closed: Store, options: ContractStoreOptions) => Promise<Store>;
  /** Opens another store on the same database while `open` stays open (a store that holds several sites). */
  openBeside?: (open: Store, options: ContractStoreOptions) => Promise<Store>;
}

/** What a contract test gets: stores it opens are closed after the test. */
export interface ContractContext {
  open(options?: ContractStoreOptions): Promise<Store>;
  reopen: ((closed: Store, options?: ContractStoreOptions) => Promise<Store>) | null;
  /** Null for a store of one site (SQLite, memory). */
  openBeside: ((open: Store, options?: ContractStoreOptions) => Promise<Store>) | null;
}

/** On an hour boundary. */
export const T0 = Date.parse('2026-11-26T21:00:00.000Z');
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const SHA = 'AB'.repeat(32);
export const quiet: Logger = pino({ level: 'silent' });

export const target = (name: string): TargetRecord => ({ name, group: 'vpn-eu', role: 'server', url: `https://${name}.example` });

/** An ok HEAD probe as the probe reports it: the standard status line, phases, TLS version and certificate. */
export function okResult(at: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    ...probeResult(at, true),
    message: 'HTTP/1.1 401 Unauthorized',
    durationMs: 12.345,
    phasesMs: { dns: 0.1, connect: 0.4, tls: 6.2, processing: 5.645 },
    tlsVersion: 'TLSv1.3',
    certificateSha256: SHA,
    ...over,
  };
}

export function failedResult(at: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return { ...probeResult(at, false, { kind: 'connect_refused', message: 'connect ECONNREFUSED 127.0.0.1:443', durationMs: 0.873 }), phasesMs: { dns: 0.012, connect: 0.861 }, ...over };
}

/** What the store gives back for a result: everything but the certificate details. */
export function stored(result: ProbeResult): StoredResult {
  const { certificate: _certificate, ...rest } = result;
  return rest;
}

export function transition(at: number, over: Partial<StateTransition> = {}): StateTransition {
  return { target: 'rras-1', at, from: 'up', to: 'down', cause: 'timeout', message: 'no answer within 5000 ms', ...over };
}

/** Every page of a target's history, following the cursors. */
export async function allHistory(store: Store, name: string, query: { from?: number; to?: number; limit: number }): Promise<StoredResult[][]> {
  const pages: StoredResult[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.history(name, { ...query, cursor });
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    cursor = page.nextCursor;
  }
}

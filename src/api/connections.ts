// How many connections the API listener holds, and for how long. Every connection costs a file descriptor, and so
// does every probe: without bounds, anyone who can reach the port could hold descriptors until the process hits
// its limit, and then probes fail with EMFILE and every target looks down. So the API gets at most a quarter of the
// process's descriptors (the rest stays for probes, the database and logs), a share per client address, and
// requests that must arrive in full within seconds.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ConnectionLimits {
  /** Connections the API holds at once, all clients together (server.maxConnections). */
  total: number;
  /** Connections one client address holds at once; more are closed as they arrive. */
  perClient: number;
  /** A request's headers and body must have arrived within this (else 408 and the connection is closed). */
  requestTimeoutMs: number;
  /** The request line and headers must have arrived within this. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Any connection without traffic for this long is closed. */
  idleTimeoutMs: number;
}

/** The share of the descriptor limit the API may use; the rest is the prober's reserve. */
const API_SHARE = 4;
const MAX_TOTAL = 1024;
const MIN_TOTAL = 16;
const MAX_PER_CLIENT = 64;
const MIN_PER_CLIENT = 4;
/** Assumed when the limit cannot be read (not Linux): the usual soft limit. */
export const DEFAULT_OPEN_FILES = 1024;

/** How often Node looks for requests past their timeout (its default, 30 s, would let one live 40 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * The limits for a process that may open `openFiles` descriptors: a quarter for the API (16 to 1024), an eighth
 * of that per client (4 to 64). With the common limit of 1024: 256 connections, 32 per client, 768 descriptors
 * kept for probes (at most 256 in flight per scheduler), the database and logs.
 */
export function connectionLimits(openFiles: number): ConnectionLimits {
  const total = Math.max(MIN_TOTAL, Math.min(MAX_TOTAL, Math.floor(openFiles / API_SHARE)));
  const perClient = Math.max(MIN_PER_CLIENT, Math.min(MAX_PER_CLIENT, Math.floor(total / 8)));
  return { total, perClient, requestTimeoutMs: 10_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 30_000 };
}

/**
 * The soft limit on open files of this process (Node raises it to the hard limit at start), from
 * /proc/self/limits; null where that cannot be read.
 */
export function readOpenFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match) return null;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** Applies the limits to the API's server (HTTP or HTTPS) and counts what they refuse. */
export function limitConnections(server: Server, limits: ConnectionLimits, registry: Registry, log: Logger): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = limits.total;

  const open = new Map<string, number>();
  let total = 0;
  const refused = new Counter({
    name: 'sstpwatch_api_connections_refused_total',
    help: 'API connections closed on arrival: over the per-client or the total limit.',
    labelNames: ['limit'],
    registers: [registry],
  });
  refused.inc({ limit: 'per_client' }, 0);
  refused.inc({ limit: 'total' }, 0);
  new Gauge({ name: 'sstpwatch_api_connections', help: 'API connections open now.', registers: [registry], collect() { this.set(total); } });
  new Gauge({ name: 'sstpwatch_api_connections_limit', help: 'API connections allowed at once (all clients together).', registers: [registry] }).set(limits.total);

  // One warning a minute at most: under attack there is one refusal per connection attempt.
  let lastWarning = 0;
  const warn = (limit: string, address: string | undefined) => {
    refused.inc({ limit });
    const now = Date.now();
    if (now - lastWarning < 60_000) return;
    lastWarning = now;
    log.warn({ limit, address, total: limits.total, perClient: limits.perClient }, 'API connection refused: connection limit reached (logged once a minute)');
  };

  server.on('drop', (data?: { remoteAddress?: string }) => warn('total', data?.remoteAddress));
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.perClient) {
      socket.destroy();
      return warn('per_client', address);
    }
    open.set(address, count);
    total++;
    socket.once('close', () => {
      total--;
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthSettings } from './deps.js';
import { HttpError } from './errors.js';

const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Compares in constant time: both sides are hashed first, so neither the length nor a prefix leaks. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Why a request may not write, or null when it carries the configured bearer token. A client learns only that a
 * bearer token is required (or that none is configured): where the token lives (a file path, a variable name) is
 * for the operator, in the log at start and in docs/security.md, never for whoever sends a request.
 */
export function authProblem(auth: AuthSettings | undefined, header: string | undefined): string | null {
  if (!auth?.token) return 'write endpoints are disabled: no bearer token is configured (the sstpwatch log and docs/security.md say how to set one)';
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  if (!match?.[1]) return 'this endpoint needs a bearer token: send the header "Authorization: Bearer <token>"';
  return tokenMatches(match[1], auth.token) ? null : 'invalid bearer token';
}

/**
 * With `auth.protect_reads`: why a read request may not see anything, or null when it may. Reads also take HTTP
 * Basic credentials whose password is the token (any user name), so a browser can open the status page; writes
 * take the Bearer header only, which a browser never sends by itself (no cross-site request forgery).
 */
export function readAuthProblem(auth: AuthSettings | undefined, header: string | undefined): string | null {
  if (!auth?.protectReads) return null;
  const basic = header === undefined ? null : /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (basic?.[1] && auth.token) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return tokenMatches(password, auth.token) ? null : 'invalid credentials';
  }
  const problem = authProblem(auth, header);
  if (problem === null) return null;
  if (!auth.token) return 'reads need a bearer token here, and none is configured (the sstpwatch log and docs/security.md say how to set one)';
  return problem === 'invalid bearer token' ? problem : 'this endpoint needs a bearer token: send "Authorization: Bearer <token>" (or HTTP Basic with the token as the password)';
}

/** Routes that answer without a token even with auth.protect_reads: a load balancer or orchestrator probes them. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** An onRequest hook for every route: with auth.protect_reads, GET/HEAD need the token (writes check their own). */
export function guardReads(auth: AuthSettings | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!auth?.protectReads) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    const problem = readAuthProblem(auth, request.headers.authorization);
    if (problem === null) return;
    void reply.header('www-authenticate', ['Bearer realm="sstpwatch"', 'Basic realm="sstpwatch", charset="UTF-8"']);
    request.log.warn({ url: request.url.split('?')[0], ip: request.ip }, 'read request refused: no valid token');
    throw unauthorized(problem);
  };
}

/** A preHandler for write routes: 401 in the contract shape unless the request carries the token. */
export function requireToken(auth: AuthSettings | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const problem = authProblem(auth, request.headers.authorization);
    if (problem === null) return;
    void reply.header('www-authenticate', 'Bearer realm="sstpwatch"');
    request.log.warn({ url: request.url.split('?')[0], ip: request.ip }, 'write request refused: no valid token');
    throw unauthorized(problem);
  };
}

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

/** Where the token is configured, for messages: never the token itself. */
function tokenSource(auth: AuthSettings | undefined): string {
  if (auth?.tokenFile) return `the file auth.token_file names (${auth.tokenFile})`;
  return auth?.tokenEnv ? `the environment variable ${auth.tokenEnv}` : 'the configured variable';
}

/** Why a request may not write, or null when it carries the configured bearer token. */
export function authProblem(auth: AuthSettings | undefined, header: string | undefined): string | null {
  const tokenEnv = auth?.tokenEnv ?? null;
  if (!auth?.token) {
    if (auth?.tokenFile) return `write endpoints are disabled: no token is configured; put a secret token in ${auth.tokenFile} (auth.token_file) and reload sstpwatch`;
    if (tokenEnv === null) {
      return 'write endpoints are disabled: auth.token_env is null in the config; set it to the name of an environment variable (e.g. SSTPWATCH_TOKEN), put a secret token in that variable and restart sstpwatch';
    }
    return `write endpoints are disabled: no token is configured; set the environment variable ${tokenEnv} (named by auth.token_env in the config) to a secret token and restart sstpwatch`;
  }
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  if (!match?.[1]) return `this endpoint needs the header "Authorization: Bearer <token>" (the token set in ${tokenSource(auth)})`;
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
  if (!auth.token) return `auth.protect_reads is on but no token is configured, so nothing can be read; set ${tokenSource(auth)} and restart or reload`;
  return problem.startsWith('this endpoint needs')
    ? `auth.protect_reads is on: send "Authorization: Bearer <token>" (or HTTP Basic with the token as password), the token set in ${tokenSource(auth)}`
    : problem;
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

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

/** Why a request may not write, or null when it carries the configured bearer token. */
export function authProblem(auth: AuthSettings | undefined, header: string | undefined): string | null {
  const tokenEnv = auth?.tokenEnv ?? null;
  if (!auth?.token) {
    if (tokenEnv === null) {
      return 'write endpoints are disabled: auth.token_env is null in the config; set it to the name of an environment variable (e.g. SSTPWATCH_TOKEN), put a secret token in that variable and restart sstpwatch';
    }
    return `write endpoints are disabled: no token is configured; set the environment variable ${tokenEnv} (named by auth.token_env in the config) to a secret token and restart sstpwatch`;
  }
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  if (!match?.[1]) return `this endpoint needs the header "Authorization: Bearer <token>" (the token set in ${tokenEnv ?? 'the configured variable'})`;
  return tokenMatches(match[1], auth.token) ? null : 'invalid bearer token';
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

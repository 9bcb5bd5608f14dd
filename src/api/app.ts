import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RequestListener, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { guardReads } from './auth.js';
import { answerClientError, SECURITY_HEADERS } from './client-errors.js';
import { limitConnections, TIMEOUT_CHECK_INTERVAL_MS } from './connections.js';
import type { AppDeps } from './deps.js';
import { badRequest, HttpError } from './errors.js';
import { ErrorBody } from './schemas.js';
import { availabilityRoutes } from './routes/availability.js';
import { healthRoutes } from './routes/health.js';
import { maintenanceRoutes } from './routes/maintenance.js';
import { metricsRoutes } from './routes/metrics.js';
import { pageRoutes } from './routes/page.js';
import { probeNowRoutes } from './routes/probe-now.js';
import { probeRoutes } from './routes/probe.js';
import { reloadRoutes } from './routes/reload.js';
import { statusListSource, statusRoutes } from './routes/status.js';
import { targetRoutes } from './routes/targets.js';
import { StatusVersions } from './status-versions.js';
import { InvalidCursorError, StoreTimeoutError, StoreUnavailableError, TargetNotFoundError, UnknownSiteError } from '../store/store.js';
import { siteLabel } from '../health/sites.js';
import { SiteStatus } from './sites.js';
import { FleetStatus } from './fleet.js';

export type App = ReturnType<typeof buildApp>;

/** Builds the HTTP API. It does not listen: main.ts does, tests use app.inject(). */
export function buildApp(deps: AppDeps) {
  const { https } = deps;
  const app = Fastify({
    // HTTPS through a server factory keeps one (http) type for the instance; setSecureContext swaps the certificate on reload.
    ...(https
      ? { serverFactory: (handler: RequestListener) => createHttpsServer({ cert: https.cert, key: https.key, ...SERVER_OPTIONS }, handler) as unknown as Server }
      : { http: SERVER_OPTIONS }),
    // Malformed requests, headers over 16 KiB, requests that did not arrive in time: the contract shape too.
    clientErrorHandler: answerClientError,
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    // The router's own refusals (a name over maxParamLength, broken percent-encoding) in the contract shape too.
    frameworkErrors: (err, _request, routeReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const reply = routeReply as unknown as FastifyReply;
      securityHeaders(reply); // no route, so no onSend hook runs for these
      void reply.status(tooLong ? 414 : 400).send({
        error: tooLong
          ? { code: 'uri_too_long', message: 'a path segment is too long (target names are at most 200 characters)' }
          : { code: 'bad_request', message: 'the URL is not valid (broken percent-encoding?)' },
      });
    },
    ajv: { customOptions: { coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (deps.connections) limitConnections(app.server, deps.connections, deps.registry, deps.log);

  app.addSchema(ErrorBody);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { statusCode, code, message, retryAfterS } = classifyError(err);
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS));
    // An overloaded service says so once per refused request: a warning about the machine, not a fault of its own.
    if (code === 'overloaded') request.log.warn({ url: request.url, reason: message }, 'request refused: overloaded');
    // Likewise a database too slow or locked for a read's deadline.
    else if (err instanceof StoreTimeoutError) request.log.warn({ url: request.url, reason: message }, 'request refused: the database did not answer in time');
    else if (statusCode >= 500) request.log.error({ err, url: request.url }, 'request failed');
    void reply.status(statusCode).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });

  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'sstpwatch', description: 'Monitoring for RRAS servers carrying SSTP VPN', version: deps.version ?? '0.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Before anything else (the token check too): requests that are malformed though Node's parser let them pass.
  app.addHook('onRequest', refuseMalformed);
  // With auth.protect_reads, every read but /healthz and /readyz needs the token.
  app.addHook('onRequest', guardReads(deps.auth));
  app.addHook('preHandler', async (request) => {
    rejectNonFiniteNumbers('querystring', request.query);
    rejectNonFiniteNumbers('body', request.body);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    securityHeaders(reply);
    return payload;
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  // Limits are set per route (probe, writes); nothing is limited unless a route asks.
  void app.register(rateLimit, { global: false });

  // The status list is answered from its newest version (status-versions.ts); a change made through this API shows at once.
  // Every site's state (published by the other instances in a shared database) merged into the live views.
  const sites = new SiteStatus(deps.store, deps.now ?? Date.now, deps.log);
  // With a shared fleet, the targets a peer of this site probes are shown from what it published.
  if (deps.fleet) deps = { ...deps, status: new FleetStatus(deps.status, deps.fleet, (name) => sites.ownPublished(name)) };
  const versions = new StatusVersions(statusListSource(deps, sites), deps.now ?? Date.now, (err) => deps.log.error({ err }, 'status list: building the next version failed'), {
    waitMs: deps.statusWaitMs,
  });
  // Only a write that succeeded: refused requests (401, 429) must not let a client defeat the snapshot's reuse.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 && request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') versions.invalidate();
    return payload;
  });
  void app.register(statusRoutes, { versions, sites });
  void app.register(targetRoutes, { deps, sites });
  void app.register(availabilityRoutes, { deps, sites });
  void app.register(maintenanceRoutes, { deps });
  void app.register(probeNowRoutes, { deps });
  void app.register(metricsRoutes, { deps });
  void app.register(healthRoutes, { deps });
  void app.register(probeRoutes, { probeEndpoint: deps.probeEndpoint });
  void app.register(pageRoutes, { deps, sites });
  void app.register(reloadRoutes, { deps });
  return app;
}

/**
 * Options of the HTTP(S) server: requests past their timeout are found within a second (Node's default, 30 s,
 * would let one live 40 s), and a missing Host header is answered by refuseMalformed in the contract shape rather
 * than by Node with an empty 400.
 */
const SERVER_OPTIONS = { connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS, requireHostHeader: false } as const;

/** Longer request targets are refused with 414 (target names are at most 200 characters; queries are short). */
const MAX_URL_LENGTH = 8 * 1024;

async function refuseMalformed(request: FastifyRequest): Promise<void> {
  if (request.url.length > MAX_URL_LENGTH) throw new HttpError(414, 'uri_too_long', `the request target is longer than ${MAX_URL_LENGTH} characters`);
  if (request.raw.httpVersion === '1.1' && !request.headers.host) throw badRequest('the Host header is missing (HTTP/1.1 requires it)');
}

/**
 * On every response, unless the route set its own (the status page sets a full CSP): no MIME sniffing, no
 * referrer, no framing, and nothing cached (API answers are live state; some need the token).
 */
function securityHeaders(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) void reply.header(name, value);
}

/**
 * Ajv coerces "Infinity" and "1e400" to Infinity and lets them through `integer`, `minimum` and `maximum`:
 * and JSON.parse reads 1e400 as Infinity: a number in a query or body must be finite, or it is a 400 like any
 * other bad value.
 */
function rejectNonFiniteNumbers(part: string, values: unknown): void {
  if (typeof values !== 'object' || values === null) return;
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw badRequest(`${part}/${name} must be a finite number`);
  }
}

/** Retry-After of a read the database did not answer within its deadline, seconds. */
const STORE_TIMEOUT_RETRY_AFTER_S = 5;

function classifyError(err: FastifyError): { statusCode: number; code: string; message: string; retryAfterS?: number } {
  if (err instanceof HttpError) return { statusCode: err.statusCode, code: err.code, message: err.message, retryAfterS: err.retryAfterS };
  if (err instanceof TargetNotFoundError) return { statusCode: 404, code: 'not_found', message: err.message };
  if (err instanceof UnknownSiteError) {
    const known = err.known.map((site) => JSON.stringify(siteLabel(site))).join(', ');
    return { statusCode: 404, code: 'not_found', message: `no site named ${JSON.stringify(siteLabel(err.site))} has probed anything here (sites: ${known})` };
  }
  if (err instanceof InvalidCursorError) return { statusCode: 400, code: 'bad_request', message: err.message };
  if (err instanceof StoreTimeoutError) return { statusCode: 503, code: 'store_unavailable', message: err.message, retryAfterS: STORE_TIMEOUT_RETRY_AFTER_S };
  if (err instanceof StoreUnavailableError) return { statusCode: 503, code: 'store_unavailable', message: err.message };
  if (err.validation) return { statusCode: 400, code: 'bad_request', message: err.message };
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { statusCode: status, code: clientErrorCode(status), message: err.message };
  return { statusCode: 500, code: 'internal', message: 'internal error; the details are in the sstpwatch log' };
}

function clientErrorCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 408) return 'request_timeout';
  if (status === 413) return 'payload_too_large';
  if (status === 414) return 'uri_too_long';
  if (status === 431) return 'headers_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  return 'bad_request';
}

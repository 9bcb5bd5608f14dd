import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Gauge, Registry } from 'prom-client';
import Type from 'typebox';
import { ErrorRef } from '../schemas.js';
import type { AllowList } from '../../config/allow-list.js';
import { isHostname } from '../../config/readers.js';
import type { ProbeSettings } from '../../config/types.js';
import type { ProbeFn, ProbeResult, ProbeTarget } from '../../probe/types.js';
import { ERROR_KINDS } from '../../probe/types.js';
import { badRequest, HttpError } from '../errors.js';

export interface ProbeEndpointDeps {
  enabled: boolean;
  allowList: AllowList;
  /** Probe settings for /probe targets: the config's `defaults`. */
  defaults: ProbeSettings;
  probe: ProbeFn;
  /** Resolves a host name to the address the probe will connect to. */
  resolve: (hostname: string) => Promise<{ address: string }>;
  /** Requests per minute per client address. */
  rateLimitPerMinute: number;
}

const ProbeQuery = Type.Object(
  {
    target: Type.String({ minLength: 1, maxLength: 2048, description: 'https://host[:port], or http:// for TLS offload' }),
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'public VPN name: SNI and Host (default: the URL host)' })),
    offload: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);

/** Prometheus adds this header to every scrape; blackbox_exporter keeps half a second for itself. */
const SCRAPE_TIMEOUT_HEADER = 'x-prometheus-scrape-timeout-seconds';
const TIMEOUT_OFFSET_MS = 500;
const MIN_TIMEOUT_MS = 100;

/** `GET /probe`: one SSTP probe now, answered with blackbox_exporter's http-prober metric names. */
export const probeRoutes: FastifyPluginAsyncTypebox<{ probeEndpoint?: ProbeEndpointDeps }> = async (app, { probeEndpoint: deps }) => {
  app.get(
    '/probe',
    {
      schema: {
        description: "One SSTP probe now, in Prometheus text with blackbox_exporter's http-prober metric names",
        querystring: ProbeQuery,
        response: {
          200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } },
          400: ErrorRef,
          403: ErrorRef,
          429: ErrorRef,
          503: ErrorRef,
        },
      },
      config: { rateLimit: { max: deps?.rateLimitPerMinute ?? 60, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      if (!deps?.enabled) {
        throw new HttpError(403, 'forbidden', '/probe is disabled: set probe_endpoint.enabled: true and list allowed targets in probe_endpoint.allow');
      }
      const url = parseProbeUrl(request.query.target);
      const offload = url.protocol === 'http:';
      if ((request.query.offload === '1' || request.query.offload === 'true') && !offload) {
        throw badRequest('offload=1 probes plain HTTP: give an http:// target (TLS is offloaded at the load balancer)');
      }
      const urlHost = url.hostname.replace(/^\[|\]$/g, '');
      const address = await allowedAddress(deps, urlHost);
      const timeoutMs = scrapeTimeout(request.headers[SCRAPE_TIMEOUT_HEADER], deps.defaults.timeoutMs);
      const hostname = probeHostname(request.query.hostname, urlHost);
      const pinned = new URL(url.origin);
      pinned.hostname = address.includes(':') ? `[${address}]` : address;
      const target: ProbeTarget = {
        name: 'probe',
        url: pinned.origin,
        hostname,
        offload,
        settings: { ...deps.defaults, timeoutMs, intervalMs: null, schedule: null },
      };
      const result = await deps.probe(target, AbortSignal.timeout(timeoutMs + 1000));
      // The monitor's own failure is no answer about the target: the scrape fails (up 0), probe_success stays honest.
      if (result.errorKind === 'monitor_error') throw new HttpError(503, 'monitor_error', result.message);
      const text = await blackboxMetrics(result).metrics();
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
    },
  );
};

/**
 * The public name for SNI and Host: a DNS name or an IP address, validated as the config validates a group's
 * hostname, so CR/LF (header injection), spaces, `user@host/path` and the like are a 400, never sent.
 */
function probeHostname(given: string | undefined, urlHost: string): string {
  if (given === undefined) return urlHost;
  if (!isHostname(given)) throw badRequest(`hostname must be a DNS name or an IP address (got ${JSON.stringify(given.slice(0, 100))})`);
  return given;
}

function parseProbeUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(`target must be an http(s) URL such as https://10.0.0.11 (got ${JSON.stringify(text.slice(0, 100))})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badRequest(`target must be an http(s) URL (got ${JSON.stringify(text.slice(0, 100))})`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw badRequest('target is the server only (scheme, host, port): the SSTP path is added by sstpwatch');
  }
  return url;
}

/**
 * The address to connect to, once it is known to be allowed: a listed host name is allowed wherever it
 * resolves; otherwise the resolved address must lie in a listed CIDR. The probe then connects to exactly
 * this address, so a second DNS answer cannot redirect it (DNS rebinding).
 */
async function allowedAddress(deps: ProbeEndpointDeps, host: string): Promise<string> {
  const nameAllowed = deps.allowList.allowsName(host);
  let address: string;
  try {
    address = (await deps.resolve(host)).address;
  } catch (err) {
    if (!nameAllowed) throw forbidden(host);
    throw badRequest(`cannot resolve ${JSON.stringify(host)}: ${(err as NodeJS.ErrnoException).code ?? 'lookup failed'}`);
  }
  if (!nameAllowed && !deps.allowList.allowsAddress(address)) throw forbidden(host === address ? host : `${host} (${address})`);
  return address;
}

function forbidden(what: string): HttpError {
  return new HttpError(403, 'forbidden', `target ${what} is not allowed by probe_endpoint.allow`);
}

export function scrapeTimeout(header: string | string[] | undefined, configuredMs: number): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return configuredMs;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw badRequest(`invalid ${SCRAPE_TIMEOUT_HEADER} header ${JSON.stringify(value)}`);
  return Math.max(MIN_TIMEOUT_MS, Math.min(configuredMs, seconds * 1000 - TIMEOUT_OFFSET_MS));
}

const BLACKBOX_PHASES = { resolve: 'dns', connect: 'connect', tls: 'tls', processing: 'processing' } as const;

/** blackbox_exporter's http-prober names, so existing dashboards and alerts keep working. */
export function blackboxMetrics(result: ProbeResult): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  gauge('probe_success', 'Displays whether or not the probe was a success').set(result.ok ? 1 : 0);
  gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds').set(result.durationMs / 1000);
  gauge('probe_http_status_code', 'Response HTTP status code').set(result.statusCode ?? 0);
  gauge('probe_http_version', 'Returns the version of HTTP of the probe response').set(result.httpVersion ? Number(result.httpVersion) || 0 : 0);
  gauge('probe_http_ssl', 'Indicates if SSL was used for the final redirect').set(result.tlsVersion ? 1 : 0);
  gauge('probe_dns_lookup_time_seconds', 'Returns the time taken for probe dns lookup in seconds').set((result.phasesMs.dns ?? 0) / 1000);
  const phases = gauge('probe_http_duration_seconds', 'Duration of http request by phase', ['phase']);
  for (const [phase, ours] of Object.entries(BLACKBOX_PHASES)) phases.set({ phase }, (result.phasesMs[ours] ?? 0) / 1000);
  phases.set({ phase: 'transfer' }, 0);
  if (result.certificate) {
    gauge('probe_ssl_earliest_cert_expiry', 'Returns last SSL chain expiry in unixtime').set(result.certificate.notAfter / 1000);
  }
  if (result.tlsVersion) {
    gauge('probe_tls_version_info', 'Returns the TLS version used or NaN when unknown', ['version']).set({ version: result.tlsVersion.replace(/^TLSv/, 'TLS ') }, 1);
  }
  const kinds = gauge('probe_sstp_error_kind', "The probe's sstpwatch error_kind (1 for the kind seen)", ['kind']);
  for (const kind of ERROR_KINDS) kinds.set({ kind }, kind === result.errorKind ? 1 : 0);
  return registry;
}

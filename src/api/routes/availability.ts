import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { incidentsFrom } from '../../health/incidents.js';
import { findTarget, historyReadErrors, siteParam, timeBound } from './common.js';
import type { SiteStatus } from '../sites.js';
import type { AppDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { presentIncident } from '../present.js';
import { IncidentsQuerySchema, IncidentsSchema, TargetParams, UptimeQuerySchema, UptimeSchema } from '../schemas.js';

const HOUR_MS = 3_600_000;
export const UPTIME_WINDOWS_MS = { '1h': HOUR_MS, '24h': 24 * HOUR_MS, '7d': 7 * 24 * HOUR_MS, '30d': 30 * 24 * HOUR_MS } as const;

/** Incidents (down periods from the state transitions) and uptime (from rollups) of one target. */
export const availabilityRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; sites?: SiteStatus }> = async (app, { deps }) => {
  const now = deps.now ?? Date.now;

  app.get(
    '/api/v1/targets/:name/incidents',
    { schema: { params: TargetParams, querystring: IncidentsQuerySchema, response: { 200: IncidentsSchema, ...historyReadErrors } } },
    async (request) => {
      const target = findTarget(deps.status, request.params.name);
      const t = now();
      const from = timeBound('from', request.query.from) ?? 0;
      const to = timeBound('to', request.query.to) ?? t;
      if (from > to) throw badRequest(`from (${request.query.from ?? from}) is after to (${request.query.to ?? to})`);
      const incidents = incidentsFrom(await deps.store.transitionsBetween(target.config.name, from, to, siteParam(request.query.site))).filter(
        (i) => i.startedAt <= to && (i.endedAt === null || i.endedAt >= from),
      );
      return { items: incidents.slice(0, request.query.limit).map((i) => presentIncident(i, t)) };
    },
  );

  app.get(
    '/api/v1/targets/:name/uptime',
    { schema: { params: TargetParams, querystring: UptimeQuerySchema, response: { 200: UptimeSchema, ...historyReadErrors } } },
    async (request) => {
      const target = findTarget(deps.status, request.params.name);
      const { window } = request.query;
      const t = now();
      const { probes, failures } = await deps.store.uptime(target.config.name, t - UPTIME_WINDOWS_MS[window], t + 1, siteParam(request.query.site));
      return { window, ratio: probes > 0 ? (probes - failures) / probes : null, probes, failures };
    },
  );
};

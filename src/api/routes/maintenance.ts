import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireToken } from '../auth.js';
import { DEFAULT_RATE_LIMITS, type AppDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { found, requireControl, targetWriteErrors } from './common.js';
import { parseTimeBound, presentTarget, scheduledFor } from '../present.js';
import { MaintenanceBodySchema, TargetParams, TargetStatusSchema } from '../schemas.js';

/** The longest maintenance window accepted. */
export const MAX_MAINTENANCE_MS = 366 * 86_400_000;

/** PUT/DELETE /api/v1/targets/:name/maintenance: in and out of state `maintenance` (bearer token). */
export const maintenanceRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const now = deps.now ?? Date.now;
  const security = [{ bearer: [] }];
  const rateLimit = { max: deps.rateLimits?.writePerMinute ?? DEFAULT_RATE_LIMITS.writePerMinute, timeWindow: 60_000 };

  app.put(
    '/api/v1/targets/:name/maintenance',
    {
      preHandler: requireToken(deps.auth),
      config: { rateLimit },
      schema: { params: TargetParams, body: MaintenanceBodySchema, security, response: { 200: TargetStatusSchema, ...targetWriteErrors } },
    },
    async (request) => {
      const control = requireControl(deps.control);
      const t = now();
      const until = parseTimeBound(request.body.until);
      if (until === null) throw badRequest(`until must be an ISO 8601 time or Unix milliseconds (got ${JSON.stringify(request.body.until)})`);
      if (until <= t) throw badRequest(`until must be in the future (got ${request.body.until}, now is ${new Date(t).toISOString()})`);
      if (until - t > MAX_MAINTENANCE_MS) throw badRequest(`until must be within 366 days (got ${request.body.until})`);
      const { name } = request.params;
      const target = found(name, control.setMaintenance(name, { until, reason: request.body.reason }));
      return presentTarget(target, t, undefined, scheduledFor(deps.maintenanceWindows, { target: target.config }, t));
    },
  );

  app.delete(
    '/api/v1/targets/:name/maintenance',
    {
      preHandler: requireToken(deps.auth),
      config: { rateLimit },
      schema: { params: TargetParams, security, response: { 200: TargetStatusSchema, ...targetWriteErrors } },
    },
    async (request) => {
      const control = requireControl(deps.control);
      const { name } = request.params;
      const t = now();
      const target = found(name, control.clearMaintenance(name));
      return presentTarget(target, t, undefined, scheduledFor(deps.maintenanceWindows, { target: target.config }, t));
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireToken } from '../auth.js';
import type { TargetView } from '../../health/views.js';
import { DEFAULT_RATE_LIMITS, type AppDeps, type TargetControl } from '../deps.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import { parseTimeBound, presentTarget, scheduledFor } from '../present.js';
import { MaintenanceBodySchema, TargetParams, TargetStatusSchema } from '../schemas.js';

const errors = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  404: Type.Ref('ErrorBody'),
  413: Type.Ref('ErrorBody'),
  429: Type.Ref('ErrorBody'),
  503: Type.Ref('ErrorBody'),
};

/** The longest maintenance window accepted. */
export const MAX_MAINTENANCE_MS = 366 * 86_400_000;

export function requireControl(control: TargetControl | undefined): TargetControl {
  if (!control) throw new HttpError(503, 'not_available', 'this sstpwatch does not run a monitor (write endpoints are unavailable)');
  return control;
}

export function found(name: string, target: TargetView | undefined): TargetView {
  if (!target) throw notFound(`no target named ${JSON.stringify(name)}`);
  return target;
}

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
      schema: { params: TargetParams, body: MaintenanceBodySchema, security, response: { 200: TargetStatusSchema, ...errors } },
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
      schema: { params: TargetParams, security, response: { 200: TargetStatusSchema, ...errors } },
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

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireToken } from '../auth.js';
import { DEFAULT_RATE_LIMITS, type AppDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import type { Maintenance } from '../../health/types.js';
import type { TargetView } from '../../health/views.js';
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

  /**
   * A target this instance does not probe (a peer of its site does): the window goes in the store, where every
   * instance probing the target adopts it within seconds. Answered with the target as it will be.
   */
  async function throughStore(name: string, maintenance: Maintenance | null): Promise<TargetView> {
    const view = found(name, deps.status.target(name));
    await deps.store.setMaintenance(name, maintenance);
    if (maintenance) return { ...view, health: { ...view.health, state: 'maintenance', maintenance } };
    return view.health.maintenance ? { ...view, health: { ...view.health, maintenance: null, state: view.health.underlying } } : view;
  }

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
      const maintenance = { until, reason: request.body.reason };
      const target = control.setMaintenance(name, maintenance) ?? (await throughStore(name, maintenance));
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
      const target = control.clearMaintenance(name) ?? (await throughStore(name, null));
      return presentTarget(target, t, undefined, scheduledFor(deps.maintenanceWindows, { target: target.config }, t));
    },
  );
};

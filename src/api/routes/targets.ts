import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findTarget, historyReadErrors, siteParam, targetReadErrors, timeBound } from './common.js';
import type { SiteStatus } from '../sites.js';
import type { AppDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { presentResult, presentRollup, presentTarget, scheduledFor } from '../present.js';
import { HistoryQuerySchema, HistorySchema, TargetParams, TargetStatusSchema } from '../schemas.js';

export const targetRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; sites: SiteStatus }> = async (app, { deps, sites }) => {
  const now = deps.now ?? Date.now;

  app.get(
    '/api/v1/targets/:name',
    { schema: { params: TargetParams, response: { 200: TargetStatusSchema, ...targetReadErrors } } },
    async (request) => {
      const target = (await sites.view(findTarget(deps.status, request.params.name)))!;
      const t = now();
      return presentTarget(target, t, deps.certificates?.target(request.params.name), scheduledFor(deps.maintenanceWindows, { target: target.config }, t));
    },
  );

  app.get(
    '/api/v1/targets/:name/history',
    { schema: { params: TargetParams, querystring: HistoryQuerySchema, response: { 200: HistorySchema, ...historyReadErrors } } },
    async (request) => {
      const target = findTarget(deps.status, request.params.name);
      const { limit, cursor } = request.query;
      const from = timeBound('from', request.query.from);
      const to = timeBound('to', request.query.to);
      if (from !== undefined && to !== undefined && from > to) {
        throw badRequest(`from (${request.query.from}) is after to (${request.query.to})`);
      }
      const { resolution } = request.query;
      if (resolution === '1m' || resolution === '1h') {
        const site = siteParam(request.query.site);
      const page = await deps.store.rollups(target.config.name, resolution, { from, to, limit, cursor }, site);
        return { items: page.items.map(presentRollup), next_cursor: page.nextCursor };
      }
      const page = await deps.store.history(target.config.name, { from, to, limit, cursor }, siteParam(request.query.site));
      return { items: page.items.map(presentResult), next_cursor: page.nextCursor };
    },
  );
};


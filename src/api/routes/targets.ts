import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppDeps, TargetView } from '../deps.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import { parseTimeBound, presentResult, presentRollup, presentTarget } from '../present.js';
import { HistoryQuerySchema, HistorySchema, TargetParams, TargetStatusSchema } from '../schemas.js';

const errors = { 400: Type.Ref('ErrorBody'), 404: Type.Ref('ErrorBody') };

export const targetRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const now = deps.now ?? Date.now;

  function findTarget(name: string): TargetView {
    const target = deps.status.target(name);
    if (!target) throw notFound(`no target named ${JSON.stringify(name)}`);
    return target;
  }

  app.get(
    '/api/v1/targets/:name',
    { schema: { params: TargetParams, response: { 200: TargetStatusSchema, ...errors } } },
    async (request) => presentTarget(findTarget(request.params.name), now(), deps.certificates?.target(request.params.name)),
  );

  app.get(
    '/api/v1/targets/:name/history',
    { schema: { params: TargetParams, querystring: HistoryQuerySchema, response: { 200: HistorySchema, ...errors } } },
    async (request) => {
      const target = findTarget(request.params.name);
      const { limit, cursor } = request.query;
      const from = timeBound('from', request.query.from);
      const to = timeBound('to', request.query.to);
      if (from !== undefined && to !== undefined && from > to) {
        throw badRequest(`from (${request.query.from}) is after to (${request.query.to})`);
      }
      const { resolution } = request.query;
      if (resolution === '1m' || resolution === '1h') {
        if (!deps.store.rollups) throw new HttpError(503, 'not_available', 'rollups are not available here');
        const page = deps.store.rollups(target.config.name, resolution, { from, to, limit, cursor });
        return { items: page.items.map(presentRollup), next_cursor: page.nextCursor };
      }
      const page = deps.store.history(target.config.name, { from, to, limit, cursor });
      return { items: page.items.map(presentResult), next_cursor: page.nextCursor };
    },
  );
};

export function timeBound(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeBound(value);
  if (ms === null) throw badRequest(`${name} must be an ISO 8601 time or Unix milliseconds (got ${JSON.stringify(value)})`);
  return ms;
}

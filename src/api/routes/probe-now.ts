import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireToken } from '../auth.js';
import { DEFAULT_RATE_LIMITS, type AppDeps } from '../deps.js';
import { presentResult } from '../present.js';
import { ResultSchema, TargetParams } from '../schemas.js';
import { findTarget, found, requireControl, targetWriteErrors } from './common.js';


/**
 * POST /api/v1/targets/:name/probe (bearer token): probes a configured target now and answers the result. The
 * result is handled like a scheduled one (state, metrics, history); a probe already in flight is joined.
 */
export const probeNowRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const rateLimit = { max: deps.rateLimits?.probeNowPerMinute ?? DEFAULT_RATE_LIMITS.probeNowPerMinute, timeWindow: 60_000 };
  app.post(
    '/api/v1/targets/:name/probe',
    {
      preHandler: requireToken(deps.auth),
      config: { rateLimit },
      schema: { params: TargetParams, security: [{ bearer: [] }], response: { 200: ResultSchema, ...targetWriteErrors } },
    },
    async (request) => {
      const control = requireControl(deps.control);
      const { name } = request.params;
      findTarget(deps.status, name);
      return presentResult(found(name, await control.probeNow(name)));
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireToken } from '../auth.js';
import { DEFAULT_RATE_LIMITS, type AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { presentResult } from '../present.js';
import { ResultSchema, TargetParams } from '../schemas.js';
import { requireControl } from './maintenance.js';

const errors = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  404: Type.Ref('ErrorBody'),
  413: Type.Ref('ErrorBody'),
  429: Type.Ref('ErrorBody'),
  503: Type.Ref('ErrorBody'),
};

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
      schema: { params: TargetParams, security: [{ bearer: [] }], response: { 200: ResultSchema, ...errors } },
    },
    async (request) => {
      const control = requireControl(deps.control);
      const { name } = request.params;
      if (!deps.status.target(name)) throw notFound(`no target named ${JSON.stringify(name)}`);
      const result = await control.probeNow(name);
      if (!result) throw notFound(`no target named ${JSON.stringify(name)}`);
      return presentResult(result);
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppDeps } from '../deps.js';
import { renderExposition } from '../../metrics/exposition.js';

export const metricsRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const schema = {
    description: 'Prometheus text exposition format 0.0.4',
    response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } } },
  };
  app.get('/metrics', { schema }, async (_request, reply) => {
    // Built in slices, so probes start on time while a large fleet's metrics are written (exposition.ts).
    const text = await renderExposition(deps.registry);
    return reply.type(deps.registry.contentType).send(text);
  });
};

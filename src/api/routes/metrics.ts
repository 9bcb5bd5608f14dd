import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppDeps } from '../deps.js';
import { Readable } from 'node:stream';
import { expositionChunks } from '../../metrics/exposition.js';

export const metricsRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const schema = {
    description: 'Prometheus text exposition format 0.0.4',
    response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } } },
  };
  app.get('/metrics', { schema }, async (_request, reply) => {
    // Built and sent in chunks, so probes start on time while a large fleet's metrics are written and the body is
    // never held whole (exposition.ts).
    return reply.type(deps.registry.contentType).send(Readable.from(expositionChunks(deps.registry)) as never); // a stream: the schema's string, sent as it is built
  });
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { AppDeps } from '../deps.js';
import { acceptsGzip } from '../status-list.js';
import { expositionChunks } from '../../metrics/exposition.js';

/**
 * gzip level 1, as Go's promhttp serves a scraper that asks for it: at 10,000 targets the body shrinks ~20x for
 * about a fifth of level 6's CPU, and that CPU is spent in libuv's pool, not on the event loop (docs/metrics.md).
 */
const GZIP_LEVEL = 1;

export const metricsRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const schema = {
    description: 'Prometheus text exposition format 0.0.4, gzipped when the scraper accepts it (Prometheus does)',
    response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } } },
  };
  app.get('/metrics', { schema }, async (request, reply) => {
    // Built and sent in chunks, so probes start on time while a large fleet's metrics are written and the body is
    // never held whole (exposition.ts). As a byte stream, the next chunk is built only once the socket (or zlib)
    // has taken the previous one.
    const text = Readable.from(expositionChunks(deps.registry), { objectMode: false });
    void reply.type(deps.registry.contentType).header('vary', 'accept-encoding');
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(text as never); // a stream: the schema's string, sent as it is built
    // pipeline: an error in the text ends the gzip stream (and the response), a client gone ends the text. Fastify
    // logs the error the gzip stream ends with; nothing more to do here.
    const gzip = pipeline(text, createGzip({ level: GZIP_LEVEL }), () => {});
    return reply.header('content-encoding', 'gzip').send(gzip as never);
  });
};

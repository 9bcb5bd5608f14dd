import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Readable } from 'node:stream';
import type { AppDeps } from '../deps.js';
import { acceptsGzip, gzipChunks } from '../encoding.js';
import { expositionChunks } from '../../metrics/exposition.js';

/** A byte stream of the chunks that builds the next one only once the socket has taken the last. */
const body = (chunks: AsyncIterable<Buffer>) => Readable.from(chunks, { objectMode: false, highWaterMark: 1 }) as never;

/** The chunks, then `done()` once they are all written or the stream is given up. */
async function* releasing(chunks: AsyncIterable<Buffer>, done: () => void): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } finally {
    done();
  }
}

export const metricsRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const schema = {
    description: 'Prometheus text exposition format 0.0.4, gzipped when the scraper accepts it (Prometheus does)',
    response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } } },
  };
  app.get('/metrics', { schema }, async (request, reply) => {
    // Built and sent in chunks, so the probes in flight are served while a large fleet's metrics are written and the
    // body is never held whole (exposition.ts).
    void reply.type(deps.registry.contentType).header('vary', 'accept-encoding');
    // New probes wait while the body is written (start-gate.ts); a client that goes away releases them too.
    const release = deps.startGate?.hold() ?? (() => {});
    reply.raw.once('close', release);
    // A stream: the schema's string, sent as it is built. Its chunks wait in the socket's queue until written.
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(body(releasing(expositionChunks(deps.registry), release)));
    // gzip deflates each chunk before it asks for the next, so the chunks are written through the same few buffers.
    const chunks = expositionChunks(deps.registry, undefined, { lendChunks: true });
    return reply.header('content-encoding', 'gzip').send(body(releasing(gzipChunks(chunks), release)));
  });
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppDeps } from '../deps.js';
import { ReadinessSchema } from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  // The version answers "which sstpwatch is this?" for a supervisor or a load balancer, without the token.
  const version = deps.version ?? '0.0.0';
  app.get('/healthz', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) } } }, async () => ({
    status: 'ok' as const,
    version,
  }));

  app.get('/readyz', { schema: { response: { 200: ReadinessSchema, 503: ReadinessSchema } } }, async (_request, reply) => {
    const { database, scheduler, ownership } = deps.readiness();
    const checks = {
      database: { ok: database.ok, reason: database.reason, pending_results: database.pendingResults },
      scheduler: { ok: scheduler.ok },
      ...(ownership && {
        ownership: {
          ok: ownership.ok,
          site: ownership.site,
          shards_owned: ownership.shardsOwned,
          shards_total: ownership.shardsTotal,
          peers: ownership.peers,
          housekeeper: ownership.housekeeper,
        },
      }),
    };
    const ownershipOk = ownership?.ok ?? true;
    if (database.ok && scheduler.ok && ownershipOk) return { ready: true, checks };
    const reasons = [
      database.ok ? null : `database not writable: ${database.reason ?? 'unknown reason'}`,
      scheduler.ok ? null : 'scheduler not running',
      ownershipOk ? null : 'the PostgreSQL session holding the shard locks is down: ownership of targets cannot be proven',
    ].filter((r) => r !== null);
    return reply.status(503).send({ ready: false, checks, error: { code: 'not_ready', message: reasons.join('; ') } });
  });
};

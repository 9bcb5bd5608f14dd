import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ErrorRef } from '../schemas.js';
import { requireToken } from '../auth.js';
import { DEFAULT_RATE_LIMITS, type AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';

const ConfigIssueSchema = Type.Object({ path: Type.String(), message: Type.String() });

const ReloadedSchema = Type.Object({
  reloaded: Type.Literal(true),
  targets: Type.Object({
    added: Type.Array(Type.String()),
    removed: Type.Array(Type.String()),
    changed: Type.Array(Type.String()),
    unchanged: Type.Integer(),
  }),
  restart_required: Type.Array(Type.String(), { description: 'top-level keys that changed but take effect only after a restart' }),
  warnings: Type.Array(Type.String()),
});

/** The contract's error shape, plus every problem of the refused config with its path. */
const InvalidConfigSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), issues: Type.Optional(Type.Array(ConfigIssueSchema)) }),
});

/**
 * POST /-/reload (bearer token), as Prometheus names it: re-reads the config file. Targets added, removed or
 * changed take effect at once; unchanged ones keep their state. An invalid file is refused (400, every error with
 * its path) and the running config stays.
 */
export const reloadRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const max = deps.rateLimits?.reloadPerMinute ?? DEFAULT_RATE_LIMITS.reloadPerMinute;
  app.post(
    '/-/reload',
    {
      preHandler: requireToken(deps.auth),
      config: { rateLimit: { max, timeWindow: 60_000 } },
      schema: {
        description: 'Re-reads the config file (like SIGHUP)',
        security: [{ bearer: [] }],
        response: { 200: ReloadedSchema, 400: InvalidConfigSchema, 401: ErrorRef, 429: ErrorRef, 503: ErrorRef },
      },
    },
    async (_request, reply) => {
      if (!deps.reload) throw new HttpError(503, 'not_available', 'this sstpwatch cannot reload its config');
      const report = await deps.reload();
      if (!report.ok) {
        const message = `the new config is invalid and was not applied; the running config stays: ${report.errors
          .map((e) => (e.path ? `${e.path}: ${e.message}` : e.message))
          .join('; ')}`;
        return reply.status(400).send({ error: { code: 'invalid_config', message, issues: report.errors } });
      }
      return {
        reloaded: true as const,
        targets: { added: report.added, removed: report.removed, changed: report.changed, unchanged: report.unchanged },
        restart_required: report.restartRequired,
        warnings: report.warnings,
      };
    },
  );
};

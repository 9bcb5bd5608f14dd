import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { presentGroup, presentTarget } from '../present.js';
import { StatusSchema } from '../schemas.js';

export const statusRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const now = deps.now ?? Date.now;

  app.get('/api/v1/status', { schema: { response: { 200: StatusSchema } } }, async () => {
    const t = now();
    const targets = deps.status.targets();
    const summary = { targets: targets.length, up: 0, down: 0, unknown: 0, maintenance: 0 };
    for (const target of targets) summary[target.health.state]++;
    return {
      generated_at: new Date(t).toISOString(),
      summary,
      groups: deps.status.groups().map((group) => presentGroup(group, deps.certificates?.group(group.config.name))),
      targets: targets.map((target) => presentTarget(target, t, deps.certificates?.target(target.config.name))),
    };
  });
};

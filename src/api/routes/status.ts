import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { presentGroup, scheduledFor } from '../present.js';
import { StatusSchema, type StatusJson } from '../schemas.js';
import { TargetJsonCache } from '../status-cache.js';

export const statusRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const now = deps.now ?? Date.now;
  const targetJson = new TargetJsonCache();

  // The schema documents the body; the body is assembled from per-target JSON kept between requests (status-cache.ts).
  app.get('/api/v1/status', { schema: { response: { 200: StatusSchema } } }, async (_request, reply) => {
    const t = now();
    const targets = deps.status.targets();
    const summary = { targets: targets.length, up: 0, down: 0, unknown: 0, maintenance: 0 };
    for (const target of targets) summary[target.health.state]++;
    const head = JSON.stringify({
      generated_at: new Date(t).toISOString(),
      summary,
      groups: deps.status.groups().map((group) =>
        presentGroup(group, deps.certificates?.group(group.config.name), scheduledFor(deps.maintenanceWindows, { group: group.config.name }, t)),
      ),
    });
    const parts = targets.map((target) =>
      targetJson.json(target, deps.certificates?.target(target.config.name), t, scheduledFor(deps.maintenanceWindows, { target: target.config }, t)),
    );
    targetJson.retain(targets);
    const body = `${head.slice(0, -1)},"targets":[${parts.join(',')}]}`;
    return reply.type('application/json; charset=utf-8').send(body as unknown as StatusJson); // a string goes out as is
  });
};

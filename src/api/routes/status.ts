import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import Type from 'typebox';
import { badRequest } from '../errors.js';
import { presentGroup, scheduledFor } from '../present.js';
import { StatusQuerySchema, StatusSchema, type StatusJson } from '../schemas.js';
import { StatusVersions, type StatusSnapshot } from '../status-cache.js';
import { acceptsGzip, matchesEtag, StatusBodies, type StatusQuery } from '../status-list.js';

export const statusRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const now = deps.now ?? Date.now;
  const versions = new StatusVersions();
  const bodies = new StatusBodies();

  /** Everything but the targets: summary of the whole fleet, the groups (only the filtered one under ?group). */
  function head(snapshot: StatusSnapshot, query: StatusQuery): string {
    const summary = { targets: snapshot.targets.length, up: 0, down: 0, unknown: 0, maintenance: 0 };
    for (const target of snapshot.targets) summary[target.health.state]++;
    const groups = query.group === undefined ? snapshot.groupJson : snapshot.groupJson.filter((_, i) => snapshot.groups[i]!.config.name === query.group);
    return `{"generated_at":"${new Date(snapshot.builtAt).toISOString()}","summary":${JSON.stringify(summary)},"groups":[${groups.join(',')}]}`;
  }

  // The schema documents the body; the body is assembled from per-target JSON kept between requests (status-cache.ts).
  app.get('/api/v1/status', { schema: { querystring: StatusQuerySchema, response: { 200: StatusSchema, 304: Type.Null({ description: 'If-None-Match named the current ETag: nothing changed' }) } } }, async (request, reply) => {
    const t = now();
    const groups = deps.status.groups();
    const query = request.query;
    if (query.group !== undefined && !groups.some((g) => g.config.name === query.group)) {
      throw badRequest(`group: no group named ${JSON.stringify(query.group)} is configured`);
    }
    const groupJson = groups.map((group) =>
      JSON.stringify(
        presentGroup(group, deps.certificates?.group(group.config.name), scheduledFor(deps.maintenanceWindows, { group: group.config.name }, t)),
      ),
    );
    const snapshot = versions.snapshot(deps.status.targets(), groups, groupJson, t, (view) =>
      scheduledFor(deps.maintenanceWindows, { target: view.config }, t),
    );
    const body = bodies.body(snapshot, query, head);
    // A poller that keeps the list asks again with If-None-Match (browsers keep nothing: cache-control stays no-store).
    void reply.header('etag', body.etag).header('vary', 'accept-encoding');
    if (matchesEtag(request.headers['if-none-match'], body.etag)) return reply.code(304).send(null);
    void reply.type('application/json; charset=utf-8');
    const gzipped = acceptsGzip(request.headers['accept-encoding']) ? bodies.gzipped(body) : null;
    if (gzipped) return reply.header('content-encoding', 'gzip').send((await gzipped) as unknown as StatusJson);
    return reply.send(body.json as unknown as StatusJson); // a Buffer goes out as is
  });
};

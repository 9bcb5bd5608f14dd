import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import Type from 'typebox';
import type { ScheduledMaintenance } from '../../health/maintenance-calendar.js';
import type { GroupView, TargetView } from '../../health/views.js';
import { badRequest } from '../errors.js';
import { presentGroup, presentTarget, scheduledFor } from '../present.js';
import { ErrorRef, StatusQuerySchema, StatusSchema, type StatusJson } from '../schemas.js';
import type { StatusListSource } from '../status-cache.js';
import { acceptsGzip } from '../encoding.js';
import { matchesEtag } from '../status-list.js';
import type { StatusVersions } from '../status-versions.js';
import type { SiteStatus } from '../sites.js';

/**
 * How the list shows a target and a group, and what each entry depends on. A target's entry is presentTarget()
 * without certificate details (the chain, its checks and revocation stay on /api/v1/targets/:name).
 */
export function statusListSource(deps: Pick<AppDeps, 'status' | 'certificates' | 'maintenanceWindows'>, sites?: SiteStatus): StatusListSource {
  const targetScheduled = (view: TargetView, now: number) => scheduledFor(deps.maintenanceWindows, { target: view.config }, now);
  const groupScheduled = (view: GroupView, now: number) => scheduledFor(deps.maintenanceWindows, { group: view.config.name }, now);
  return {
    targets: () => (sites ? sites.apply(deps.status.targets()) : deps.status.targets()),
    groups: () => (sites ? sites.applyGroups(deps.status.groups(), (name) => deps.status.target(name)) : deps.status.groups()),
    target: {
      key: (view) => view.config.name,
      inputs(view, now, into) {
        into.push(view.config, view.health, view.lastResults, view.sites);
        pushScheduled(into, targetScheduled(view, now));
      },
      present: (view, now) => presentTarget(view, now, undefined, targetScheduled(view, now)),
    },
    group: {
      key: (view) => view.config.name,
      inputs(view, now, into) {
        into.push(view.config, view.health, deps.certificates?.group(view.config.name));
        pushScheduled(into, groupScheduled(view, now));
      },
      present: (view, now) => presentGroup(view, deps.certificates?.group(view.config.name), groupScheduled(view, now)),
    },
  };
}

/** The calendar keeps each occurrence object until it changes. */
function pushScheduled(into: unknown[], s: ScheduledMaintenance | null | undefined): void {
  if (s == null) into.push(s);
  else into.push(s.current, s.next);
}

const statusResponses = {
  200: StatusSchema,
  304: Type.Null({ description: 'If-None-Match named the current ETag: nothing changed' }),
  400: ErrorRef,
  // overloaded, with Retry-After: the look at the live state was not ready in time (status-versions.ts)
  503: ErrorRef,
};

export const statusRoutes: FastifyPluginAsyncTypebox<{ versions: StatusVersions; sites: SiteStatus }> = async (app, { versions, sites }) => {
  // The schema documents the body; the body is assembled from per-target JSON kept between requests (status-cache.ts).
  app.get('/api/v1/status', { schema: { querystring: StatusQuerySchema, response: statusResponses } }, async (request, reply) => {
    await sites.refresh();
    const query = request.query;
    let version = await versions.current();
    if (query.group !== undefined && !version.bodies.snapshot.groupIndex.has(query.group)) {
      // A group added by a reload since the last look is listed at once.
      version = await versions.current(true);
      if (!version.bodies.snapshot.groupIndex.has(query.group)) throw badRequest(`group: no group named ${JSON.stringify(query.group)} is configured`);
    }
    const body = version.bodies.body(query);
    // A poller that keeps the list asks again with If-None-Match (browsers keep nothing: cache-control stays no-store).
    void reply.header('etag', body.etag).header('vary', 'accept-encoding');
    if (matchesEtag(request.headers['if-none-match'], body.etag)) return reply.code(304).send(null);
    void reply.type('application/json; charset=utf-8');
    if (body.compressible && acceptsGzip(request.headers['accept-encoding'])) {
      body.asked.gzip = true;
      return reply.header('content-encoding', 'gzip').send((await body.gzipped()) as unknown as StatusJson);
    }
    body.asked.identity = true;
    return reply.send(body.json() as unknown as StatusJson); // a Buffer goes out as is
  });
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { ErrorRef } from '../schemas.js';
import { incidentsFrom } from '../../health/incidents.js';
import type { AppDeps } from '../deps.js';
import type { SiteStatus } from '../sites.js';
import { scheduledFor } from '../present.js';
import { PAGE_SCRIPT, PAGE_STYLE } from '../page/assets.js';
import { buildStatusPage, UPTIME_WINDOWS, type TargetHistory, type UptimeWindow } from '../page/model.js';
import { planPage, type PagePlan } from '../page/paging.js';
import { DEFAULT_REFRESH_SECONDS, PAGE_SCRIPT_PATH, PAGE_STYLE_PATH, renderStatusPage } from '../page/render.js';
import { MINUTE_MS, minuteStrip, type StripSample } from '../page/strip.js';
import { UPTIME_WINDOWS_MS } from './availability.js';

/** Default seconds between the page's own refreshes (script, or meta refresh with JavaScript off). */
export const PAGE_REFRESH_SECONDS = DEFAULT_REFRESH_SECONDS;
const STRIP_MINUTES = 60;
const INCIDENT_WINDOW_MS = 24 * 3_600_000;
/** Raw results read per target for the minutes not rolled up yet (the last minute or two in steady state). */
const STRIP_RAW_LIMIT = 2000;

/** Self only: no inline script or style, nothing from another origin; the page may not be framed. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'page of a large fleet (groups with trouble first; healthy groups folded)' })),
  refresh: Type.Optional(Type.Integer({ minimum: 2, maximum: 3600, description: `seconds between refreshes (default ${PAGE_REFRESH_SECONDS})` })),
});

const text = (description: string, type: string) => ({ description, content: { [type]: { schema: Type.String() } } });

/** `GET /`: the status page for people, plus its stylesheet and script. */
export const pageRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; sites?: SiteStatus }> = async (app, { deps, sites }) => {
  const now = deps.now ?? Date.now;

  async function history(name: string, t: number): Promise<TargetHistory> {
    const { store } = deps;
    const guarded = async <T>(what: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (err) {
        app.log.warn({ err, target: name, what }, 'status page: history read failed');
        return null;
      }
    };
    const uptime = guarded('uptime', async () => {
      const ratios = {} as Record<UptimeWindow, number | null>;
      for (const w of UPTIME_WINDOWS) {
        const { probes, failures } = await store.uptime(name, t - UPTIME_WINDOWS_MS[w], t + 1);
        ratios[w] = probes > 0 ? (probes - failures) / probes : null;
      }
      return ratios;
    });
    const strip = guarded('strip', async () => {
      const from = Math.floor(t / MINUTE_MS) * MINUTE_MS - (STRIP_MINUTES - 1) * MINUTE_MS;
      const rollups = (await store.rollups(name, '1m', { from, to: t, limit: STRIP_MINUTES + 1 })).items;
      const rolledUpTo = rollups.length ? Math.max(...rollups.map((r) => r.at)) + MINUTE_MS : from;
      const page = await store.history(name, { from: rolledUpTo, to: t, limit: STRIP_RAW_LIMIT });
      let raw: StripSample[] = page.items;
      // A truncated page covers its oldest minute only in part: leave that minute out rather than show it wrong.
      if (page.nextCursor !== null && raw.length) {
        const oldestMinute = Math.floor(raw[raw.length - 1]!.at / MINUTE_MS) * MINUTE_MS;
        raw = raw.filter((r) => r.at >= oldestMinute + MINUTE_MS);
      }
      return minuteStrip(rollups, raw, t, STRIP_MINUTES);
    });
    const incidents = guarded('incidents', async () =>
      incidentsFrom(await store.transitionsBetween(name, t - INCIDENT_WINDOW_MS, t)).filter(
        (i) => i.endedAt === null || i.endedAt >= t - INCIDENT_WINDOW_MS,
      ),
    );
    return { uptime: await uptime, strip: await strip, incidents: await incidents };
  }

  /** The history of the targets this page lists (never the whole fleet), read before the (pure) page model is built. */
  async function histories(plan: PagePlan, t: number): Promise<Map<string, TargetHistory>> {
    const names = new Set(plan.groups.flatMap((g) => g.listed));
    const entries = await Promise.all([...names].map(async (name) => [name, await history(name, t)] as const));
    return new Map(entries);
  }

  app.get(
    '/',
    {
      schema: {
        description: 'The status page for people (HTML; refreshes itself, works without JavaScript)',
        querystring: PageQuery,
        response: { 200: text('Status page', 'text/html'), 400: ErrorRef },
      },
    },
    async (request, reply) => {
      await sites?.refresh();
      const t = now();
      const groups = sites ? sites.applyGroups(deps.status.groups(), (name) => deps.status.target(name)) : deps.status.groups();
      const plan = planPage(groups, request.query.page ?? 1);
      const read = await histories(plan, t);
      const model = buildStatusPage({
        plan,
        now: t,
        refreshSeconds: request.query.refresh ?? PAGE_REFRESH_SECONDS,
        version: deps.version ?? '',
        groups,
        target: (name) => {
          const view = deps.status.target(name);
          return view && sites ? sites.apply([view])[0] : view;
        },
        history: (name) => read.get(name) ?? { uptime: null, strip: null, incidents: null },
        incidentWindowMs: INCIDENT_WINDOW_MS,
        ...(deps.maintenanceWindows
          ? { windows: { list: deps.maintenanceWindows.list(t), forTarget: (config) => scheduledFor(deps.maintenanceWindows, { target: config }, t) ?? null } }
          : {}),
      });
      return securityHeaders(reply).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderStatusPage(model));
    },
  );

  app.get(PAGE_STYLE_PATH, { schema: { description: "The status page's stylesheet", response: { 200: text('CSS', 'text/css') } } }, async (_request, reply) =>
    securityHeaders(reply).header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(PAGE_STYLE),
  );

  app.get(PAGE_SCRIPT_PATH, { schema: { description: "The status page's refresh script", response: { 200: text('JavaScript', 'text/javascript') } } }, async (_request, reply) =>
    securityHeaders(reply).header('cache-control', 'public, max-age=300').type('text/javascript; charset=utf-8').send(PAGE_SCRIPT),
  );
};

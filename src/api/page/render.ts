// Pure: the status page model -> HTML. Every value goes through `html` (escaped); no inline script or style,
// so the Content-Security-Policy can be `self` only.
import type { GroupState } from '../../health/group.js';
import type { TargetState } from '../../health/types.js';
import { formatDaysLeft, formatLatency, formatRatio, formatSpan, formatUtc } from './format.js';
import { html, type SafeHtml } from './html.js';
import type { WindowStatus } from '../../health/maintenance-calendar.js';
import type { GroupSection, IncidentRow, MaintenanceRow, StatusPageModel, TargetRow } from './model.js';
import { UPTIME_WINDOWS } from './model.js';
import { describeStrip, renderStrip } from './strip.js';

export const PAGE_SCRIPT_PATH = '/page/status.js';
export const PAGE_STYLE_PATH = '/page/status.css';
/** The route's default refresh period: page links carry `refresh` only when it differs. */
export const DEFAULT_REFRESH_SECONDS = 30;

const TARGET_STATE_LABEL: Record<TargetState, { icon: string; text: string }> = {
  up: { icon: '✔', text: 'Up' },
  down: { icon: '✖', text: 'Down' },
  unknown: { icon: '…', text: 'Unknown' },
  maintenance: { icon: '⚒', text: 'Maintenance' },
};

const GROUP_STATE_LABEL: Record<GroupState, { icon: string; text: string }> = {
  ok: { icon: '✔', text: 'OK' },
  degraded: { icon: '▲', text: 'Degraded' },
  down: { icon: '✖', text: 'Down' },
  unknown: { icon: '…', text: 'Unknown' },
};

const CERT_LEVEL_LABEL = { ok: '', warning: ' (warning)', critical: ' (critical)', expired: '' } as const;

function badge(kind: string, label: { icon: string; text: string }): SafeHtml {
  return html`<span class="badge state-${kind}"><span aria-hidden="true">${label.icon}</span> ${label.text}</span>`;
}

function time(ms: number, text: string): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}" title="${formatUtc(ms)}">${text}</time>`;
}

/** DOM ids from names: names are restricted by the config, but an id is built defensively anyway. */
function idOf(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

export function renderStatusPage(m: StatusPageModel): string {
  const title = pageTitle(m);
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<noscript><meta http-equiv="refresh" content="${m.refreshSeconds}"></noscript>
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${PAGE_STYLE_PATH}">
<script src="${PAGE_SCRIPT_PATH}" defer></script>
</head>
<body>
<a class="skip" href="#content">Skip to the status</a>
<header class="top">
<h1>SSTP VPN status</h1>
<p class="controls"><a href="" id="reload">Reload</a> <span id="refresh-state">This page reloads itself every ${m.refreshSeconds} s.</span></p>
</header>
<main id="content" data-refresh="${m.refreshSeconds}" data-title="${title}">
${summary(m)}
${pager(m)}
${m.groups.map((g) => group(g, m.now))}
${foldedSection(m)}
${pager(m)}
${maintenanceSection(m.maintenance, m.maintenanceOmitted, m.windows, m.now)}
${incidentSection(m.incidents, m.incidentWindowMs, m.now)}
<p class="generated">Generated ${time(m.now, formatUtc(m.now))} by sstpwatch ${m.version}.</p>
</main>
<footer class="bottom">
<nav aria-label="For programs"><ul><li><a href="/api/v1/status">JSON status</a></li><li><a href="/metrics">Prometheus metrics</a></li><li><a href="/docs">API documentation</a></li></ul></nav>
</footer>
</body>
</html>
`;
  return doc.value;
}

function pageTitle(m: StatusPageModel): string {
  const s = m.summary;
  if (s.down > 0) return `${s.down} down · SSTP VPN status`;
  if (s.targets > 0 && s.up === s.targets) return 'All up · SSTP VPN status';
  return 'SSTP VPN status';
}

function summary(m: StatusPageModel): SafeHtml {
  const s = m.summary;
  const more = s.down - m.downNames.length;
  const down = more > 0 ? `${m.downNames.join(', ')} and ${more} more` : m.downNames.join(', ');
  let headline: SafeHtml;
  if (s.targets === 0) headline = html`No targets configured.`;
  else if (s.down > 0) headline = html`<strong>${s.down} of ${s.targets} targets down:</strong> ${down}.`;
  else if (s.up === s.targets) headline = html`<strong>All ${s.targets} targets up.</strong>`;
  else headline = html`<strong>No target down.</strong>`;
  const parts = (['up', 'down', 'unknown', 'maintenance'] as const).map((state) => html`<li>${badge(state, TARGET_STATE_LABEL[state])} <span class="count">${s[state]}</span></li>`);
  return html`<section class="summary summary-${s.down > 0 ? 'down' : s.up === s.targets && s.targets > 0 ? 'up' : 'other'}" aria-labelledby="summary-heading">
<h2 id="summary-heading" class="visually-hidden">Summary</h2>
<p>${headline}</p>
<ul class="counts" aria-label="Targets by state">${parts}</ul>
</section>`;
}

function group(g: GroupSection, now: number): SafeHtml {
  const id = idOf('group', g.name);
  const servers = `${g.serversUp} of ${g.serversTotal} server${g.serversTotal === 1 ? '' : 's'} up`;
  return html`<section class="group" aria-labelledby="${id}">
<h2 id="${id}"><span class="group-name">${g.name}</span> ${badge(g.state, GROUP_STATE_LABEL[g.state])}</h2>
<p class="group-meta">${g.hostname} · ${servers}</p>
<table class="targets">
<caption class="visually-hidden">Targets of group ${g.name}</caption>
<thead><tr><th scope="col">Target</th><th scope="col">State</th><th scope="col">Last probe</th><th scope="col">Last hour</th><th scope="col">Uptime</th><th scope="col">Certificate</th></tr></thead>
<tbody>
${g.targets.map((t) => targetRow(t, now))}
</tbody>
</table>
${g.omitted > 0 ? html`<p class="muted omitted">${g.omitted} more targets of this group are not listed here; <a href="/api/v1/status">the JSON status</a> has them all.</p>` : html``}
</section>
`;
}

/** Links to the other pages of a large fleet: plain links, so they work without JavaScript. */
function pager(m: StatusPageModel): SafeHtml {
  if (m.pages <= 1) return html``;
  const href = (n: number) => `/?page=${n}${m.refreshSeconds !== DEFAULT_REFRESH_SECONDS ? `&refresh=${m.refreshSeconds}` : ''}`;
  const link = (n: number, text: string) => html`<a href="${href(n)}">${text}</a>`;
  return html`<nav class="pager" aria-label="Pages">Page ${m.page} of ${m.pages} (groups with trouble first)${m.page > 1 ? html` · ${link(1, 'first')} · ${link(m.page - 1, 'previous')}` : html``}${m.page < m.pages ? html` · ${link(m.page + 1, 'next')} · ${link(m.pages, 'last')}` : html``}</nav>`;
}

function foldedSection(m: StatusPageModel): SafeHtml {
  if (!m.folded.length) return html``;
  return html`<section class="folded" aria-labelledby="folded-heading">
<h2 id="folded-heading">Healthy groups ${badge('ok', GROUP_STATE_LABEL.ok)}</h2>
<table>
<caption class="visually-hidden">Groups that are OK with every server up (their targets are not listed)</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Hostname</th><th scope="col">Servers</th></tr></thead>
<tbody>${m.folded.map((g) => html`<tr data-group="${g.name}"><th scope="row">${g.name}</th><td data-label="Hostname">${g.hostname}</td><td data-label="Servers">all ${g.serversTotal} up</td></tr>`)}</tbody>
</table>
</section>
`;
}

function targetRow(t: TargetRow, now: number): SafeHtml {
  return html`<tr data-target="${t.name}" data-state="${t.state}">
<th scope="row"><span class="target-name">${t.name}</span> <span class="role">${t.role === 'vip' ? 'VIP' : 'server'}</span><br><span class="url">${t.url}</span></th>
<td data-label="State" class="state">${badge(t.state, TARGET_STATE_LABEL[t.state])}${stateDetail(t, now)}</td>
<td data-label="Last probe" class="last">${lastProbe(t, now)}</td>
<td data-label="Last hour" class="history">${strip(t)}</td>
<td data-label="Uptime" class="uptime">${uptime(t)}</td>
<td data-label="Certificate" class="cert">${certificate(t)}</td>
</tr>
`;
}

function stateDetail(t: TargetRow, now: number): SafeHtml {
  const lines: SafeHtml[] = [];
  if (t.since !== null) lines.push(html`<span class="since">for ${time(t.since, formatSpan(now - t.since))}</span>`);
  else lines.push(html`<span class="since">no verdict yet</span>`);
  if (t.state === 'maintenance' && t.maintenance) {
    lines.push(html`<span class="maint">until ${time(t.maintenance.until, formatUtc(t.maintenance.until))}: <q class="reason">${t.maintenance.reason}</q></span>`);
  }
  const next = t.scheduled?.next;
  if (next && !t.scheduled?.current) {
    lines.push(html`<span class="next-window">next window <q>${next.window}</q> ${time(next.start, `${formatUtc(next.start)} (in ${formatSpan(next.start - now)})`)}</span>`);
  }
  if (t.state === 'up' && t.consecutiveFailures > 0) lines.push(html`<span class="flapping">${t.consecutiveFailures} failed in a row</span>`);
  if (t.sites) {
    const badges = t.sites.map(
      (s) => html`<li data-site="${s.site}">${badge(s.state, { icon: TARGET_STATE_LABEL[s.state].icon, text: `${s.site}: ${s.stale ? 'stale' : TARGET_STATE_LABEL[s.state].text}` })}</li>`,
    );
    lines.push(html`<ul class="sites" aria-label="State from each site">${badges}</ul>`);
  }
  for (const f of t.siteFindings) lines.push(html`<span class="site-finding"><strong>${f.message}</strong>: ${f.fix}</span>`);
  return html`${lines.map((l) => html`<br>${l}`)}`;
}

function lastProbe(t: TargetRow, now: number): SafeHtml {
  const last = t.last;
  if (!last) return html`<span class="muted">not probed yet</span>`;
  const when = html`${time(last.at, `${formatSpan(now - last.at)} ago`)}`;
  const d = t.diagnosis;
  if (last.ok) {
    const note = d && (d.phase === 'certificate' || d.phase === 'slow') ? html`<br><span class="warn-text">${d.headline}</span>` : html``;
    return html`<span class="ok-text">${last.statusCode ?? ''} in ${formatLatency(last.durationMs)}</span>, ${when}${note}`;
  }
  return html`<strong class="error-headline">${d ? d.headline : last.errorKind}</strong>, ${when}
<br><code class="error-message">${last.message}</code>
${d ? html`<details id="${idOf('why', t.name)}"><summary>Why, and what to do</summary><p>${d.explanation}</p>${d.fix ? html`<p><strong>Fix:</strong> ${d.fix}</p>` : html``}</details>` : html``}`;
}

function strip(t: TargetRow): SafeHtml {
  const buckets = t.history.strip;
  if (!buckets) return html`<span class="muted">not available</span>`;
  return html`${renderStrip(buckets)}<span class="strip-text">${describeStrip(buckets)}</span>`;
}

const WINDOW_LABEL = { '24h': '24 h', '7d': '7 d', '30d': '30 d' } as const;

function uptime(t: TargetRow): SafeHtml {
  const up = t.history.uptime;
  if (!up) return html`<span class="muted">not available</span>`;
  return html`<dl class="uptime-list">${UPTIME_WINDOWS.map((w) => html`<div><dt>${WINDOW_LABEL[w]}</dt><dd>${formatRatio(up[w])}</dd></div>`)}</dl>`;
}

function certificate(t: TargetRow): SafeHtml {
  if (t.offload) return html`<span class="muted">TLS offloaded: none</span>`;
  const c = t.certificate;
  if (!c) return html`<span class="muted">none seen yet</span>`;
  const level = c.level;
  const icon = level === 'ok' ? '' : level === 'warning' ? '▲ ' : '✖ ';
  return html`<span class="cert-days cert-${level}"><span aria-hidden="true">${icon}</span>${formatDaysLeft(c.daysLeft)}${CERT_LEVEL_LABEL[level]}</span><br><span class="cert-until">until ${time(c.notAfter, formatUtc(c.notAfter).slice(0, 10))}</span>`;
}

function windowsTable(windows: WindowStatus[], now: number): SafeHtml {
  if (!windows.length) return html``;
  const covers = (w: WindowStatus) => [...w.config.groups.map((g) => `group ${g}`), ...w.config.targets].join(', ');
  const when = (w: WindowStatus): SafeHtml => {
    if (w.current) return html`<strong>in progress</strong> until ${time(w.current.end, `${formatUtc(w.current.end)} (in ${formatSpan(w.current.end - now)})`)}`;
    return w.next ? html`${time(w.next.start, `${formatUtc(w.next.start)} (in ${formatSpan(w.next.start - now)})`)}` : html`<span class="muted">none</span>`;
  };
  return html`<table class="windows">
<caption>Maintenance windows (from the config)</caption>
<thead><tr><th scope="col">Window</th><th scope="col">Covers</th><th scope="col">Recurs</th><th scope="col">Now / next</th></tr></thead>
<tbody>${windows.map((w) => html`<tr data-window="${w.config.name}"><th scope="row">${w.config.name}</th><td data-label="Covers">${covers(w)}</td><td data-label="Recurs">${w.description}</td><td data-label="Now / next">${when(w)}</td></tr>`)}</tbody>
</table>`;
}

function maintenanceSection(rows: MaintenanceRow[], omitted: number, windows: WindowStatus[], now: number): SafeHtml {
  const body = rows.length
    ? html`<table>
<caption class="visually-hidden">Targets in maintenance</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Group</th><th scope="col">Until</th><th scope="col">Reason</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><th scope="row">${r.target}</th><td data-label="Group">${r.group}</td><td data-label="Until">${time(r.until, `${formatUtc(r.until)} (in ${formatSpan(r.until - now)})`)}</td><td data-label="Reason" class="reason">${r.reason}</td></tr>`)}</tbody>
</table>`
    : html`<p class="muted">No target is in maintenance.</p>`;
  const more = omitted > 0 ? html`<p class="muted omitted">and ${omitted} more targets in maintenance.</p>` : html``;
  return html`<section class="maintenance" aria-labelledby="maintenance-heading">
<h2 id="maintenance-heading">Maintenance</h2>
${body}
${more}
${windowsTable(windows, now)}
</section>
`;
}

function incidentSection(rows: IncidentRow[], windowMs: number, now: number): SafeHtml {
  const heading = `Incidents in the last ${windowMs % 3_600_000 === 0 ? `${windowMs / 3_600_000} hours` : formatSpan(windowMs)}`;
  const body = rows.length
    ? html`<table>
<caption class="visually-hidden">${heading}, open ones first</caption>
<thead><tr><th scope="col">Target</th><th scope="col">Started</th><th scope="col">Lasted</th><th scope="col">Cause</th></tr></thead>
<tbody>${rows.map((r) => incidentRow(r, now))}</tbody>
</table>`
    : html`<p class="muted">No incidents.</p>`;
  return html`<section class="incidents" aria-labelledby="incidents-heading">
<h2 id="incidents-heading">${heading}</h2>
${body}
</section>
`;
}

function incidentRow(r: IncidentRow, now: number): SafeHtml {
  const open = r.endedAt === null;
  const lasted = formatSpan((r.endedAt ?? now) - r.startedAt);
  return html`<tr class="${open ? 'open' : 'closed'}"><th scope="row">${r.target} <span class="role">${r.group}</span></th>
<td data-label="Started">${time(r.startedAt, formatUtc(r.startedAt))}</td>
<td data-label="Lasted">${open ? html`<span class="badge state-down"><span aria-hidden="true">✖</span> Ongoing</span> ${lasted} so far` : lasted}</td>
<td data-label="Cause">${r.cause ? r.cause.replaceAll('_', ' ') : ''}${r.message ? html`: <code class="error-message">${r.message}</code>` : html``}</td></tr>`;
}

import { describe, expect, it } from 'vitest';
import type { GroupView, TargetView } from '../../../src/health/views.js';
import { buildStatusPage, type TargetHistory } from '../../../src/api/page/model.js';
import { renderStatusPage } from '../../../src/api/page/render.js';
import { minuteStrip } from '../../../src/api/page/strip.js';
import { builtInProbeSettings } from '../../../src/config/defaults.js';
import type { TargetConfig } from '../../../src/config/types.js';
import type { ProbeResult } from '../../../src/probe/types.js';
import { targetConfig } from '../../fixtures/domain.js';

const NOW = Date.UTC(2026, 10, 26, 21, 0, 0);
const DAY = 86_400_000;
const HOSTILE = '<img src=x onerror=alert(1)>';
const ESCAPED = '&lt;img src=x onerror=alert(1)&gt;';

function target(name: string, over: Partial<TargetConfig> = {}): TargetConfig {
  return targetConfig(name, builtInProbeSettings(), { group: 'g', url: 'https://10.0.0.11', hostname: 'vpn.example.com', ...over });
}

function result(over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    at: NOW - 5000,
    ok: true,
    errorKind: 'ok',
    message: 'ok',
    statusCode: 401,
    httpVersion: '1.1',
    durationMs: 12.4,
    phasesMs: { dns: 0.1, connect: 0.4, tls: 6, processing: 5.9 },
    tlsVersion: 'TLSv1.3',
    certificateSha256: 'AB',
    certificate: { subject: 'CN=vpn', issuer: 'CN=ca', san: [], notBefore: NOW - DAY, notAfter: NOW + 10.5 * DAY, sha256: 'AB', keyType: 'RSA', keyBits: 2048 },
    ...over,
  };
}

const history: TargetHistory = {
  uptime: { '24h': 0.9999, '7d': 1, '30d': null },
  strip: minuteStrip([], [{ at: NOW - 1000, ok: true, durationMs: 12 }], NOW, 60),
  incidents: [],
};

/** A page whose every config- and target-provided value is hostile markup. */
function hostilePage(): string {
  const up: TargetView = {
    config: target('rras-1', { url: `https://10.0.0.11/${HOSTILE}`, hostname: HOSTILE }),
    health: { state: 'up', since: NOW - 3_600_000, consecutiveFailures: 0, consecutiveSuccesses: 5, lastResult: result(), maintenance: null, underlying: 'up' },
    lastResults: {},
  };
  const down: TargetView = {
    config: target('rras-2'),
    health: {
      state: 'down',
      since: NOW - 600_000,
      consecutiveFailures: 4,
      consecutiveSuccesses: 0,
      lastResult: result({ ok: false, errorKind: 'cert_untrusted', message: `self-signed ${HOSTILE}`, statusCode: null, certificate: undefined }),
      maintenance: null,
      underlying: 'down',
    },
    lastResults: {},
  };
  const maint: TargetView = {
    config: target('rras-3', { role: 'vip' }),
    health: { state: 'maintenance', since: NOW - 60_000, consecutiveFailures: 0, consecutiveSuccesses: 0, lastResult: null, maintenance: { until: NOW + 3_600_000, reason: HOSTILE }, underlying: 'up' },
    lastResults: {},
  };
  const views = new Map([up, down, maint].map((v) => [v.config.name, v]));
  const group: GroupView = {
    config: { name: `g${HOSTILE}`, hostname: HOSTILE, servers: ['rras-1', 'rras-2', 'missing'], vip: 'rras-3' },
    health: { state: 'degraded', serversUp: 1, serversTotal: 2 },
  };
  const model = buildStatusPage({
    now: NOW,
    refreshSeconds: 30,
    version: HOSTILE,
    groups: [group],
    target: (name) => views.get(name),
    history: (name) =>
      name === 'rras-2'
        ? { ...history, incidents: [{ startedAt: NOW - 600_000, endedAt: null, cause: 'cert_untrusted', message: HOSTILE }] }
        : history,
    incidentWindowMs: DAY,
  });
  return renderStatusPage(model);
}

describe('status page templates', () => {
  const page = hostilePage();

  it('escapes every value that came from config or from a target', () => {
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/<[^>]*\sonerror=/);
    // group name (heading, caption, incidents), group hostname, URL, probe message, maintenance reason (twice), incident message, version
    expect(page.split(ESCAPED).length - 1).toBeGreaterThanOrEqual(9);
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).toContain('<script src="/page/status.js" defer></script>');
  });

  it('gives element ids only safe characters', () => {
    for (const [, id] of page.matchAll(/\sid="([^"]*)"/g)) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('has no inline style or event handler attributes (the CSP allows neither)', () => {
    expect(page).not.toMatch(/<[^>]*\sstyle=/);
    expect(page).not.toMatch(/<[^>]*\son[a-z]+=/);
  });

  it('shows state in words, with `sstpwatch check` wording for the last error', () => {
    expect(page).toMatch(/<tr data-target="rras-2" data-state="down">[\s\S]*?Down<\/span>/);
    expect(page).toContain('<strong class="error-headline">self-signed certificate</strong>');
    expect(page).toContain(`<code class="error-message">self-signed ${ESCAPED}</code>`);
    expect(page).toContain('Degraded');
    expect(page).toContain('1 of 2 servers up');
  });

  it('colours certificate days by the alert thresholds and says the level in words', () => {
    expect(page).toContain('<span class="cert-days cert-warning"><span aria-hidden="true">▲ </span>10 days left (warning)</span>');
  });

  it('lists uptime per window, the open incident first, and the maintenance window', () => {
    expect(page).toContain('<dt>24 h</dt><dd>99.99 %</dd>');
    expect(page).toContain('<dt>30 d</dt><dd>no data</dd>');
    expect(page).toMatch(/<tr class="open"><th scope="row">rras-2/);
    expect(page).toContain('Incidents in the last 24 hours');
    expect(page).toMatch(/<h2 id="maintenance-heading">Maintenance<\/h2>[\s\S]*rras-3/);
  });

  it('uses table headers with scope, landmarks and one h1', () => {
    expect(page.match(/<h1>/g)).toHaveLength(1);
    expect(page).toContain('<main id="content"');
    expect(page).toContain('<header');
    expect(page).toContain('<footer');
    for (const [th] of page.matchAll(/<th[ >][^>]*/g)) expect(th).toMatch(/scope="(col|row)"/);
  });

  it('refreshes itself with JavaScript off through a noscript meta refresh', () => {
    expect(page).toContain('<noscript><meta http-equiv="refresh" content="30"></noscript>');
    expect(page).toContain('<main id="content" data-refresh="30"');
  });
});

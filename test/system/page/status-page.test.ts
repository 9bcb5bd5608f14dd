// The status page in a real browser: Debian's chromium, headless, driven by playwright-core, against the real
// sstpwatch (a child process) probing fake RRAS servers on loopback.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { VPN_HOSTNAME } from '../../fixtures/certs.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { groupLines, serviceSetup, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
const TOKEN = 'status-page-test-token';
const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_REASON = `patching KB5034441 <script>alert(2)</script>${HOSTILE}`;

interface TargetJson {
  name: string;
  group: string;
  state: string;
  last_result: { message: string } | null;
}
interface StatusJson {
  groups: Array<{ name: string; state: string }>;
  targets: TargetJson[];
}

/** A fresh profile (--user-data-dir) per context: nothing carries over between runs. */
async function launch(profiles: string[], options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package "chromium" (apt-get install chromium; .ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'sstpwatch-chromium-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    timeout: 60_000,
  });
}

/** Records what a page does that it must not: dialogs, requests to another origin, errors, CSP violations. */
function watch(page: Page, origin: string) {
  const seen = { dialogs: [] as string[], foreignRequests: [] as string[], errors: [] as string[], navigations: 0 };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) seen.foreignRequests.push(url);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content.Security.Policy|Refused to/i.test(message.text())) seen.errors.push(message.text());
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) seen.navigations++;
  });
  return seen;
}

describe('the status page in Chromium', () => {
  let setup: ServiceSetup | undefined;
  const profiles: string[] = [];
  const contexts: BrowserContext[] = [];
  let service: RunningService;
  let healthy: FakeRras;

  const status = async (): Promise<StatusJson> => (await service.get('/api/v1/status')).json<StatusJson>();
  const stateOf = async (name: string): Promise<string | undefined> => (await status()).targets.find((t) => t.name === name)?.state;

  /**
   * The page shows the live state; the API's list may be up to 2 s older (docs/api.md). On a busy machine a probe
   * may time out and move a state between the two reads, so both are read again until they agree (10 s at most).
   * Answers the targets on which they still disagree.
   */
  async function untilPageAgreesWithApi(page: Page): Promise<string[]> {
    const disagreeing = async () => {
      const api = await status();
      const differ: string[] = [];
      for (const target of api.targets) {
        const shown = await page.locator(`tr[data-target="${target.name}"]`).getAttribute('data-state');
        if (shown !== target.state) differ.push(`${target.name}: page ${shown}, API ${target.state}`);
      }
      return differ;
    };
    let differ = await disagreeing();
    for (let tries = 0; differ.length > 0 && tries < 10; tries++) {
      await new Promise((r) => setTimeout(r, 1_000));
      await page.reload();
      differ = await disagreeing();
    }
    return differ;
  }

  beforeAll(async () => {
    setup = await serviceSetup('page');
    mkdirSync(ARTIFACTS, { recursive: true });
    const { valid, expiringIn10Days } = setup.certs;
    const [stopped, hostile, expiring, vip] = await Promise.all([
      startRras(valid, 404),
      // Answers the probe with this markup: the probe's message quotes it ("not an HTTP response: \"<img ...>\"").
      startRras(valid, { mode: 'garbage', data: HOSTILE }),
      startRras(expiringIn10Days),
      startRras(valid),
    ]);
    healthy = await startRras(valid);
    setup.writeConfig([
      'database: ./sstpwatch.db',
      'auth: { token_env: SSTPWATCH_PAGE_TEST_TOKEN }',
      // fall: 2, so one probe slower than its timeout on a busy machine does not flip a healthy target to down.
      'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
      'groups:',
      ...groupLines('vpn-eu', { 'rras-eu-1': healthy.url, 'rras-eu-2': stopped.url }),
      `  - name: vpn-us`,
      `    hostname: ${VPN_HOSTNAME}`,
      `    vip: { name: vpn-us-vip, url: "${vip.url}" }`,
      '    servers:',
      `      - { name: rras-us-1, url: "${hostile.url}" }`,
      `      - { name: rras-us-2, url: "${expiring.url}" }`,
    ]);
    service = await setup.start({ SSTPWATCH_PAGE_TEST_TOKEN: TOKEN });
    await waitFor(
      'every target to have a verdict',
      async () => (await status()).targets.every((t) => t.state !== 'unknown'),
      20_000,
    );
    const put = await fetch(`${service.baseUrl}/api/v1/targets/rras-us-2/maintenance`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ until: new Date(Date.now() + 3_600_000).toISOString(), reason: HOSTILE_REASON }),
    });
    expect(put.status, await put.text()).toBe(200);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await setup?.close();
    for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
  });

  it('shows the states /api/v1/status reports, escapes hostile text, and stays on its own origin', async () => {
    const context = await launch(profiles);
    contexts.push(context);
    const page = await context.newPage();
    const seen = watch(page, service.baseUrl);

    const response = await page.goto(`${service.baseUrl}/`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');

    // The API and the page agree on every target's and group's state (the states are stable by now).
    expect(await untilPageAgreesWithApi(page)).toEqual([]);
    const api = await status();
    expect(api.targets.map((t) => [t.name, t.state]).sort()).toEqual([
      ['rras-eu-1', 'up'],
      ['rras-eu-2', 'down'],
      ['rras-us-1', 'down'],
      ['rras-us-2', 'maintenance'],
      ['vpn-us-vip', 'up'],
    ]);
    const label = { up: 'Up', down: 'Down', unknown: 'Unknown', maintenance: 'Maintenance', ok: 'OK', degraded: 'Degraded' } as Record<string, string>;
    for (const target of api.targets) {
      const row = page.locator(`tr[data-target="${target.name}"]`);
      expect(await row.getAttribute('data-state')).toBe(target.state);
      expect(await row.locator('td.state .badge').innerText()).toContain(label[target.state]);
    }
    for (const group of api.groups) {
      expect(await page.locator(`h2:has(.group-name:text-is("${group.name}")) .badge`).innerText()).toContain(label[group.state]);
    }

    // The hostile answer is quoted in the probe's message: shown as text, never as an element.
    const message = api.targets.find((t) => t.name === 'rras-us-1')!.last_result!.message;
    expect(message).toContain(HOSTILE);
    expect(await page.locator('tr[data-target="rras-us-1"] code.error-message').innerText()).toBe(message);
    expect(await page.locator('tr[data-target="rras-us-1"] .error-headline').innerText()).toBe('not an HTTP response');
    expect(await page.locator('.maintenance td.reason').innerText()).toBe(HOSTILE_REASON);
    expect(await page.locator('tr[data-target="rras-us-2"] q.reason').innerText()).toBe(HOSTILE_REASON);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);

    // Certificate days left in words and colour class: the alert rules' 21-day warning.
    expect(await page.locator('tr[data-target="rras-eu-1"] .cert-days').getAttribute('class')).toBe('cert-days cert-ok');
    expect(await page.locator('tr[data-target="rras-us-2"] .cert-days').innerText()).toMatch(/^▲ 10 days left \(warning\)$/);
    // Open incidents, and the strip from the history.
    expect(await page.locator('.incidents tr.open th').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('rras-eu-2')]));
    // (A first probe may fail on a busy machine: a minute with a failure is a partial bar, not an ok one.)
    expect(await page.locator('tr[data-target="rras-eu-1"] svg.strip rect.bar:is(.ok, .partial)').count()).toBeGreaterThan(0);
    expect(await page.locator('tr[data-target="rras-eu-2"] svg.strip rect.bar.failed').count()).toBeGreaterThan(0);
    expect(await page.locator('tr[data-target="rras-eu-1"] .uptime-list dd').first().innerText()).toMatch(/^\d+(\.\d+)? %$/);
    expect(await page.locator('tr[data-target="rras-eu-2"] .uptime-list dd').first().innerText()).toBe('0 %');

    await page.screenshot({ path: join(ARTIFACTS, 'status-page-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
    // On a phone-width screen nothing runs off to the side.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    expect(seen.dialogs).toEqual([]);
    expect(seen.foreignRequests).toEqual([]);
    expect(seen.errors).toEqual([]);
  });

  it('updates itself in place with JavaScript on, without navigating', async () => {
    const context = await launch(profiles);
    contexts.push(context);
    const page = await context.newPage();
    const seen = watch(page, service.baseUrl);
    await page.goto(`${service.baseUrl}/?refresh=2`);
    expect(await page.locator('#refresh-state').innerText()).toBe('Updates every 2 s.');
    expect(await page.locator('tr[data-target="rras-eu-1"]').getAttribute('data-state')).toBe('up');
    // Opened explanations stay open across updates.
    await page.locator('tr[data-target="rras-eu-2"] summary').click();

    try {
      await healthy.setBehavior('stopped');
      await waitFor('rras-eu-1 down in the API', async () => (await stateOf('rras-eu-1')) === 'down', 15_000);
      await page.locator('tr[data-target="rras-eu-1"][data-state="down"]').waitFor({ timeout: 20_000 });
      expect(await page.locator('tr[data-target="rras-eu-1"] .error-headline').innerText()).toMatch(/^connection refused on 127\.0\.0\.1:\d+$/);
      expect(await page.title()).toMatch(/^3 down · /);
      expect(await page.locator('#refresh-state').innerText()).toMatch(/^Updated .*; next update in 2 s\.$/);
      expect(await page.locator('tr[data-target="rras-eu-2"] details').getAttribute('open')).not.toBeNull();
    } finally {
      await healthy.setBehavior('answer');
    }
    await waitFor('rras-eu-1 up again', async () => (await stateOf('rras-eu-1')) === 'up', 15_000);
    await page.locator('tr[data-target="rras-eu-1"][data-state="up"]').waitFor({ timeout: 20_000 });

    expect(seen.navigations).toBe(1);
    expect(seen.dialogs).toEqual([]);
    expect(seen.foreignRequests).toEqual([]);
    expect(seen.errors).toEqual([]);
  }, 90_000);

  it('works with JavaScript off: the same states, a reload link and a meta refresh', async () => {
    const context = await launch(profiles, { javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    contexts.push(context);
    const page = await context.newPage();
    const seen = watch(page, service.baseUrl);
    await page.goto(`${service.baseUrl}/`);
    expect(await untilPageAgreesWithApi(page)).toEqual([]);
    expect(await page.locator('#refresh-state').innerText()).toBe('This page reloads itself every 30 s.');
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('30');
    expect(await page.locator('a#reload').getAttribute('href')).toBe('');
    expect(await page.locator('tr[data-target="rras-us-1"] code.error-message').innerText()).toContain(HOSTILE);
    expect(seen.dialogs).toEqual([]);
    expect(seen.foreignRequests).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone-nojs.png'), fullPage: false });
  });
});

// prometheus/notifications/: Slack, e-mail and Teams examples. Every example Debian's amtool 0.25 understands is
// checked by it; the Teams one (msteamsv2_configs, Alertmanager 0.28+) is rejected by 0.25, and the test says so.
// The grouping they share is run on the real Alertmanager: one dead server's alerts arrive as one notification.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runTool, startAlertmanager, startWebhookReceiver, stopAllDaemons } from '../../fixtures/prometheus.js';

const DIR = fileURLToPath(new URL('../../../prometheus/notifications/', import.meta.url));
const dirs: string[] = [];

afterAll(async () => {
  await stopAllDaemons();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('notification examples', () => {
  it.each(['slack.yml', 'email.yml'])('%s passes amtool 0.25 check-config', (file) => {
    const run = runTool('amtool', ['check-config', join(DIR, file)]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('teams.yml uses msteamsv2_configs, which amtool 0.25 does not know (it needs Alertmanager 0.28+)', () => {
    const text = readFileSync(join(DIR, 'teams.yml'), 'utf8');
    expect(text).toContain('Alertmanager 0.28.0 or later');
    const run = runTool('amtool', ['check-config', join(DIR, 'teams.yml')]);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('field msteamsv2_configs not found');
    // Everything but the receiver is valid 0.25 config: the same file with a webhook receiver passes.
    const config = parse(text) as { receivers: Array<Record<string, unknown>> };
    config.receivers = [{ name: 'vpn-teams', webhook_configs: [{ url: 'http://127.0.0.1:1/' }] }];
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-teams-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'teams.yml'), stringify(config));
    const rest = runTool('amtool', ['check-config', join(dir, 'teams.yml')]);
    expect(rest.code, rest.output).toBe(0);
  });

  it.each(['slack.yml', 'email.yml', 'teams.yml'])('%s groups by VPN group and lets SSTPServiceDown silence the per-server alerts of its site', (file) => {
    const config = parse(readFileSync(join(DIR, file), 'utf8')) as { route: { group_by: string[] }; inhibit_rules: Array<{ equal: string[] }> };
    expect(config.route.group_by).toEqual(['group']);
    expect(config.inhibit_rules[0]!.equal).toEqual(['group', 'site']);
  });

  it("one dead server pages once: the real Alertmanager with the examples' routing sends its alerts as one notification", async () => {
    const webhook = await startWebhookReceiver();
    try {
      const config = parse(readFileSync(join(DIR, 'slack.yml'), 'utf8')) as { route: Record<string, unknown>; receivers: unknown[] };
      config.route.group_wait = '1s';
      config.receivers = [{ name: 'vpn-slack', webhook_configs: [{ url: webhook.url, send_resolved: true }] }];
      const am = await startAlertmanager({ config: stringify(config) });
      const alert = (alertname: string, severity: string, target?: string) => ({
        labels: { alertname, severity, group: 'vpn-eu', job: 'sstpwatch', instance: 'sw:9470', ...(target ? { target, role: 'server' } : {}) },
        annotations: { summary: alertname },
      });
      const res = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([alert('SSTPServerDown', 'warning', 'rras-eu-1'), alert('SSTPRedundancyLost', 'warning'), alert('SSTPHandshakeFailing', 'warning', 'rras-eu-1')]),
      });
      expect(res.status).toBe(200);
      await webhook.waitForAlert('the first notification', () => true, { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 3_000));
      const received = webhook.alerts();
      expect(new Set(received.map((a) => a.receivedAt)).size, 'notifications').toBe(1);
      expect(received.map((a) => a.labels.alertname).sort()).toEqual(['SSTPHandshakeFailing', 'SSTPRedundancyLost', 'SSTPServerDown']);
    } finally {
      await webhook.close();
    }
  }, 60_000);
});

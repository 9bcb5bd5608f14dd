// `npm start`'s demo as a newcomer first sees it: the only problems shown are the faults it simulates on purpose.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';

const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-demo-'));
let running: RunningService | undefined;
afterAll(async () => {
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Status {
  targets: { name: string; state: string; last_result: { error_kind: string } | null }[];
  groups: { name: string; findings: { code: string; severity: string; targets: string[] }[] }[];
}

it('shows its deliberate faults and nothing else: servers share one certificate, one missed the renewal', async () => {
  const port = await freePort();
  const bundled = readFileSync(new URL('../../../sstpwatch.yml', import.meta.url), 'utf8');
  writeFileSync(join(dir, 'sstpwatch.yml'), bundled.replace('"127.0.0.1:9470"', `"127.0.0.1:${port}"`));
  running = await startService(join(dir, 'sstpwatch.yml'), port);
  let status: Status | undefined;
  await waitFor('every demo target to have a verdict and the group its certificate findings', async () => {
    status = (await running!.get('/api/v1/status')).json<Status>();
    return status.targets.every((t) => t.state !== 'unknown') && (status.groups[0]?.findings.length ?? 0) >= 2;
  }, 60_000);
  const states = Object.fromEntries(status!.targets.map((t) => [t.name, `${t.state} ${t.last_result?.error_kind}`]));
  expect(states).toEqual({
    'demo-rras-healthy': 'up ok',
    'demo-rras-sstp-stopped': 'down unexpected_status',
    'demo-rras-slow': 'up ok',
    'demo-rras-cert-expiring': 'up ok',
    'demo-rras-offload': 'up ok',
    'demo-vip': 'up ok',
  });
  const findings = status!.groups[0]!.findings.map(({ code, severity, targets }) => ({ code, severity, targets }));
  expect(findings).toEqual(expect.arrayContaining([
    { code: 'servers_certificate_mismatch', severity: 'critical', targets: ['demo-rras-cert-expiring'] },
    { code: 'certificate_expires_soon', severity: 'warning', targets: ['demo-rras-cert-expiring'] },
  ]));
  expect(findings).toHaveLength(2);
}, 120_000);

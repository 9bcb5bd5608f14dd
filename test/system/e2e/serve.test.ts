import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { startRras } from '../../fixtures/fake-rras.js';
import { groupLines, serviceSetup, type ServiceSetup } from '../../fixtures/service-setup.js';
import { waitFor, type RunningService } from '../../fixtures/service.js';

interface TargetJson {
  name: string;
  state: string;
  consecutive_failures: number;
  last_result: { error_kind: string } | null;
}

describe('sstpwatch serve, end to end', () => {
  let setup: ServiceSetup | undefined;
  let service: RunningService;
  let rras1: FakeRras;
  let rras2: FakeRras;

  beforeAll(async () => {
    setup = await serviceSetup('e2e');
    [rras1, rras2] = await Promise.all([startRras(setup.certs.valid), startRras(setup.certs.valid)]);
    setup.writeConfig([
      'database: ./state/sstpwatch.db',
      'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
      'groups:',
      ...groupLines('vpn-test', { 'rras-1': rras1.url, 'rras-2': rras2.url }),
    ]);
    service = await setup.start();
  });

  afterAll(() => setup?.close());

  const target = async (name: string): Promise<TargetJson> => {
    const status = (await service.get('/api/v1/status')).json<{ targets: TargetJson[] }>();
    return status.targets.find((t) => t.name === name)!;
  };

  it('sees both servers up, then one down after `fall` failures, in the API and the metrics', async () => {
    await waitFor('both servers up', async () => (await target('rras-1')).state === 'up' && (await target('rras-2')).state === 'up');
    let metrics = (await service.get('/metrics')).body;
    expect(metrics).toContain('sstp_target_up{target="rras-2",group="vpn-test",role="server"} 1');
    expect(metrics).toContain('sstp_group_servers_up{group="vpn-test"} 2');

    await rras2.setBehavior('stopped');
    await waitFor('rras-2 down', async () => (await target('rras-2')).state === 'down', 10_000);
    const down = await target('rras-2');
    expect(down.consecutive_failures).toBeGreaterThanOrEqual(2);
    expect(down.last_result?.error_kind).toBe('connect_refused');
    expect((await target('rras-1')).state).toBe('up');

    metrics = (await service.get('/metrics')).body;
    expect(metrics).toContain('sstp_target_up{target="rras-2",group="vpn-test",role="server"} 0');
    expect(metrics).toContain('sstp_target_state{target="rras-2",group="vpn-test",role="server",state="down"} 1');
    expect(metrics).toContain('sstp_group_servers_up{group="vpn-test"} 1');
    expect(metrics).toMatch(/sstp_probes_total\{target="rras-2",group="vpn-test",role="server",result="connect_refused"\} [1-9]/);

    const status = (await service.get('/api/v1/status')).json<{ groups: { name: string; state: string }[] }>();
    expect(status.groups).toEqual([expect.objectContaining({ name: 'vpn-test', state: 'degraded', servers_up: 1, servers_total: 2 })]);
  });

  it('serves the recorded history, and SIGTERM exits 0 with every result written', async () => {
    await waitFor('history written', async () => (await service.get('/api/v1/targets/rras-1/history?limit=5')).json().items.length >= 2);
    const history = (await service.get('/api/v1/targets/rras-1/history?limit=5')).json();
    expect(history.items[0]).toMatchObject({ ok: true, error_kind: 'ok', status_code: 401, http_version: '1.1' });

    expect(await service.stop()).toBe(0);
    const seenByFake = rras1.requests;
    const db = new Database(join(setup!.dir, 'state', 'sstpwatch.db'), { readonly: true });
    try {
      const count = (sql: string) => (db.prepare(sql).get('rras-1') as { n: number }).n;
      const rows = count('SELECT count(*) AS n FROM results JOIN targets USING (target_id) WHERE targets.name = ?');
      const okRows = count('SELECT count(*) AS n FROM results JOIN targets USING (target_id) WHERE targets.name = ? AND error_kind = 0');
      // Every request the fake answered belongs to a probe whose result was written before exit; a probe that
      // timed out before sending its request (possible on a loaded machine) adds a row without a request.
      expect(okRows).toBeLessThanOrEqual(seenByFake);
      expect(seenByFake).toBeLessThanOrEqual(rows);
      expect(okRows).toBeGreaterThanOrEqual(2);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});

// The real sstpwatch as a child process: SIGHUP and POST /-/reload re-read the config file. Targets are added,
// removed and changed without a restart; the unchanged one keeps its state; an invalid file is refused with its
// errors logged and the old config kept; the token (from auth.token_file) never reaches the log.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';

const TOKEN = '3f9d0b6c2e8a4f1d97c5b0a2e4d6f8a1c3e5b7d9';
const WRONG = 'wrong-token-5a5a5a5a5a5a5a5a5a5a5a5a';

interface TargetJson {
  name: string;
  state: string;
  since: string | null;
  consecutive_successes: number;
}

describe('reloading the config of a running sstpwatch', () => {
  let dir: string;
  let configPath: string;
  let port: number;
  let service: RunningService;
  const rras: Record<string, FakeRras> = {};

  const config = (servers: string[]) =>
    [
      `listen: "127.0.0.1:${port}"`,
      'database: ./state/sstpwatch.db',
      'auth: { token_file: ./token }',
      'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 1, tls: { ca_file: ./ca.pem } }',
      'groups:',
      '  - name: vpn-test',
      `    hostname: ${VPN_HOSTNAME}`,
      '    servers:',
      ...servers.map((s) => `      - ${s}`),
    ].join('\n');
  const server = (name: string, extra = '') => `{ name: rras-${name}, url: "${rras[name]!.url}"${extra} }`;

  const status = async () => (await service.get('/api/v1/status')).json<{ targets: TargetJson[] }>();
  const target = async (name: string) => (await status()).targets.find((t) => t.name === name);
  const names = async () => (await status()).targets.map((t) => t.name).sort();
  const metric = async (name: string) => {
    const line = (await service.get('/metrics')).body.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  const post = async (path: string, token: string) => {
    const res = await fetch(service.baseUrl + path, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, json: await res.json() };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-reload-'));
    const certs = await testCertificates();
    for (const name of ['a', 'b', 'c', 'd']) rras[name] = await startRras(certs.valid);
    writeFileSync(join(dir, 'ca.pem'), certs.ca.certPem);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    chmodSync(join(dir, 'token'), 0o644); // readable by others: sstpwatch warns
    port = await freePort();
    configPath = join(dir, 'sstpwatch.yml');
    writeFileSync(configPath, config([server('a'), server('b'), server('c')]));
    service = await startService(configPath, port, { SSTPWATCH_TOKEN: '' });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await closeAllRras();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns at start that the token file is open to other users', () => {
    expect(service.output()).toContain(`token file ${join(dir, 'token')} is open to other users (mode 644); chmod 600 it`);
  });

  it('SIGHUP: adds, removes and changes targets; the unchanged one keeps its state', async () => {
    await waitFor('a, b and c up', async () => (await status()).targets.every((t) => t.state === 'up'), 30_000);
    const before = (await target('rras-a'))!;
    const cRequests = rras.c!.requests;

    writeFileSync(configPath, config([server('a'), server('b', ', interval: 2s'), server('d')]));
    service.child.kill('SIGHUP');
    await waitFor('rras-d listed and rras-c gone', async () => JSON.stringify(await names()) === JSON.stringify(['rras-a', 'rras-b', 'rras-d']), 20_000);
    await waitFor('rras-d up', async () => (await target('rras-d'))?.state === 'up', 30_000);
    expect(rras.d!.requests).toBeGreaterThan(0);

    // rras-a keeps its state and goes on counting (rras-d may come up before rras-a's next probe: wait for it).
    await waitFor('rras-a probed again', async () => (await target('rras-a'))!.consecutive_successes > before.consecutive_successes, 10_000);
    const after = (await target('rras-a'))!;
    expect(after.state).toBe('up');
    expect(after.since).toBe(before.since);
    expect((await target('rras-b'))!.state).toBe('up');
    const metrics = (await service.get('/metrics')).body;
    expect(metrics).toContain('sstp_probe_interval_seconds{target="rras-b",group="vpn-test",role="server"} 2');
    expect(metrics).not.toContain('target="rras-c"');
    // rras-c is no longer probed (one probe may have been in flight at the reload).
    const cAfterReload = rras.c!.requests;
    await new Promise((r) => setTimeout(r, 2500));
    expect(rras.c!.requests - cAfterReload).toBeLessThanOrEqual(1);
    expect(cAfterReload).toBeGreaterThanOrEqual(cRequests);
    expect(await metric('sstpwatch_config_last_reload_successful')).toBe(1);
    expect(service.output()).toMatch(/"added":\["rras-d"\],"removed":\["rras-c"\],"changed":\["rras-b"\],"unchanged":1/);
  }, 90_000);

  it('SIGHUP with an invalid file: refused, each error logged with its path, the old config kept', async () => {
    const good = await metric('sstpwatch_config_last_reload_success_timestamp_seconds');
    writeFileSync(configPath, `${config([server('a'), '{ name: rras-e, url: "vpn3" }'])}\nretention: { raw: forever }`);
    service.child.kill('SIGHUP');
    await waitFor('the refusal in the log', async () => service.output().includes('config reload refused'), 15_000);
    expect(service.output()).toContain('"path":"groups[0].servers[1].url"');
    expect(service.output()).toContain('"path":"retention.raw"');
    expect(await metric('sstpwatch_config_last_reload_successful')).toBe(0);
    expect(await metric('sstpwatch_config_last_reload_success_timestamp_seconds')).toBe(good);
    expect(await names()).toEqual(['rras-a', 'rras-b', 'rras-d']);
    expect(service.child.exitCode).toBeNull();
  }, 60_000);

  it('POST /-/reload: 401 with a wrong token, 400 with the errors for an invalid file, 200 once it is fixed', async () => {
    expect((await post('/-/reload', WRONG)).status).toBe(401);
    const refused = await post('/-/reload', TOKEN);
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('invalid_config');
    expect(refused.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['retention.raw', 'groups[0].servers[1].url']);
    expect(await names()).toEqual(['rras-a', 'rras-b', 'rras-d']);

    writeFileSync(configPath, config([server('a'), server('b', ', interval: 2s'), server('d')]).replace(`127.0.0.1:${port}`, '127.0.0.1:1'));
    const ok = await post('/-/reload', TOKEN);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ reloaded: true, targets: { added: [], removed: [], changed: [], unchanged: 3 }, restart_required: ['listen'] });
    expect(await metric('sstpwatch_config_last_reload_successful')).toBe(1);
    // the log line may reach the pipe just after the HTTP answer
    await waitFor('the restart warning logged', async () => service.output().includes('config reloaded, but these settings take effect only after a restart'), 10_000);
  }, 60_000);

  it('a new token in the token file takes effect on reload; no token ever reaches the log', async () => {
    const next = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    writeFileSync(join(dir, 'token'), `${next}\n`);
    chmodSync(join(dir, 'token'), 0o600);
    service.child.kill('SIGHUP');
    await waitFor('the new token accepted', async () => (await post('/api/v1/targets/rras-a/probe', next)).status === 200, 15_000);
    expect((await post('/api/v1/targets/rras-a/probe', TOKEN)).status).toBe(401);
    const output = service.output();
    expect(output).toContain('write request refused: no valid token');
    for (const secret of [TOKEN, WRONG, next]) expect(output).not.toContain(secret);
  }, 60_000);
});

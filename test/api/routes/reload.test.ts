// Config reload in process: POST /-/reload on the service as createService wires it (monitor, HEAD and deep-check
// schedulers, certificate monitor, /probe, token), with the config file's text swapped between reloads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configYaml, startInProcess, TOKEN, type InProcess } from '../../fixtures/in-process.js';

const auth = { authorization: `Bearer ${TOKEN}` };

function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('POST /-/reload', () => {
  let run: InProcess;
  const initial = configYaml([{ name: 'rras-a' }, { name: 'rras-b' }, { name: 'rras-c', extra: 'check: sstp' }]);

  beforeEach(async () => {
    run = await startInProcess(initial);
  });
  afterEach(async () => {
    await run?.close();
  });

  const reload = (headers: Record<string, string> = auth) => run.service.app.inject({ method: 'POST', url: '/-/reload', headers });
  const target = async (name: string) => (await run.service.app.inject({ url: `/api/v1/targets/${name}` })).json();
  const metrics = async () => (await run.service.app.inject({ url: '/metrics' })).body;

  it('adds, removes and changes targets without touching the state of the others, in every part of the service', async () => {
    const { service } = run;
    await service.scheduler.probeNow('rras-a');
    await service.scheduler.probeNow('rras-b');
    const a = await target('rras-a');
    const b = await target('rras-b');
    expect([a.state, b.state]).toEqual(['up', 'up']);
    expect(await service.scheduler.probeNow('rras-c', 'sstp')).not.toBeNull();
    const loadedAt = metric(await metrics(), 'sstpwatch_config_last_reload_success_timestamp_seconds')!;

    await new Promise((r) => setTimeout(r, 20));
    run.setYaml(configYaml([{ name: 'rras-a' }, { name: 'rras-b', extra: 'interval: 5s, timeout: 1s' }, { name: 'rras-d', extra: 'check: sstp' }]));
    const res = await reload();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      reloaded: true,
      targets: { added: ['rras-d'], removed: ['rras-c'], changed: ['rras-b'], unchanged: 1 },
      restart_required: [],
      warnings: [],
    });

    // Unchanged and interval-changed targets keep state, since and counters.
    const a2 = await target('rras-a');
    const b2 = await target('rras-b');
    expect({ state: a2.state, since: a2.since, successes: a2.consecutive_successes }).toEqual({ state: 'up', since: a.since, successes: a.consecutive_successes });
    expect({ state: b2.state, since: b2.since }).toEqual({ state: 'up', since: b.since });
    // The new one starts unknown; the removed one is gone from the API, both schedulers and the metrics.
    expect((await target('rras-d')).state).toBe('unknown');
    expect((await run.service.app.inject({ url: '/api/v1/targets/rras-c' })).statusCode).toBe(404);
    expect(await service.scheduler.probeNow('rras-c')).toBeNull();
    expect(await service.scheduler.probeNow('rras-c', 'sstp')).toBeNull();
    expect(await service.scheduler.probeNow('rras-d', 'sstp')).not.toBeNull();
    expect(await service.scheduler.probeNow('rras-d')).not.toBeNull();
    const status = (await run.service.app.inject({ url: '/api/v1/status' })).json();
    expect(status.targets.map((t: { name: string }) => t.name).sort()).toEqual(['rras-a', 'rras-b', 'rras-d']);
    expect(status.groups[0].servers_total).toBe(3);

    const text = await metrics();
    expect(text).not.toContain('target="rras-c"');
    expect(text).toContain('sstp_probe_interval_seconds{target="rras-b",group="vpn-test",role="server"} 5');
    expect(text).toMatch(/sstp_handshake_success\{target="rras-d"/);
    expect(metric(text, 'sstpwatch_config_last_reload_successful')).toBe(1);
    expect(metric(text, 'sstpwatch_config_last_reload_success_timestamp_seconds')).toBeGreaterThan(loadedAt);
    expect(run.logs()).toMatch(/"added":\["rras-d"\],"removed":\["rras-c"\],"changed":\["rras-b"\],"unchanged":1.*"msg":"config reloaded"/);
  });

  it('refuses an invalid config with 400 and every error with its path, logs each, and keeps the running config', async () => {
    await run.service.scheduler.probeNow('rras-a');
    const before = await target('rras-a');
    const loadedAt = metric(await metrics(), 'sstpwatch_config_last_reload_success_timestamp_seconds');
    run.setYaml(`${configYaml([{ name: 'rras-a', extra: 'intervall: 5s' }, { name: 'rras-e' }])}\n      - { name: rras-f, url: "vpn3" }`);
    const res = await reload();
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('invalid_config');
    expect(body.error.issues).toEqual([
      { path: 'groups[0].servers[0].intervall', message: 'unknown key (did you mean "interval"?)' },
      { path: 'groups[0].servers[2].url', message: expect.stringContaining('(got "vpn3")') },
    ]);
    expect(body.error.message).toMatch(/^the new config is invalid and was not applied; the running config stays: groups\[0\]\.servers\[0\]\.intervall: unknown key/);
    for (const issue of body.error.issues) {
      expect(run.logs()).toContain(`"path":${JSON.stringify(issue.path)}`);
    }
    expect(run.logs()).toContain('config reload refused: the running config stays');

    const status = (await run.service.app.inject({ url: '/api/v1/status' })).json();
    expect(status.targets.map((t: { name: string }) => t.name).sort()).toEqual(['rras-a', 'rras-b', 'rras-c']);
    expect((await target('rras-a')).since).toBe(before.since);
    const text = await metrics();
    expect(metric(text, 'sstpwatch_config_last_reload_successful')).toBe(0);
    expect(metric(text, 'sstpwatch_config_last_reload_success_timestamp_seconds')).toBe(loadedAt);

    // A good file afterwards is taken, and the gauge says so again.
    run.setYaml(initial);
    expect((await reload()).statusCode).toBe(200);
    expect(metric(await metrics(), 'sstpwatch_config_last_reload_successful')).toBe(1);
  });

  it('reports settings that need a restart instead of ignoring them, and keeps them as they run', async () => {
    run.setYaml(configYaml([{ name: 'rras-a' }, { name: 'rras-b' }, { name: 'rras-c', extra: 'check: sstp' }], 'listen: "127.0.0.1:9999"\nretention: { raw: 1d }').replace('./sstpwatch.db', './other.db'));
    const res = await reload();
    expect(res.statusCode).toBe(200);
    expect(res.json().restart_required).toEqual(['listen', 'database', 'retention']);
    expect(res.json().targets).toEqual({ added: [], removed: [], changed: [], unchanged: 3 });
    expect(run.logs()).toMatch(/"keys":\["listen","database","retention"\].*"msg":"config reloaded, but these settings take effect only after a restart"/);
    // Still not in force: the next reload says so again.
    expect((await reload()).json().restart_required).toEqual(['listen', 'database', 'retention']);
  });

  it('applies a changed probe_endpoint and protect_reads at once', async () => {
    expect((await run.service.app.inject({ url: '/probe?target=https://127.0.0.1:9443' })).statusCode).toBe(403);
    expect((await run.service.app.inject({ url: '/api/v1/status' })).statusCode).toBe(200);
    run.setYaml(configYaml([{ name: 'rras-a' }], 'auth: { protect_reads: true }\nprobe_endpoint: { enabled: true, allow: [127.0.0.0/8] }'));
    expect((await reload()).statusCode).toBe(200);
    expect((await run.service.app.inject({ url: '/api/v1/status' })).statusCode).toBe(401);
    const probe = await run.service.app.inject({ url: '/probe?target=https://127.0.0.1:9443', headers: auth });
    expect(probe.statusCode).toBe(200);
    expect(probe.body).toContain('probe_success 1');
  });

  it('needs the bearer token', async () => {
    expect((await reload({})).statusCode).toBe(401);
    expect((await reload({ authorization: 'Bearer wrong-token-wrong-token' })).statusCode).toBe(401);
    expect(run.logs()).not.toContain('config reloaded');
  });
});

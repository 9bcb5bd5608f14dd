import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configInForce, diffConfig } from '../../src/config/diff.js';
import type { Config } from '../../src/config/types.js';

const CERT = { certFile: 'c.pem', keyFile: 'k.pem', cert: 'CERT-1', key: 'KEY-1' };

function config(servers: string[], top = ''): Config {
  return parseConfig(
    [top, 'groups:', '  - name: vpn', '    hostname: vpn.example.test', '    servers:', ...servers.map((s) => `      - ${s}`)].join('\n'),
    { baseDir: '/etc/sstpwatch' },
  );
}

const A = '{ name: a, url: "https://10.0.0.1" }';
const B = '{ name: b, url: "https://10.0.0.2" }';

describe('what a reload changes', () => {
  it.each([
    { case: 'nothing', before: [A, B], after: [A, B], diff: { added: [], removed: [], changed: [], unchanged: 2 } },
    { case: 'a target added', before: [A], after: [A, B], diff: { added: ['b'], removed: [], changed: [], unchanged: 1 } },
    { case: 'a target removed', before: [A, B], after: [B], diff: { added: [], removed: ['a'], changed: [], unchanged: 1 } },
    { case: 'an interval changed', before: [A, B], after: ['{ name: a, url: "https://10.0.0.1", interval: 10s }', B], diff: { added: [], removed: [], changed: ['a'], unchanged: 1 } },
    { case: 'a URL changed', before: [A], after: ['{ name: a, url: "https://10.0.0.9" }'], diff: { added: [], removed: [], changed: ['a'], unchanged: 0 } },
    { case: 'a rename', before: [A], after: ['{ name: z, url: "https://10.0.0.1" }'], diff: { added: ['z'], removed: ['a'], changed: [], unchanged: 0 } },
  ])('$case', ({ before, after, diff }) => {
    expect(diffConfig(config(before), config(after))).toEqual({ ...diff, restartRequired: [] });
  });

  it.each([
    { case: 'listen', top: 'listen: "127.0.0.1:9999"', keys: ['listen'] },
    { case: 'database', top: 'database: /var/lib/other.db', keys: ['database'] },
    { case: 'retention', top: 'retention: { raw: 1d }', keys: ['retention'] },
    { case: 'demo', top: 'demo: true', keys: ['demo'] },
    { case: 'site', top: 'site: lan', keys: ['site'] },
    { case: 'shard', top: 'shard: 2/3', keys: ['shard'] },
    { case: 'auth and probe_endpoint (applied live)', top: 'auth: { token_env: OTHER, protect_reads: true }\nprobe_endpoint: { enabled: true, allow: [10.0.0.0/8] }', keys: [] },
    { case: 'defaults (applied live, through the targets)', top: 'defaults: { rise: 5 }', keys: [] },
  ])('a change of $case needs a restart: $keys', ({ top, keys }) => {
    expect(diffConfig(config([A]), config([A], top)).restartRequired).toEqual(keys);
  });

  it('switching tls on or off needs a restart; a renewed certificate does not', () => {
    const plain = config([A]);
    const https = { ...plain, serverTls: CERT };
    const renewed = { ...plain, serverTls: { ...CERT, cert: 'CERT-2', key: 'KEY-2' } };
    expect(diffConfig(plain, https).restartRequired).toEqual(['tls']);
    expect(diffConfig(https, plain).restartRequired).toEqual(['tls']);
    expect(diffConfig(https, renewed).restartRequired).toEqual([]);
    expect(configInForce(https, renewed).serverTls).toEqual(renewed.serverTls);
    expect(configInForce(plain, https).serverTls).toBeNull();
  });

  it('keeps the running value of every restart-only setting, takes the rest', () => {
    const running = config([A]);
    const next = config([A, B], 'listen: "0.0.0.0:9999"\ndatabase: /x.db\nretention: { raw: 1d }\nauth: { protect_reads: true }');
    const inForce = configInForce(running, next);
    expect(inForce.listen).toEqual(running.listen);
    expect(inForce.database).toBe(running.database);
    expect(inForce.retention).toEqual(running.retention);
    expect(inForce.targets.map((t) => t.name)).toEqual(['a', 'b']);
    expect(inForce.auth.protectReads).toBe(true);
  });
});

// A valid config: how the contract example resolves, how probe settings inherit defaults <- group <- target,
// and which default fills every absent key. Kept apart from the refusals so the expected shape of a loaded
// config reads in one place.
import { describe, expect, it } from 'vitest';
import type { Config, ProbeSettings } from '../../src/config/index.js';
import { DAY, errorsOf, MINIMAL, noFiles, parse, PEM, withGroupKeys, withServer } from './load-helpers.js';

const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';

function defaultSettings(overrides: Partial<ProbeSettings> = {}): ProbeSettings {
  return {
    intervalMs: 30_000,
    schedule: null,
    timeoutMs: 5_000,
    rise: 2,
    fall: 3,
    expectStatus: [401],
    path: SSTP_PATH,
    tls: { verify: true, caFile: null, ca: null },
    check: 'head',
    sstpIntervalMs: 300_000,
    certificates: { warnDays: 21, criticalDays: 7 },
    slowThresholdMs: 1_000,
    ...overrides,
  };
}

const CONTRACT_EXAMPLE = `
listen: "127.0.0.1:9470"
database: ./data/sstpwatch.db
auth:
  token_env: SSTPWATCH_TOKEN        # bearer token for write endpoints; unset = write endpoints refuse (401)
defaults:                           # every probe setting; a group or a target may override any of them
  interval: 30s                     # or  schedule: "*/30 * * * * *"  (node-cron syntax, with seconds)
  timeout: 5s
  rise: 2
  fall: 3
  expect_status: [401]
  path: "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"
  tls: { verify: true, ca_file: null }
retention: { raw: 14d, minute: 90d, hour: 400d }
groups:
  - name: vpn-eu
    hostname: vpn.example.com       # the public name: SNI, Host header, certificate name check
    vip: https://vpn.example.com    # optional; the VIP target is named <group>-vip unless given { name, url }
    servers:
      - { name: rras-eu-1, url: "https://10.0.0.11" }
      - { name: rras-eu-2, url: "http://10.0.0.12:80", offload: true }   # TLS offloaded at the LB: plain HTTP
demo: false                         # true: start built-in simulated RRAS servers on loopback and probe them
`;

describe('a valid config', () => {
  it('resolves the contract example: vip named vpn-eu-vip, offload derived from http://', () => {
    const config = parse(CONTRACT_EXAMPLE);
    expect(config).toEqual<Config>({
      listen: { host: '127.0.0.1', port: 9470 },
      database: '/etc/sstpwatch/data/sstpwatch.db',
      databasePasswordFile: null,
      auth: { tokenEnv: 'SSTPWATCH_TOKEN', tokenFile: null, protectReads: false },
      serverTls: null,
      defaults: defaultSettings(),
      retention: { rawMs: 14 * DAY, minuteMs: 90 * DAY, hourMs: 400 * DAY },
      groups: [
        { name: 'vpn-eu', hostname: 'vpn.example.com', servers: ['rras-eu-1', 'rras-eu-2'], vip: 'vpn-eu-vip' },
      ],
      targets: [
        {
          name: 'rras-eu-1',
          group: 'vpn-eu',
          role: 'server',
          url: 'https://10.0.0.11',
          hostname: 'vpn.example.com',
          offload: false,
          settings: defaultSettings(),
        },
        {
          name: 'rras-eu-2',
          group: 'vpn-eu',
          role: 'server',
          url: 'http://10.0.0.12:80',
          hostname: 'vpn.example.com',
          offload: true,
          settings: defaultSettings(),
        },
        {
          name: 'vpn-eu-vip',
          group: 'vpn-eu',
          role: 'vip',
          url: 'https://vpn.example.com',
          hostname: 'vpn.example.com',
          offload: false,
          settings: defaultSettings(),
        },
      ],
      demo: false,
      probeEndpoint: { enabled: false, allow: [] },
      log: { level: null, format: null },
      maintenanceWindows: [],
      metrics: { exclude: [] },
      site: null,
      shard: null,
    });
  });

  it('applies overrides defaults <- group <- target, tls merging key by key', () => {
    const config = parse(
      `
listen: "[::1]:9000"
database: /var/lib/sstpwatch/db.sqlite
auth: { token_env: null }
defaults:
  timeout: 3s
  tls: { ca_file: corp-ca.pem }
groups:
  - name: vpn-eu
    hostname: vpn.example.com
    schedule: "*/10 * * * * *"
    rise: 1
    tls: { verify: false }
    vip: { name: eu-lb, url: "https://vpn.example.com:8443", fall: 5, tls: { ca_file: null } }
    servers:
      - { name: rras-eu-1, url: "https://10.0.0.11", interval: 15s, expect_status: [401, 405], tls: { verify: true } }
      - { name: rras-eu-2, url: "https://10.0.0.12", path: /health }
`,
      (path) => (path === '/etc/sstpwatch/corp-ca.pem' ? PEM : noFiles(path)),
    );
    const corpCa = { caFile: 'corp-ca.pem', ca: PEM };
    expect(config.listen).toEqual({ host: '::1', port: 9000 });
    expect(config.database).toBe('/var/lib/sstpwatch/db.sqlite');
    expect(config.auth).toEqual({ tokenEnv: null, tokenFile: null, protectReads: false });
    expect(config.defaults).toEqual(defaultSettings({ timeoutMs: 3_000, tls: { verify: true, ...corpCa } }));
    const settingsOf = (name: string) => config.targets.find((target) => target.name === name)?.settings;
    const group = { intervalMs: null, schedule: '*/10 * * * * *', timeoutMs: 3_000, rise: 1 };
    expect(settingsOf('rras-eu-1')).toEqual(
      defaultSettings({ ...group, intervalMs: 15_000, schedule: null, expectStatus: [401, 405], tls: { verify: true, ...corpCa } }),
    );
    expect(settingsOf('rras-eu-2')).toEqual(defaultSettings({ ...group, path: '/health', tls: { verify: false, ...corpCa } }));
    expect(settingsOf('eu-lb')).toEqual(defaultSettings({ ...group, fall: 5, tls: { verify: false, caFile: null, ca: null } }));
    expect(config.groups).toEqual([
      { name: 'vpn-eu', hostname: 'vpn.example.com', servers: ['rras-eu-1', 'rras-eu-2'], vip: 'eu-lb' },
    ]);
  });

  it('fills every absent key with its default', () => {
    const config = parse(MINIMAL);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9470 });
    expect(config.database).toBe('/etc/sstpwatch/data/sstpwatch.db');
    expect(config.auth).toEqual({ tokenEnv: 'SSTPWATCH_TOKEN', tokenFile: null, protectReads: false });
    expect(config.defaults).toEqual(defaultSettings());
    expect(config.retention).toEqual({ rawMs: 14 * DAY, minuteMs: 90 * DAY, hourMs: 400 * DAY });
    expect(config.demo).toBe(false);
    expect(config.groups).toEqual([{ name: 'vpn-eu', hostname: 'vpn.example.com', servers: ['rras-eu-1'], vip: null }]);
    expect(config.targets[0]?.settings).toEqual(defaultSettings());
  });

  it('treats empty sections ("auth:" alone) as all defaults', () => {
    const config = parse(`auth:\ndefaults:\nretention:\n${MINIMAL}`);
    expect(config.auth).toEqual({ tokenEnv: 'SSTPWATCH_TOKEN', tokenFile: null, protectReads: false });
    expect(config.defaults).toEqual(defaultSettings());
  });

  it('accepts no groups in demo mode, and an empty file in demo mode only', () => {
    expect(parse('demo: true\n').groups).toEqual([]);
    expect(parse('demo: true\ngroups: []\n').targets).toEqual([]);
    expect(errorsOf('')).toEqual([
      'groups: no groups configured; add a group, or set "demo: true" to probe built-in simulated servers',
    ]);
  });

  it('replaces an inherited schedule when a lower level sets interval, and the other way round', () => {
    const config = parse(
      `defaults: { schedule: "0 * * * * *" }\n` +
        withServer('{ name: rras-eu-1, url: "https://10.0.0.11", interval: 10s }').replace(
          '    servers:',
          '    servers:\n      - { name: rras-eu-2, url: "https://10.0.0.12" }',
        ),
    );
    expect(config.defaults).toMatchObject({ intervalMs: null, schedule: '0 * * * * *' });
    expect(config.targets.map((target) => [target.name, target.settings.intervalMs, target.settings.schedule])).toEqual([
      ['rras-eu-2', null, '0 * * * * *'],
      ['rras-eu-1', 10_000, null],
    ]);
  });

  it.each([
    ['uppercase hex', '"%s"'],
    ['lowercase hex', '"%l"'],
    ['colon-separated pairs, as OpenSSL prints them', '"%c"'],
    ['space-separated pairs, as certutil prints them', '"%s2"'],
  ])('reads offload_cert_sha256 written as %s', (_how, template) => {
    const hash = '3A7BD3E2360A3D29EEA436FCFB7E44C735D117C42D1C1835420B6B9942DD4F1B';
    const pairs = hash.match(/../g)!;
    const written = template
      .replace('%s2', pairs.join(' ').toLowerCase())
      .replace('%s', hash)
      .replace('%l', hash.toLowerCase())
      .replace('%c', pairs.join(':'));
    const config = parse(withGroupKeys(`    offload_cert_sha256: ${written}`));
    expect(config.groups[0]?.offloadCertSha256).toBe(hash);
  });

  it('leaves offload_cert_sha256 out when it is not configured', () => {
    expect(parse(MINIMAL).groups[0]).not.toHaveProperty('offloadCertSha256');
  });

  it('allows a deep check more often than once a minute only with allow_fast_sstp_interval: true', () => {
    const fast = withGroupKeys('    check: sstp\n    sstp_interval: 10s');
    expect(() => parse(fast)).toThrow(/sstp_interval 10s is shorter than 1m/);
    const config = parse(`allow_fast_sstp_interval: true\n${fast}`);
    expect(config.targets[0]!.settings).toMatchObject({ check: 'sstp', sstpIntervalMs: 10_000 });
    // A short sstp_interval where the deep check is off is harmless and not reported.
    expect(() => parse(withGroupKeys("    sstp_interval: 10s"))).not.toThrow();
  });

  it('reads check and sstp_interval per level: defaults <- group <- target', () => {
    const config = parse(
      `defaults: { sstp_interval: 10m }\n` +
        withServer('{ name: rras-eu-1, url: "https://10.0.0.11", check: head }')
          .replace('    servers:', '    check: sstp\n    servers:\n      - { name: rras-eu-2, url: "https://10.0.0.12", sstp_interval: 1m }'),
    );
    expect(config.defaults).toMatchObject({ check: 'head', sstpIntervalMs: 600_000 });
    expect(config.targets.map((t) => [t.name, t.settings.check, t.settings.sstpIntervalMs])).toEqual([
      ['rras-eu-2', 'sstp', 60_000],
      ['rras-eu-1', 'head', 600_000],
    ]);
  });

  it('defaults to check: head every target, deep check every 5m when enabled', () => {
    expect(parse(MINIMAL).targets[0]!.settings).toMatchObject({ check: 'head', sstpIntervalMs: 300_000 });
    expect(parse(withGroupKeys('    check: sstp')).targets[0]!.settings).toMatchObject({ check: 'sstp', sstpIntervalMs: 300_000 });
  });

  it('reads certificates and slow_threshold per level, certificates merging key by key', () => {
    const config = parse(
      `defaults: { certificates: { warn_days: 30 }, slow_threshold: 800ms }\n` +
        withServer('{ name: rras-eu-1, url: "https://10.0.0.11", certificates: { warn_days: 10 }, slow_threshold: 2s }')
          .replace('    servers:', '    certificates: { critical_days: 3 }\n    servers:\n      - { name: rras-eu-2, url: "https://10.0.0.12" }'),
    );
    expect(config.defaults).toMatchObject({ certificates: { warnDays: 30, criticalDays: 7 }, slowThresholdMs: 800 });
    expect(config.targets.map((t) => [t.name, t.settings.certificates, t.settings.slowThresholdMs])).toEqual([
      ['rras-eu-2', { warnDays: 30, criticalDays: 3 }, 800],
      ['rras-eu-1', { warnDays: 10, criticalDays: 3 }, 2_000],
    ]);
  });

  it('defaults to certificate warnings at 21 days, critical at 7, slow above 1 s', () => {
    expect(parse(MINIMAL).targets[0]!.settings).toMatchObject({ certificates: { warnDays: 21, criticalDays: 7 }, slowThresholdMs: 1_000 });
  });

  it('keeps SQLite ":memory:" as is', () => {
    expect(parse(`database: ":memory:"\n${MINIMAL}`).database).toBe(':memory:');
  });
});

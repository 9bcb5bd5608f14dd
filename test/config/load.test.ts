import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  formatDuration,
  loadConfigFile,
  parseConfig,
  parseDuration,
  resolveConfigPath,
  type Config,
  type ProbeSettings,
} from '../../src/config/index.js';
import { testCertificates } from '../fixtures/certs.js';

const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';
const DAY = 86_400_000;
const BASE_DIR = '/etc/sstpwatch';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';

/** Reads nothing: a CA file named in a test must be given by the test itself. */
function noFiles(path: string): string {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}

function parse(yaml: string, readFile: (path: string) => string = noFiles): Config {
  return parseConfig(yaml, { baseDir: BASE_DIR, readFile });
}

/** Every issue of an invalid config, as `config check` prints them. */
function errorsOf(yaml: string, readFile: (path: string) => string = noFiles): string[] {
  try {
    parse(yaml, readFile);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

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

/** The smallest valid config: one group with one server. */
const MINIMAL = `
groups:
  - name: vpn-eu
    hostname: vpn.example.com
    servers:
      - { name: rras-eu-1, url: "https://10.0.0.11" }
`;

/** MINIMAL with its only server written as given. */
function withServer(server: string): string {
  return MINIMAL.replace('{ name: rras-eu-1, url: "https://10.0.0.11" }', server);
}

/** MINIMAL with extra lines for its group (indented as group keys). */
function withGroupKeys(lines: string): string {
  return MINIMAL.replace('    servers:', `${lines}\n    servers:`);
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

describe('database: a PostgreSQL URL', () => {
  it('selects PostgreSQL and is kept as written (not resolved as a path)', () => {
    for (const url of ['postgres://sstpwatch@db.example.com:5432/sstpwatch', 'postgresql://sstpwatch@10.0.0.5/monitoring?sslmode=verify-full']) {
      expect(parse(`database: "${url}"\n${MINIMAL}`).database).toBe(url);
    }
  });

  it('takes database_password_file, resolved against the config file like other paths', () => {
    const config = parse(`database: postgres://sstpwatch@db/sstpwatch\ndatabase_password_file: pg-password\n${MINIMAL}`);
    expect(config.databasePasswordFile).toBe('/etc/sstpwatch/pg-password');
  });

  it.each([
    ['postgres://sstpwatch@db.example.com:5432/', 'database: the PostgreSQL URL names no database: write it as postgres://USER@HOST:PORT/DATABASE'],
    ['postgres://db.example.com/sstpwatch', 'database: the PostgreSQL URL names no user: write it as postgres://USER@HOST:PORT/DATABASE'],
    ['postgres://sstpwatch@db.example.com:99999/sstpwatch', 'database: the PostgreSQL URL is not a valid URL: write it as postgres://USER@HOST:PORT/DATABASE'],
    ['postgres://sstpwatch:s3cret@db/sstpwatch?sslmode=sometimes', 'database: the PostgreSQL URL has sslmode=sometimes; use one of disable, prefer, require, verify-ca, verify-full, no-verify'],
  ])('refuses %s, saying why without repeating a password', (url, error) => {
    const errors = errorsOf(`database: "${url}"\n${MINIMAL}`);
    expect(errors).toEqual([error]);
    expect(errors.join('\n')).not.toContain('s3cret');
  });

  it('refuses database_password_file beside an SQLite path', () => {
    expect(errorsOf(`database: ./data/sstpwatch.db\ndatabase_password_file: pw\n${MINIMAL}`)).toEqual([
      'database_password_file: applies only to a PostgreSQL database (database: postgres://...)',
    ]);
  });
});

describe('an invalid config', () => {
  const rows: { case: string; yaml: string; errors: string[] }[] = [
    {
      case: 'certificate thresholds that are not whole days, or an unknown key',
      yaml: `defaults: { certificates: { warn_days: 2.5, critical_days: -1, warn_dyas: 3 } }\n${MINIMAL}`,
      errors: [
        'defaults.certificates.warn_dyas: unknown key (did you mean "warn_days"?)',
        'defaults.certificates.warn_days: must be a whole number of days from 0 to 3650 (got 2.5)',
        'defaults.certificates.critical_days: must be a whole number of days from 0 to 3650 (got -1)',
      ],
    },
    {
      case: 'critical_days beyond warn_days, reported where it is set and not again where it is inherited',
      yaml: withGroupKeys('    certificates: { critical_days: 30 }'),
      errors: ['groups[0].certificates: critical_days (30) must not be more than warn_days (21): a certificate would be critical before it is a warning'],
    },
    {
      case: 'a target lowering warn_days below the inherited critical_days',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", certificates: { warn_days: 5 } }'),
      errors: ['groups[0].servers[0].certificates: critical_days (7) must not be more than warn_days (5): a certificate would be critical before it is a warning'],
    },
    {
      case: 'a slow_threshold that is not a duration',
      yaml: `defaults: { slow_threshold: 1 }\n${MINIMAL}`,
      errors: ['defaults.slow_threshold: must be a duration like "30s", "5m" or "1h30m" (got 1)'],
    },
    {
      case: 'probe endpoint enabled with nothing allowed',
      yaml: `probe_endpoint: { enabled: true }\n${MINIMAL}`,
      errors: ['probe_endpoint.allow: list the CIDRs or host names /probe may reach: an empty list would refuse every target'],
    },
    {
      case: 'probe endpoint allow entries that are neither CIDR, address nor host name',
      yaml: `probe_endpoint: { enabled: true, allow: ["10.0.0.0/33", "vpn_1.example.com", 42, "*.", "fe80::/129"] }\n${MINIMAL}`,
      errors: [
        'probe_endpoint.allow[0]: the prefix length must be 0 to 32 (got "10.0.0.0/33")',
        'probe_endpoint.allow[1]: must be a CIDR, an address or a host name (got "vpn_1.example.com")',
        'probe_endpoint.allow[2]: must be a CIDR, an address or a host name (got 42)',
        'probe_endpoint.allow[3]: a wildcard must look like *.example.com (got "*.")',
        'probe_endpoint.allow[4]: the prefix length must be 0 to 128 (got "fe80::/129")',
      ],
    },
    {
      case: 'probe endpoint with an unknown key',
      yaml: `probe_endpoint: { enable: true, allow: [10.0.0.0/8] }\n${MINIMAL}`,
      errors: ['probe_endpoint.enable: unknown key (did you mean "enabled"?)'],
    },
    {
      case: 'unknown key in a server',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", adress: "10.0.0.11" }'),
      errors: ['groups[0].servers[0].adress: unknown key'],
    },
    {
      case: 'misspelt key, with a suggestion',
      yaml: `defaults: { intervall: 30s, tls: { ca-file: x.pem } }\n${MINIMAL}`,
      errors: [
        'defaults.intervall: unknown key (did you mean "interval"?)',
        'defaults.tls.ca-file: unknown key (did you mean "ca_file"?)',
      ],
    },
    {
      case: 'unknown top-level key',
      yaml: `targets: []\n${MINIMAL}`,
      errors: ['targets: unknown key'],
    },
    {
      case: 'url that is not a URL',
      yaml: withServer('{ name: rras-eu-1, url: vpn3 }'),
      errors: ['groups[0].servers[0].url: must be an http(s) URL (got "vpn3")'],
    },
    {
      case: 'url with another scheme',
      yaml: withServer('{ name: rras-eu-1, url: "ftp://10.0.0.11" }'),
      errors: ['groups[0].servers[0].url: must be an http(s) URL (got "ftp://10.0.0.11")'],
    },
    {
      case: 'url with a path',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11/sra_x/" }'),
      errors: [
        'groups[0].servers[0].url: must be scheme, host and port only; the probe\'s path comes from "path" (got "https://10.0.0.11/sra_x/")',
      ],
    },
    {
      case: 'url with a query',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11/?a=1" }'),
      errors: [
        'groups[0].servers[0].url: must be scheme, host and port only; the probe\'s path comes from "path" (got "https://10.0.0.11/?a=1")',
      ],
    },
    {
      case: 'url with credentials',
      yaml: withServer('{ name: rras-eu-1, url: "https://admin:secret@10.0.0.11" }'),
      errors: ['groups[0].servers[0].url: must not contain a user name or password'],
    },
    {
      case: 'missing url and name',
      yaml: withServer('{ offload: false }'),
      errors: ['groups[0].servers[0].name: required key is missing', 'groups[0].servers[0].url: required key is missing'],
    },
    {
      case: 'http:// without offload: true',
      yaml: withServer('{ name: rras-eu-1, url: "http://10.0.0.11" }'),
      errors: [
        'groups[0].servers[0].url: plain http:// means TLS is offloaded at the load balancer: set "offload: true" to confirm, or use https:// (got "http://10.0.0.11")',
      ],
    },
    {
      case: 'offload: true with https://',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", offload: true }'),
      errors: [
        'groups[0].servers[0].offload: true needs an http:// url: with offload the load balancer ends TLS and forwards plain HTTP (url is "https://10.0.0.11")',
      ],
    },
    {
      case: 'offload that is not a boolean',
      yaml: withServer('{ name: rras-eu-1, url: "http://10.0.0.11", offload: yes }'),
      errors: [
        'groups[0].servers[0].offload: must be true or false (got "yes")',
        'groups[0].servers[0].url: plain http:// means TLS is offloaded at the load balancer: set "offload: true" to confirm, or use https:// (got "http://10.0.0.11")',
      ],
    },
    {
      case: 'vip given as a bad URL string',
      yaml: withGroupKeys('    vip: vpn.example.com'),
      errors: ['groups[0].vip: must be an http(s) URL (got "vpn.example.com")'],
    },
    {
      case: 'vip given as a plain http:// URL string',
      yaml: withGroupKeys('    vip: http://vpn.example.com'),
      errors: [
        'groups[0].vip: plain http:// means TLS is offloaded at the load balancer: write { url: "http://vpn.example.com", offload: true } to confirm, or use https:// (got "http://vpn.example.com")',
      ],
    },
    {
      case: 'name with capitals',
      yaml: withServer('{ name: RRAS-EU-1, url: "https://10.0.0.11" }'),
      errors: [
        'groups[0].servers[0].name: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "RRAS-EU-1")',
      ],
    },
    {
      case: 'duplicate target names, including a derived vip name',
      yaml: `${MINIMAL}      - { name: rras-eu-1, url: "https://10.0.0.12" }
      - { name: vpn-eu-vip, url: "https://10.0.0.13" }
  - name: vpn-us
    hostname: vpn-us.example.com
    servers:
      - { name: rras-eu-1, url: "https://10.1.0.11" }
`.replace('    servers:', '    vip: https://vpn.example.com\n    servers:'),
      errors: [
        'groups[0].servers[1].name: duplicate target name "rras-eu-1" (also groups[0].servers[0].name)',
        'groups[0].vip: duplicate target name "vpn-eu-vip" (also groups[0].servers[2].name)',
        'groups[1].servers[0].name: duplicate target name "rras-eu-1" (also groups[0].servers[0].name)',
      ],
    },
    {
      case: 'duplicate group names',
      yaml: `${MINIMAL}  - name: vpn-eu
    hostname: vpn.example.com
    servers:
      - { name: rras-eu-2, url: "https://10.0.0.12" }
`,
      errors: ['groups[1].name: duplicate group name "vpn-eu" (also groups[0].name)'],
    },
    {
      case: 'no groups outside demo mode',
      yaml: 'groups: []\n',
      errors: ['groups: no groups configured; add a group, or set "demo: true" to probe built-in simulated servers'],
    },
    {
      case: 'a group without servers',
      yaml: withServer('').replace(/servers:\n\s+- \n/, 'servers: []\n'),
      errors: ['groups[0].servers: must list at least one RRAS server (got [])'],
    },
    {
      case: 'a group without hostname and servers',
      yaml: 'groups:\n  - name: vpn-eu\n',
      errors: ['groups[0].hostname: required key is missing', 'groups[0].servers: required key is missing'],
    },
    {
      case: 'groups as a mapping',
      yaml: 'groups:\n  vpn-eu: { hostname: vpn.example.com }\n',
      errors: ['groups: must be a list of groups (got a mapping)'],
    },
    {
      case: 'hostname that is not a DNS name',
      yaml: MINIMAL.replace('vpn.example.com', 'vpn_eu example'),
      errors: ['groups[0].hostname: must be a DNS name or an IP address (got "vpn_eu example")'],
    },
    {
      case: 'rise and fall out of range',
      yaml: `defaults: { rise: 0, fall: 101 }\n${MINIMAL}`,
      errors: [
        'defaults.rise: must be a whole number from 1 to 100 (got 0)',
        'defaults.fall: must be a whole number from 1 to 100 (got 101)',
      ],
    },
    {
      case: 'rise written as a string',
      yaml: withGroupKeys('    rise: "2"'),
      errors: ['groups[0].rise: must be a whole number from 1 to 100 (got "2")'],
    },
    {
      case: 'timeout not shorter than the target interval',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", timeout: 40s }'),
      errors: ['groups[0].servers[0]: timeout 40s must be shorter than interval 30s'],
    },
    {
      case: 'timeout against interval reported once, where the conflict is set',
      yaml: `defaults: { interval: 10s }\n${withGroupKeys('    timeout: 10s')}`,
      errors: ['groups[0]: timeout 10s must be shorter than interval 10s'],
    },
    {
      case: 'a 30-day timeout (beyond what a Node.js timer can wait: it would fire after 1 ms)',
      yaml: `defaults: { timeout: 30d, interval: 31d }\n${MINIMAL}`,
      errors: [
        'defaults.interval: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "31d")',
        'defaults.timeout: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "30d")',
      ],
    },
    {
      case: 'an sstp_interval beyond the timer limit',
      yaml: `defaults: { sstp_interval: 4w }\n${MINIMAL}`,
      errors: ['defaults.sstp_interval: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "4w")'],
    },
    {
      case: 'timeout not shorter than the shortest gap of a cron schedule',
      yaml: `defaults: { schedule: "*/10 * * * * *", timeout: 10s }\n${MINIMAL}`,
      errors: ['defaults: timeout 10s must be shorter than the shortest gap between runs of schedule "*/10 * * * * *" (10s)'],
    },
    {
      case: 'timeout against an uneven cron schedule (minutes 0 and 1 of each hour: 1m apart at the shortest)',
      yaml: `defaults: { schedule: "0 0,1 * * * *", timeout: 90s }\n${MINIMAL}`,
      errors: ['defaults: timeout 1m30s must be shorter than the shortest gap between runs of schedule "0 0,1 * * * *" (1m)'],
    },
    {
      case: 'zero timeout',
      yaml: `defaults: { timeout: 0s }\n${MINIMAL}`,
      errors: ['defaults.timeout: must be longer than 0 (got "0s")'],
    },
    {
      case: 'interval below one second',
      yaml: `defaults: { interval: 500ms, timeout: 100ms }\n${MINIMAL}`,
      errors: ['defaults.interval: must be at least 1s (got "500ms")'],
    },
    {
      case: 'duration without a unit',
      yaml: `defaults: { interval: 30 }\n${MINIMAL}`,
      errors: ['defaults.interval: must be a duration like "30s", "5m" or "1h30m" (got 30)'],
    },
    {
      case: 'interval and schedule at one level',
      yaml: withGroupKeys('    interval: 10s\n    schedule: "*/10 * * * * *"'),
      errors: ['groups[0]: set either interval or schedule, not both'],
    },
    {
      case: 'schedule without seconds',
      yaml: `defaults: { schedule: "*/5 * * * *" }\n${MINIMAL}`,
      errors: ['defaults.schedule: must have 6 fields, seconds first, like "*/30 * * * * *" (got "*/5 * * * *")'],
    },
    {
      case: 'schedule with a bad field',
      yaml: `defaults: { schedule: "61 * * * * *" }\n${MINIMAL}`,
      errors: ['defaults.schedule: its second field "61" is not valid (got "61 * * * * *")'],
    },
    {
      case: 'empty expect_status',
      yaml: `defaults: { expect_status: [] }\n${MINIMAL}`,
      errors: ['defaults.expect_status: must be a list of HTTP status codes, like [401] (got [])'],
    },
    {
      case: 'expect_status not a list',
      yaml: `defaults: { expect_status: 401 }\n${MINIMAL}`,
      errors: ['defaults.expect_status: must be a list of HTTP status codes, like [401] (got 401)'],
    },
    {
      case: 'expect_status with an impossible code',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", expect_status: [401, 999] }'),
      errors: ['groups[0].servers[0].expect_status[1]: must be an HTTP status code from 100 to 599 (got 999)'],
    },
    {
      case: 'path without a leading slash',
      yaml: `defaults: { path: "sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/" }\n${MINIMAL}`,
      errors: ['defaults.path: must start with "/" (got "sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/")'],
    },
    {
      case: 'path with a space',
      yaml: `defaults: { path: "/sra x/" }\n${MINIMAL}`,
      errors: ['defaults.path: must not contain spaces or control characters (got "/sra x/")'],
    },
    {
      case: 'tls.verify as a string',
      yaml: `defaults: { tls: { verify: "false" } }\n${MINIMAL}`,
      errors: ['defaults.tls.verify: must be true or false (got "false")'],
    },
    {
      case: 'listen without a port',
      yaml: `listen: "127.0.0.1"\n${MINIMAL}`,
      errors: ['listen: must be "host:port" or "[ipv6]:port", like "127.0.0.1:9470" (got "127.0.0.1")'],
    },
    {
      case: 'listen with a port out of range',
      yaml: `listen: "0.0.0.0:70000"\n${MINIMAL}`,
      errors: ['listen: the port must be from 1 to 65535 (got "0.0.0.0:70000")'],
    },
    {
      case: 'listen with an IPv6 address without brackets',
      yaml: `listen: "::1:9470"\n${MINIMAL}`,
      errors: ['listen: must be "host:port" or "[ipv6]:port", like "127.0.0.1:9470" (got "::1:9470")'],
    },
    {
      case: 'retention out of order',
      yaml: `retention: { raw: 100d, hour: 30d }\n${MINIMAL}`,
      errors: ['retention: raw 100d must not be longer than minute 90d', 'retention: minute 90d must not be longer than hour 30d'],
    },
    {
      case: 'token_env that is not a variable name',
      yaml: `auth: { token_env: "my secret token" }\n${MINIMAL}`,
      errors: [
        'auth.token_env: must be the name of an environment variable, like SSTPWATCH_TOKEN, or null to disable write endpoints (got "my secret token")',
      ],
    },
    {
      case: 'demo as a string',
      yaml: `demo: "true"\n${MINIMAL}`,
      errors: ['demo: must be true or false (got "true")'],
    },
    {
      case: 'a list instead of a mapping at the top',
      yaml: '- listen: "127.0.0.1:9470"\n',
      errors: ['the config file must be a YAML mapping of keys like "listen:" and "groups:" (got a list)', 'groups: no groups configured; add a group, or set "demo: true" to probe built-in simulated servers'],
    },
    {
      case: 'offload_cert_sha256 of the wrong length',
      yaml: withGroupKeys('    offload_cert_sha256: "3A7BD3E2"'),
      errors: [
        'groups[0].offload_cert_sha256: must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) (got "3A7BD3E2")',
      ],
    },
    {
      case: 'offload_cert_sha256 that is not hex',
      yaml: withGroupKeys(`    offload_cert_sha256: "${'Z'.repeat(64)}"`),
      errors: [
        `groups[0].offload_cert_sha256: must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) (got "${'Z'.repeat(64)}")`,
      ],
    },
    {
      case: 'offload_cert_sha256 that YAML read as a number',
      yaml: withGroupKeys('    offload_cert_sha256: 1234'),
      errors: ['groups[0].offload_cert_sha256: must be quoted: YAML read these digits as a number (got "1234")'],
    },
    {
      case: 'offload_cert_sha256 as a list',
      yaml: withGroupKeys('    offload_cert_sha256: [ab, cd]'),
      errors: [
        'groups[0].offload_cert_sha256: must be a SHA-256 certificate hash: 64 hex digits, colons and spaces allowed (the SHA256CertificateHash of the offloaded servers, as given to Enable-SstpOffload -CertificateHash of the AOVPNTools module) (got a list)',
      ],
    },
    {
      case: 'offload_cert_sha256 misspelled',
      yaml: withGroupKeys('    offload_cert_sha265: "ab"'),
      errors: ['groups[0].offload_cert_sha265: unknown key (did you mean "offload_cert_sha256"?)'],
    },
    {
      case: 'a check that is neither head nor sstp',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", check: deep }'),
      errors: ['groups[0].servers[0].check: must be "head" (the HEAD health check) or "sstp" (also the deep SSTP handshake check) (got "deep")'],
    },
    {
      case: 'a check given as a boolean',
      yaml: `defaults: { check: true }\n${MINIMAL}`,
      errors: ['defaults.check: must be "head" (the HEAD health check) or "sstp" (also the deep SSTP handshake check) (got true)'],
    },
    {
      case: 'an sstp_interval that is not a duration',
      yaml: withGroupKeys('    sstp_interval: 5'),
      errors: ['groups[0].sstp_interval: must be a duration like "30s", "5m" or "1h30m" (got 5)'],
    },
    {
      case: 'an sstp_interval below one second',
      yaml: withGroupKeys('    sstp_interval: 500ms'),
      errors: ['groups[0].sstp_interval: must be at least 1s (got "500ms")'],
    },
    {
      case: 'a deep check whose timeout is not shorter than sstp_interval, reported where it appears',
      yaml: `allow_fast_sstp_interval: true\n${withGroupKeys('    check: sstp\n    sstp_interval: 5s')}`,
      errors: ['groups[0]: timeout 5s must be shorter than sstp_interval 5s'],
    },
    {
      case: 'a deep check more often than once a minute, not allowed',
      yaml: withGroupKeys('    check: sstp\n    sstp_interval: 30s'),
      errors: [
        'groups[0]: sstp_interval 30s is shorter than 1m: every deep check opens a real SSTP call on the server (a port held, a session started and logged), so this would load production servers; use 1m or more, or set allow_fast_sstp_interval: true at the top of the config for a lab or a test',
      ],
    },
    {
      case: 'allow_fast_sstp_interval given as a string',
      yaml: `allow_fast_sstp_interval: "yes"\n${MINIMAL}`,
      errors: ['allow_fast_sstp_interval: must be true or false (got "yes")'],
    },
    {
      case: 'sstp_interval misspelled',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", sstp_intervall: 5m }'),
      errors: ['groups[0].servers[0].sstp_intervall: unknown key (did you mean "sstp_interval"?)'],
    },
    {
      case: 'a server that is a bare URL',
      yaml: withServer('"https://10.0.0.11"'),
      errors: ['groups[0].servers[0]: must be a mapping of keys (got "https://10.0.0.11")'],
    },
    {
      case: 'both token_env and token_file',
      yaml: `auth: { token_env: MY_TOKEN, token_file: /etc/sstpwatch/token }\n${MINIMAL}`,
      errors: ['auth: set either token_env or token_file, not both (got token_env "MY_TOKEN" and token_file "/etc/sstpwatch/token")'],
    },
    {
      case: 'token_file that is not a path',
      yaml: `auth: { token_file: 42 }\n${MINIMAL}`,
      errors: ['auth.token_file: must be the path of a file holding the bearer token (got 42)'],
    },
    {
      case: 'protect_reads as a string',
      yaml: `auth: { protect_reads: "yes" }\n${MINIMAL}`,
      errors: ['auth.protect_reads: must be true or false (got "yes")'],
    },
    {
      case: 'auth key misspelled',
      yaml: `auth: { token-file: /etc/sstpwatch/token }\n${MINIMAL}`,
      errors: ['auth.token-file: unknown key (did you mean "token_file"?)'],
    },
    {
      case: 'tls without key_file',
      yaml: `tls: { cert_file: cert.pem }\n${MINIMAL}`,
      errors: ['tls.key_file: required key is missing'],
    },
    {
      case: 'tls with an empty cert_file and an unknown key',
      yaml: `tls: { cert_file: "", key_file: key.pem, ca_file: ca.pem }\n${MINIMAL}`,
      errors: [
        'tls.ca_file: unknown key',
        'tls.cert_file: must be the path of a PEM file holding the certificate (and its chain) (got "")',
      ],
    },
    {
      case: 'tls as a string',
      yaml: `tls: on\n${MINIMAL}`,
      errors: ['tls: must be a mapping of keys (got "on")'],
    },
    {
      case: 'tls files that cannot be read',
      yaml: `tls: { cert_file: cert.pem, key_file: key.pem }\n${MINIMAL}`,
      errors: ['tls.cert_file: cannot read "cert.pem": ENOENT', 'tls.key_file: cannot read "key.pem": ENOENT'],
    },
  ];

  it.each(rows)('reports $case', ({ yaml, errors }) => {
    expect(errorsOf(yaml)).toEqual(errors);
  });

  it('reports every problem at once, each with its path', () => {
    const errors = errorsOf(`
listen: "localhost:0"
defaults:
  timeout: 40s
groups:
  - name: VPN
    hostname: vpn.example.com
    vip: { url: "http://vpn.example.com", adress: x }
    servers:
      - { name: rras-1, url: vpn3 }
      - { name: rras-1, url: "https://10.0.0.12", rise: -1 }
`);
    expect(errors).toEqual([
      'listen: the port must be from 1 to 65535 (got "localhost:0")',
      'groups[0].name: must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (got "VPN")',
      'groups[0].vip.adress: unknown key',
      'groups[0].vip.url: plain http:// means TLS is offloaded at the load balancer: set "offload: true" to confirm, or use https:// (got "http://vpn.example.com")',
      'groups[0].servers[0].url: must be an http(s) URL (got "vpn3")',
      'groups[0].servers[1].rise: must be a whole number from 1 to 100 (got -1)',
      'defaults: timeout 40s must be shorter than interval 30s',
      'groups[0].servers[1].name: duplicate target name "rras-1" (also groups[0].servers[0].name)',
    ]);
  });

  it('exposes the issues as values for `config check`', () => {
    try {
      parse(withServer('{ name: rras-eu-1, url: vpn3 }'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([
        { path: 'groups[0].servers[0].url', message: 'must be an http(s) URL (got "vpn3")' },
      ]);
    }
  });
});

describe('YAML syntax errors', () => {
  it('report line and column', () => {
    expect(errorsOf('listen: "127.0.0.1:9470"\ngroups: [\n  { name: a\n')).toEqual([
      'YAML syntax error at line 4, column 1: Flow map in block collection must be sufficiently indented and end with a }',
      'YAML syntax error at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(errorsOf('demo: true\ndemo: false\n')).toEqual(['YAML syntax error at line 2, column 1: Map keys must be unique']);
    expect(errorsOf('groups:\n  - name: a\n   hostname: b\n')[0]).toMatch(/^YAML syntax error at line 3, column \d+: /);
  });

  it('explain a second document', () => {
    expect(errorsOf('demo: true\n---\ndemo: false\n')).toEqual([
      'YAML syntax error at line 2, column 1: the file holds more than one YAML document (a second "---"); sstpwatch reads a single one',
    ]);
  });

  it('report an alias without its anchor', () => {
    expect(errorsOf('demo: *nope\n')).toEqual([
      'YAML error: Unresolved alias (the anchor must be set before the alias): nope',
    ]);
  });
});

describe('config files on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads ca_file and database relative to the config file directory', () => {
    mkdirSync(join(dir, 'etc', 'pki'), { recursive: true });
    writeFileSync(join(dir, 'etc', 'pki', 'corp-ca.pem'), PEM);
    writeFileSync(join(dir, 'etc', 'sstpwatch.yml'), `database: db/sstpwatch.db\ndefaults: { tls: { ca_file: pki/corp-ca.pem } }\n${MINIMAL}`);
    const config = loadConfigFile(join(dir, 'etc', 'sstpwatch.yml'));
    expect(config.database).toBe(join(dir, 'etc', 'db', 'sstpwatch.db'));
    expect(config.defaults.tls).toEqual({ verify: true, caFile: 'pki/corp-ca.pem', ca: PEM });
    expect(config.targets[0]?.settings.tls.ca).toBe(PEM);
  });

  it('names the path of a missing or useless ca_file', () => {
    writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
    writeFileSync(
      join(dir, 'sstpwatch.yml'),
      `defaults: { tls: { ca_file: x.pem } }\n${withServer('{ name: rras-eu-1, url: "https://10.0.0.11", tls: { ca_file: not-a-cert.pem } }')}`,
    );
    expect(() => loadConfigFile(join(dir, 'sstpwatch.yml'))).toThrow(
      new ConfigError([
        { path: 'defaults.tls.ca_file', message: 'cannot read "x.pem": ENOENT' },
        {
          path: 'groups[0].servers[0].tls.ca_file',
          message: '"not-a-cert.pem" holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
        },
      ]),
    );
  });

  it('loads the shipped sstpwatch.example.yml', () => {
    const config = loadConfigFile(fileURLToPath(new URL('../../sstpwatch.example.yml', import.meta.url)));
    expect(config.targets.map((target) => `${target.name}:${target.role}:${target.offload}`)).toEqual([
      'rras-eu-1:server:false',
      'rras-eu-2:server:false',
      'rras-eu-3:server:true',
      'vpn-eu-vip:vip:false',
      'rras-us-1:server:false',
      'rras-us-2:server:false',
    ]);
  });

  it('reads auth.token_file relative to the config file directory, token_env then off unless named', () => {
    writeFileSync(join(dir, 'sstpwatch.yml'), `auth: { token_file: secrets/token, protect_reads: true }\n${MINIMAL}`);
    expect(loadConfigFile(join(dir, 'sstpwatch.yml')).auth).toEqual({
      tokenEnv: null,
      tokenFile: join(dir, 'secrets', 'token'),
      protectReads: true,
    });
  });

  it('reads the top-level tls certificate and key, and refuses a key that does not fit the certificate', async () => {
    const certs = await testCertificates();
    writeFileSync(join(dir, 'cert.pem'), certs.valid.chainPem);
    writeFileSync(join(dir, 'key.pem'), certs.valid.keyPem);
    writeFileSync(join(dir, 'other-key.pem'), certs.wrongName.keyPem);
    writeFileSync(join(dir, 'sstpwatch.yml'), `tls: { cert_file: cert.pem, key_file: key.pem }\n${MINIMAL}`);
    expect(loadConfigFile(join(dir, 'sstpwatch.yml')).serverTls).toEqual({
      certFile: 'cert.pem',
      keyFile: 'key.pem',
      cert: certs.valid.chainPem,
      key: certs.valid.keyPem,
    });
    writeFileSync(join(dir, 'sstpwatch.yml'), `tls: { cert_file: cert.pem, key_file: other-key.pem }\n${MINIMAL}`);
    expect(() => loadConfigFile(join(dir, 'sstpwatch.yml'))).toThrow(/^tls\.key_file: "other-key\.pem" cannot serve with "cert\.pem": .*key values mismatch/);
    writeFileSync(join(dir, 'sstpwatch.yml'), `tls: { cert_file: key.pem, key_file: cert.pem }\n${MINIMAL}`);
    expect(() => loadConfigFile(join(dir, 'sstpwatch.yml'))).toThrow(
      new ConfigError([
        { path: 'tls.cert_file', message: '"key.pem" holds no PEM certificate (-----BEGIN CERTIFICATE-----)' },
        { path: 'tls.key_file', message: '"cert.pem" holds no PEM private key (-----BEGIN PRIVATE KEY-----)' },
      ]),
    );
  });

  it('reports a config file that cannot be read', () => {
    expect(() => loadConfigFile(join(dir, 'missing.yml'))).toThrow(
      `cannot read config file "${join(dir, 'missing.yml')}": ENOENT`,
    );
  });
});

describe('resolveConfigPath', () => {
  it('prefers --config, then $SSTPWATCH_CONFIG, then ./sstpwatch.yml', () => {
    expect(resolveConfigPath('/etc/a.yml', { SSTPWATCH_CONFIG: '/etc/b.yml' })).toBe('/etc/a.yml');
    expect(resolveConfigPath(undefined, { SSTPWATCH_CONFIG: '/etc/b.yml' })).toBe('/etc/b.yml');
    expect(resolveConfigPath(undefined, { SSTPWATCH_CONFIG: '' })).toBe('./sstpwatch.yml');
    expect(resolveConfigPath(undefined, {})).toBe('./sstpwatch.yml');
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['14d', 14 * DAY],
    ['2w', 14 * DAY],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['0s', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '1.5s', '-1s', '10 s', '30m1h', '1s1s', '5 minutes'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });

  it('explains units out of order', () => {
    expect(() => parseDuration('30m1h')).toThrow(
      '"30m1h" is not a duration: units must go from the largest down, each at most once, e.g. "1h30m"',
    );
  });

  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [14 * DAY, '14d'],
    [5_400_000, '1h30m'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

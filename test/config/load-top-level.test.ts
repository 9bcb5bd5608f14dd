// The top-level sections beside groups (listen, database, auth, tls, probe_endpoint, retention, demo) and
// YAML syntax errors: what each accepts and the exact lines `config check` prints when it refuses one.
// These describe the process around the probes rather than the probes, hence their own file.
import { describe, expect, it } from 'vitest';
import { errorsOf, MINIMAL, parse } from './load-helpers.js';

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
      case: 'unknown top-level key',
      yaml: `targets: []\n${MINIMAL}`,
      errors: ['targets: unknown key'],
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

// Loading a config from disk: paths (database, ca_file, token_file, tls) resolved against the config file's
// directory, files that cannot be read or hold the wrong PEM, the shipped example, and how the config path is
// chosen from --config and the environment. These need a real temporary directory, unlike the other files.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, resolveConfigPath } from '../../src/config/index.js';
import { testCertificates } from '../fixtures/certs.js';
import { MINIMAL, PEM, withServer } from './load-helpers.js';

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

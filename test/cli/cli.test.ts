import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../src/demo/fake-rras.js';
import { VPN_HOSTNAME } from '../fixtures/certs.js';
import { startRras } from '../fixtures/fake-rras.js';
import { serviceSetup, type ServiceSetup } from '../fixtures/service-setup.js';
import { runSstpwatch } from '../fixtures/service.js';
import { runCheck } from '../../src/cli/check.js';

/** Runs the real `sstpwatch` command (no SSTPWATCH_CONFIG from the environment). */
const sstpwatch = (...args: string[]) => runSstpwatch(args, { SSTPWATCH_CONFIG: '' });

describe('sstpwatch check', () => {
  let setup: ServiceSetup | undefined;
  let healthy: FakeRras;
  let stopped: FakeRras;
  let wrongName: FakeRras;
  let caFile: string;

  beforeAll(async () => {
    setup = await serviceSetup('cli');
    const { certs } = setup;
    healthy = await startRras(certs.valid);
    stopped = await startRras(certs.valid, 404);
    wrongName = await startRras(certs.wrongName);
    caFile = join(setup.dir, 'ca.pem');
  });

  afterAll(() => setup?.close());

  it('exits 0 and says UP for a healthy SSTP listener', async () => {
    const { code, stdout } = await sstpwatch('check', healthy.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(code).toBe(0);
    expect(stdout).toContain('UP');
    expect(stdout).toMatch(/timings: .*tls [\d.]+ ms/);
    expect(stdout).toContain(`CN=${VPN_HOSTNAME}`);
  });

  it('exits 1 and explains a 404: the SSTP listener is not bound', async () => {
    const { code, stdout } = await sstpwatch('check', stopped.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(code).toBe(1);
    expect(stdout).toContain('DOWN');
    expect(stdout).toContain('expected 401, got 404');
    expect(stdout).toMatch(/SSTP/);
    expect(stdout).toMatch(/Fix: /);
  });

  it('exits 1 and names a certificate bound for the wrong name', async () => {
    const { code, stdout } = await sstpwatch('check', wrongName.url, '--hostname', VPN_HOSTNAME, '--ca', caFile);
    expect(code).toBe(1);
    expect(stdout).toContain('cert_hostname_mismatch');
    expect(stdout).toContain('other.example.test');
  });

  it('prints the contract result object with --json', async () => {
    const { code, stdout } = await sstpwatch('check', stopped.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--json');
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: false, error_kind: 'unexpected_status', message: 'expected 401, got 404', status_code: 404, http_version: '1.1', tls_version: 'TLSv1.3' });
    expect(Object.keys(result.phases_ms).sort()).toEqual(['connect', 'dns', 'processing', 'tls']);
    expect(result.certificate.san).toEqual([VPN_HOSTNAME]);
  });

  // Usage errors are decided before any probe: run them in-process (the binary's own exit path is covered above
  // and by the unknown-command row).
  it.each([
    [[], /a URL is required/],
    [['vpn3'], /not a URL: "vpn3"/],
    [['ftp://10.0.0.1'], /must be an http\(s\) URL/],
    [['https://10.0.0.1/sra'], /give the server only/],
    [['https://127.0.0.1:1', '--timeout', 'soon'], /--timeout must be a duration/],
    [['https://127.0.0.1:1', '--offload'], /--offload probes plain HTTP/],
    [['https://127.0.0.1:1', '--ca', '/nonexistent/ca.pem'], /cannot read --ca "\/nonexistent\/ca.pem": ENOENT/],
    [['https://127.0.0.1:1', '--bogus'], /Unknown option '--bogus'/],
  ])('check %j exits 2 with a usage message', async (args, message) => {
    const out: string[] = [];
    const err: string[] = [];
    const neverProbe = () => Promise.reject(new Error('a usage error must not probe'));
    const code = await runCheck(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, { head: neverProbe, sstp: neverProbe });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
    expect(err.join('\n')).toContain('Usage:');
    expect(out).toEqual([]);
  });

  it('exits 2 with a usage message for an unknown command', async () => {
    const { code, stderr } = await sstpwatch('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "frobnicate"/);
    expect(stderr).toContain('Usage:');
  });
});

describe('sstpwatch config check', () => {
  let setup: ServiceSetup | undefined;
  let dir: string;
  beforeAll(async () => {
    setup = await serviceSetup('cfg');
    dir = setup.dir;
  });
  afterAll(() => setup?.close());

  it('exits 0 for the bundled demo config and the example config', async () => {
    const bundled = await sstpwatch('config', 'check', '--config', 'sstpwatch.yml');
    expect(bundled.code).toBe(0);
    expect(bundled.stdout).toContain('demo mode on');
    const example = await sstpwatch('config', 'check', '--config', 'sstpwatch.example.yml');
    expect(example.code).toBe(0);
  }, 90_000); // two runs of the real command: over 30 s on a machine at a load of 20

  it('exits 1 and prints every error with its path and the bad value', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      [
        'groups:',
        '  - name: vpn-eu',
        '    hostname: vpn.example.com',
        '    servers:',
        '      - { name: rras-eu-1, url: "https://10.0.0.11" }',
        '      - { name: rras-eu-2, url: "vpn3" }',
        'defaults:',
        '  rise: 0',
      ].join('\n'),
    );
    const { code, stderr } = await sstpwatch('config', 'check', '--config', file);
    expect(code).toBe(1);
    expect(stderr).toContain('groups[0].servers[1].url: must be an http(s) URL (got "vpn3")');
    expect(stderr).toMatch(/defaults\.rise: .*\(got 0\)/);
  });

  it('checks auth.token_file like a start would, without printing the token', async () => {
    const minimal = ['groups:', '  - name: vpn-eu', '    hostname: vpn.example.com', '    servers:', '      - { name: rras-eu-1, url: "https://10.0.0.11" }'];
    const file = join(dir, 'token.yml');
    writeFileSync(file, ['auth: { token_file: ./token-file }', ...minimal].join('\n'));
    const missing = await sstpwatch('config', 'check', '--config', file);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`auth.token_file: cannot read "${join(dir, 'token-file')}": ENOENT`);
    writeFileSync(join(dir, 'token-file'), 'short-secret\n', { mode: 0o600 });
    const short = await sstpwatch('config', 'check', '--config', file);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('the token is 12 characters long');
    expect(short.stderr).not.toContain('short-secret');
    writeFileSync(join(dir, 'token-file'), 'a-long-enough-secret-token\n');
    chmodSync(join(dir, 'token-file'), 0o640);
    const open = await sstpwatch('config', 'check', '--config', file);
    expect(open.code).toBe(0);
    expect(open.stderr).toContain('is open to other users (mode 640); chmod 600 it');
    expect(open.stdout + open.stderr).not.toContain('a-long-enough-secret-token');
  });

  it('exits 1 when the file does not exist', async () => {
    const { code, stderr } = await sstpwatch('config', 'check', '--config', join(dir, 'missing.yml'));
    expect(code).toBe(1);
    expect(stderr).toContain('ENOENT');
  });
});

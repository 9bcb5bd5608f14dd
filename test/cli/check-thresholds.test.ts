// `sstpwatch check` judges a certificate and the probe time by the thresholds the service applies to the same
// target: the config file's (the target with this URL, else the defaults), with the command line on top.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeRras } from '../../src/demo/fake-rras.js';
import { runCheck } from '../../src/cli/check.js';
import { testCertificates, VPN_HOSTNAME } from '../fixtures/certs.js';
import { closeAllRras, startRras } from '../fixtures/fake-rras.js';
import { BIN } from '../fixtures/service.js';

let dir: string;
let caFile: string;
/** Presents a certificate that expires in 10 days. */
let server: FakeRras;

beforeAll(async () => {
  const certs = await testCertificates();
  // (issued 10 days from expiry when the fixture was made: "expires in 10 days" below)
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-check-thresholds-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, certs.ca.certPem);
  server = await startRras(certs.expiringIn10Days);
});
afterAll(async () => {
  await closeAllRras();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A config whose `defaults` set thresholds, with a target rras-eu-1 at the fake server's URL (with `target`'s
 * settings), or without it (null: the checked URL is not configured).
 */
function configFile(name: string, defaults: string, target: string | null = ''): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      `defaults: { ${defaults} }`,
      'groups:',
      '  - name: vpn-eu',
      `    hostname: ${VPN_HOSTNAME}`,
      '    servers:',
      `      - { name: rras-eu-1, url: "${target === null ? 'https://127.0.0.3:1' : server.url}"${target ? `, ${target}` : ''} }`,
      '      - { name: rras-eu-2, url: "https://127.0.0.2:1" }',
    ].join('\n'),
  );
  return path;
}

const NO_CONFIG = { env: {}, fileExists: () => false };

async function check(args: string[], environment = NO_CONFIG): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCheck([server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) }, {}, environment);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('sstpwatch check: thresholds', () => {
  it('warns about a certificate 10 days from expiry with the built-in 21/7 days when there is no config', async () => {
    const { code, out } = await check([]);
    expect(code).toBe(0);
    expect(out).toContain('certificate expires in 10 days (warning: under 21 days)');
    expect(out).toMatch(/WARNING certificate_expires_soon: .*warning below 21 days/);
    expect(out).toContain('thresholds: certificate warning under 21 days, critical under 7 days; slow above 1000 ms (built-in defaults)');
  });

  it("takes the config's defaults: warn_days 5 makes the same certificate fine", async () => {
    const path = configFile('quiet.yml', 'certificates: { warn_days: 5, critical_days: 2 }', null);
    const { out } = await check(['--config', path]);
    expect(out).not.toMatch(/certificate expires in|certificate_expires_soon/);
    expect(out).toContain(`thresholds: certificate warning under 5 days, critical under 2 days; slow above 1000 ms (${path}, defaults)`);
  });

  it('takes the settings of the configured target with this URL over the defaults', async () => {
    const path = configFile('target.yml', 'certificates: { warn_days: 5, critical_days: 2 }', 'certificates: { warn_days: 30, critical_days: 14 }');
    const { out } = await check(['--config', path]);
    expect(out).toContain('certificate expires in 10 days (critical: under 14 days)');
    expect(out).toMatch(/CRITICAL certificate_expires_soon: .*critical below 14 days/);
    expect(out).toContain(`(${path}, target rras-eu-1)`);
  });

  it('finds the config through $SSTPWATCH_CONFIG like serve does', async () => {
    const path = configFile('env.yml', 'certificates: { warn_days: 5, critical_days: 2 }');
    const { out } = await check([], { env: { SSTPWATCH_CONFIG: path }, fileExists: () => true });
    expect(out).toContain(`certificate warning under 5 days, critical under 2 days; slow above 1000 ms (${path}, target rras-eu-1)`);
  });

  it('lets the command line override the config: --warn-days, --critical-days, --slow-threshold', async () => {
    const path = configFile('flags.yml', 'certificates: { warn_days: 5, critical_days: 2 }');
    const { out } = await check(['--config', path, '--warn-days', '12', '--slow-threshold', '1ms']);
    expect(out).toContain('certificate expires in 10 days (warning: under 12 days)');
    expect(out).toContain(`slow above 1 ms (--warn-days, --slow-threshold over ${path}, target rras-eu-1)`);
  });

  it('calls an answer slower than --slow-threshold slow', async () => {
    const { code, out } = await check(['--warn-days', '0', '--critical-days', '0', '--slow-threshold', '1ms']);
    expect(code).toBe(0);
    expect(out).toMatch(/UP: SSTP listener answers 401 on HTTP\/1\.1, but slowly: .* \(slow above 1 ms\)/);
  });

  it('prints the thresholds it applied with --json', async () => {
    const { out } = await check(['--json', '--warn-days', '30']);
    const json = JSON.parse(out) as { thresholds: unknown; findings: Array<{ code: string; severity: string }> };
    expect(json.thresholds).toEqual({ certificates: { warn_days: 30, critical_days: 7 }, slow_threshold_ms: 1000, source: '--warn-days over built-in defaults' });
    expect(json.findings).toEqual([expect.objectContaining({ code: 'certificate_expires_soon', severity: 'warning' })]);
  });

  it('refuses a config it was pointed at that does not load, and bad threshold flags, with exit 2', async () => {
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, 'groups: 7\n');
    const fromFile = await check(['--config', broken]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.err).toContain(`cannot take the thresholds from the config file ${broken}: groups: must be a list`);
    const flags = await check(['--warn-days', '3', '--critical-days', '5']);
    expect(flags.code).toBe(2);
    expect(flags.err).toContain('critical days (5) must not be more than warning days (3)');
    expect((await check(['--warn-days', 'soon'])).err).toContain('--warn-days takes a whole number of days from 0 to 3650 (got "soon")');
  });

  it('warns and falls back to the built-in thresholds when ./sstpwatch.yml, found implicitly, does not load (the real command)', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'sstpwatch.yml'), 'groups: 7\n');
    const env = { ...process.env };
    delete env['SSTPWATCH_CONFIG'];
    // Asynchronously: the fake server runs in this process and must keep answering.
    const run = await promisify(execFile)(process.execPath, [BIN, 'check', server.url, '--hostname', VPN_HOSTNAME, '--ca', caFile, '--no-revocation'], { cwd, env, timeout: 60_000 });
    expect(run.stderr).toMatch(/^warning: \.\/sstpwatch\.yml: groups: must be a list.*\(the built-in thresholds apply\)$/m);
    expect(run.stdout).toContain('(built-in defaults)');
  });
});

// The package as a user gets it: `npm pack`, then `npm install <tarball>` into an empty directory, then the
// installed `sstpwatch` run from there (its migrations found inside the package, wherever it is installed).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCertificates, VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';
import { localBetterSqlitePrebuild } from '../../fixtures/prebuilt.js';
import { freePort, waitFor } from '../../fixtures/service.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

let dir: string;
let tarball: string;
let files: string[];
let installed: string;
let prebuilds: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-package-'));
  // dist/ is fresh (test/global-setup.ts builds it), so the tarball's own prepare run is not needed here.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  const [pack] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, pack!.filename);
  files = pack!.files.map((f) => f.path);
  // An empty directory, as a user's: no package.json, no node_modules. better-sqlite3's native module comes
  // prebuilt, as from GitHub for a user (test/fixtures/prebuilt.ts).
  const prebuilt = localBetterSqlitePrebuild();
  prebuilds = prebuilt.dir;
  await run('npm', ['install', ...NPM_QUIET, '--prefer-offline', tarball], { cwd: dir, env: { ...process.env, ...prebuilt.env }, timeout: 600_000, maxBuffer: 16 << 20 });
  installed = join(dir, 'node_modules', '.bin', 'sstpwatch');
}, 660_000);

afterAll(async () => {
  await closeAllRras();
  rmSync(dir, { recursive: true, force: true });
  if (prebuilds) rmSync(prebuilds, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds what a user needs: the compiled code, migrations, rules, dashboards, deploy files, docs', () => {
    for (const path of [
      'bin/sstpwatch.js', 'dist/main.js', 'dist/store/sqlite.js', 'migrations/0001_init.sql', 'prometheus/alerts.yml',
      'prometheus/prometheus.example.yml', 'grafana/dashboards/sstp-fleet.json', 'grafana/provisioning/datasources/sstpwatch.yml',
      'deploy/systemd/sstpwatch.service', 'deploy/systemd/sstpwatch.yml',
      'sstpwatch.example.yml', 'sstpwatch.yml', 'README.md', 'LICENSE', 'CHANGELOG.md', 'package.json',
    ]) expect(files, path).toContain(path);
    for (const file of readdirSync(join(ROOT, 'migrations'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.sql'))) {
      expect(files).toContain(`migrations/${file}`);
    }
  });

  it('holds nothing else: no sources, tests, benchmarks, build state or source maps', () => {
    const stray = files.filter((path) => /^(src|test|bench|node_modules|grafana\/src)\//.test(path) || /\.(ts|map|tsbuildinfo)$/.test(path));
    expect(stray).toEqual([]);
  });

  it('installs into an empty directory, and the installed sstpwatch prints its version', async () => {
    const { stdout } = await run(installed, ['--version'], { cwd: dir });
    expect(stdout).toBe(`sstpwatch ${VERSION} (node ${process.version})\n`);
    // tsx is for development only: a user's install never has it.
    expect(existsSync(join(dir, 'node_modules', 'tsx'))).toBe(false);
  });

  it('checks a (fake) RRAS server from there', async () => {
    const certs = await testCertificates();
    const rras = await startRras(certs.valid);
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, certs.ca.certPem);
    const { stdout } = await run(installed, ['check', rras.url, '--hostname', VPN_HOSTNAME, '--ca', caFile], { cwd: dir });
    expect(stdout).toContain('UP');
  });

  it('serves the demo config shipped in the package, migrating a new database next to the config', async () => {
    const port = await freePort();
    const shipped = readFileSync(join(dir, 'node_modules', 'sstpwatch', 'sstpwatch.yml'), 'utf8');
    const config = join(dir, 'sstpwatch.yml');
    writeFileSync(config, shipped.replace('"127.0.0.1:9470"', `"127.0.0.1:${port}"`));
    const child = spawn(installed, ['serve', '--config', config], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the installed service to answer /healthz', async () => {
        if (child.exitCode !== null) throw new Error(`sstpwatch exited with ${child.exitCode}:\n${output}`);
        return fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      }, 30_000);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok', version: VERSION });
      await waitFor('the demo targets to have results', async () => {
        const status = (await (await fetch(`${base}/api/v1/status`)).json()) as { targets: { last_result: unknown }[] };
        return status.targets.length > 0 && status.targets.every((t) => t.last_result !== null);
      }, 30_000);
      expect(existsSync(join(dir, 'data', 'sstpwatch.db'))).toBe(true);
      expect(output).toContain('"msg":"migration applied"');
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
    expect(child.exitCode, output).toBe(0);
  }, 180_000);
});

describe('the systemd unit, run as written against the installed package', () => {
  /** The unit's absolute paths, moved under this test's directory (nothing here runs as root or under systemd). */
  function mapPaths(word: string, map: Record<string, string>): string {
    for (const [from, to] of Object.entries(map)) if (word === from || word.startsWith(`${from}/`)) return to + word.slice(from.length);
    return word;
  }

  it("starts sstpwatch with the unit's exact ExecStart line and the shipped config, and reloads it with ExecReload", async () => {
    const unit = readFileSync(join(dir, 'node_modules', 'sstpwatch', 'deploy', 'systemd', 'sstpwatch.service'), 'utf8');
    const setting = (key: string) => unit.split('\n').find((line) => line.startsWith(`${key}=`))?.slice(key.length + 1);
    const execStart = setting('ExecStart')!;
    expect(execStart).toBe('/usr/bin/node /opt/sstpwatch/node_modules/sstpwatch/bin/sstpwatch.js serve --config /etc/sstpwatch/sstpwatch.yml');
    expect(setting('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    const etc = join(dir, 'etc');
    const state = join(dir, 'state');
    mkdirSync(etc);
    mkdirSync(state);
    const paths = { '/usr/bin/node': process.execPath, '/opt/sstpwatch': dir, '/etc/sstpwatch': etc, '/var/lib/sstpwatch': state };

    // The config the package ships for the unit; its servers are pointed at fake RRAS servers on loopback.
    const certs = await testCertificates();
    const servers = await Promise.all([startRras(certs.valid), startRras(certs.valid), startRras(certs.valid), startRras(certs.valid)]);
    writeFileSync(join(etc, 'ca.pem'), certs.ca.certPem);
    const port = await freePort();
    const shipped = readFileSync(join(dir, 'node_modules', 'sstpwatch', 'deploy', 'systemd', 'sstpwatch.yml'), 'utf8');
    const config = shipped
      .replace('"127.0.0.1:9470"', `"127.0.0.1:${port}"`)
      .replace('/var/lib/sstpwatch/', `${state}/`)
      .replace('hostname: vpn.example.com', `hostname: ${VPN_HOSTNAME}`)
      .replace('vip: https://vpn.example.com', `vip: ${servers[0].url}`)
      .replace('"https://10.0.0.11"', `"${servers[1].url}"`)
      .replace('"https://10.0.0.12"', `"${servers[2].url}"`)
      .replace('interval: 30s', 'interval: 2s') // rise 2: up after two probes, seconds rather than a minute
      .replace('timeout: 5s', 'timeout: 1500ms')
      .replace(/^defaults:\n/m, `defaults:\n  tls: { ca_file: ${join(etc, 'ca.pem')} }\n`);
    expect(config).not.toMatch(/10\.0\.0\.|example\.com/); // nothing beyond loopback is probed
    writeFileSync(join(etc, 'sstpwatch.yml'), config);

    const [command, ...args] = execStart.split(' ').map((word) => mapPaths(word, paths));
    const child = spawn(command!, args, { cwd: mapPaths(setting('WorkingDirectory')!, paths), env: { ...process.env, SSTPWATCH_TOKEN: 'f3a9c0d4e5b6a7980112233445566778' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    const status = async () => (await (await fetch(`${base}/api/v1/status`)).json()) as { targets: { name: string; state: string }[] };
    try {
      await waitFor('the three targets of the shipped config to be up', async () => {
        if (child.exitCode !== null) throw new Error(`sstpwatch exited with ${child.exitCode}:\n${output}`);
        const targets = await status().then((s) => s.targets, () => []);
        return targets.length === 3 && targets.every((t) => t.state === 'up');
      }, 60_000);
      expect(existsSync(join(state, 'sstpwatch.db'))).toBe(true);

      // systemctl reload: ExecReload's kill, with $MAINPID the node process the ExecStart line started.
      writeFileSync(join(etc, 'sstpwatch.yml'), config.replace(/(servers:\n)/, `$1      - { name: rras-eu-3, url: "${servers[3].url}" }\n`));
      const [kill, ...killArgs] = setting('ExecReload')!.replace('$MAINPID', String(child.pid)).split(' ');
      await run(kill!, killArgs);
      await waitFor('the reloaded config to add rras-eu-3', async () => (await status()).targets.some((t) => t.name === 'rras-eu-3'), 30_000);
      expect(child.exitCode).toBe(null);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
    expect(child.exitCode, output).toBe(0);
  }, 180_000);
});

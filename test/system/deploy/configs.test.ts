// The configs and service definitions under deploy/ are valid as shipped; Windows' files are checked by reading
// (no Windows here): WinSW's definition runs the same command as the systemd unit, and install.ps1 uses only
// files the package ships.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readAuthToken } from '../../../src/config/token.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../src/config/load.js';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sstpwatch-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the shipped deploy configs', () => {
  it.each(['systemd', 'container'])('%s/sstpwatch.yml loads without an error, its database outside /etc', (dir) => {
    const config = loadConfigFile(join(DEPLOY, dir, 'sstpwatch.yml'));
    expect(config.database).toBe('/var/lib/sstpwatch/sstpwatch.db');
    expect(config.auth.tokenEnv).toBe('SSTPWATCH_TOKEN');
  });

  it('windows/sstpwatch.yml loads with the token file install.ps1 writes, everything under its ProgramData folder', () => {
    const dir = mkdtempSync(join(scratch, 'programdata-'));
    copyFileSync(join(DEPLOY, 'windows', 'sstpwatch.yml'), join(dir, 'sstpwatch.yml'));
    writeFileSync(join(dir, 'token'), 'a3f09c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4\n');
    const config = loadConfigFile(join(dir, 'sstpwatch.yml'));
    expect(config.database).toBe(join(dir, 'data', 'sstpwatch.db'));
    expect(config.auth.tokenFile).toBe(join(dir, 'token'));
    expect(readAuthToken(config.auth, {}).source).toBe(`file ${join(dir, 'token')}`);
  });
});

describe('the Windows service files', () => {
  const xml = readFileSync(join(DEPLOY, 'windows', 'sstpwatch.xml'), 'utf8');
  const install = readFileSync(join(DEPLOY, 'windows', 'install.ps1'), 'utf8');

  it("run node on the package's bin with serve --config, like the systemd unit, and stop it with time to spare", () => {
    expect(xml).toContain('<executable>@NODE@</executable>');
    expect(xml).toContain('<arguments>"@INSTALL@\\node_modules\\sstpwatch\\bin\\sstpwatch.js" serve --config "@DATA@\\sstpwatch.yml"</arguments>');
    // sstpwatch is done within 8 s of the stop signal; WinSW kills after stoptimeout.
    expect(xml).toContain('<env name="NODE_OPTIONS" value="--max-semi-space-size=8"/>');
    expect(xml).toMatch(/<stoptimeout>(1[0-9]|[2-9][0-9]) sec<\/stoptimeout>/);
    for (const placeholder of ['@NODE@', '@INSTALL@', '@DATA@']) expect(install).toContain(`'${placeholder}'`);
  });

  it('install.ps1 uses only files the package ships under deploy/windows', () => {
    const used = [...install.matchAll(/Join-Path \$shipped '([^']+)'/g)].map((m) => m[1]);
    expect(used.sort()).toEqual(['reload.ps1', 'sstpwatch.xml', 'sstpwatch.yml']);
    for (const file of used) expect(() => readFileSync(join(DEPLOY, 'windows', file!))).not.toThrow();
  });

  it('reload.ps1 reloads through POST /-/reload with the bearer token (no SIGHUP on Windows)', () => {
    const reload = readFileSync(join(DEPLOY, 'windows', 'reload.ps1'), 'utf8');
    expect(reload).toContain('Invoke-RestMethod -Method Post -Uri "$Url/-/reload" -Headers @{ Authorization = "Bearer $token" }');
  });
});

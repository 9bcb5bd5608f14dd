// The real binary: its version everywhere an admin looks for it, and its logs as text or JSON.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runSstpwatch, startService, type RunningService } from '../fixtures/service.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const sstpwatch = runSstpwatch;

let dir: string;
let running: RunningService | null = null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-version-'));
});
afterEach(async () => {
  await running?.stop();
  running = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config with one server on a closed loopback port (probing it fails, which does not matter here). */
async function config(extra = ''): Promise<{ path: string; port: number }> {
  const port = await freePort();
  const path = join(dir, `sstpwatch-${port}.yml`);
  writeFileSync(path, `listen: "127.0.0.1:${port}"\ndatabase: ./data-${port}/sstpwatch.db\n${extra}groups:\n  - name: vpn\n    hostname: vpn.example.test\n    servers: [{ name: rras-1, url: "https://127.0.0.1:9" }]\n`);
  return { path, port };
}

const jsonLines = (text: string) => text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the version', () => {
  it('is printed by --version, -V and the version command, with the Node version', async () => {
    for (const args of [['--version'], ['-V'], ['version']]) {
      const { code, stdout } = await sstpwatch(args);
      expect({ args, code, stdout }).toEqual({ args, code: 0, stdout: `sstpwatch ${PACKAGE_VERSION} (node ${process.version})\n` });
    }
  }, 90_000);

  it('is on /healthz, in sstpwatch_build_info and in the first log line of serve', async () => {
    const { path, port } = await config();
    running = await startService(path, port);
    expect((await running.get('/healthz')).json()).toEqual({ status: 'ok', version: PACKAGE_VERSION });
    expect((await running.get('/metrics')).body).toContain(`sstpwatch_build_info{version="${PACKAGE_VERSION}",node_version="${process.version}"} 1`);
    expect(jsonLines(running.output())[0]).toMatchObject({ msg: 'sstpwatch starting', version: PACKAGE_VERSION, node: process.version, config: path });
  });
});

describe('the logs', () => {
  it('are JSON lines when stdout is not a terminal', async () => {
    const { path, port } = await config();
    running = await startService(path, port);
    const lines = running.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('are readable text lines with --log-format text', async () => {
    const { path, port } = await config();
    running = await startService(path, port, {}, ['--log-format', 'text']);
    const first = running.output().split('\n')[0]!;
    expect(first).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO: sstpwatch starting \{"version":"[^"]+","node":"v[\d.]+"/);
    expect(running.output()).not.toMatch(/^\{/m);
  });

  it('follow log: {level, format} in the config file', async () => {
    const { path, port } = await config('log: { level: warn, format: text }\n');
    running = await startService(path, port, { SSTPWATCH_LOG_LEVEL: '' });
    expect((await running.get('/healthz')).status).toBe(200);
    await running.stop();
    expect(running.output()).not.toContain('INFO');
    expect(running.output()).not.toMatch(/^\{/m);
  });

  it('take their level from SSTPWATCH_LOG_LEVEL over the config file', async () => {
    const { path, port } = await config('log: { level: info }\n');
    running = await startService(path, port, { SSTPWATCH_LOG_LEVEL: 'warn' });
    await running.stop();
    expect(running.output()).not.toContain('"level":30');
    expect(running.output()).not.toContain('sstpwatch starting');
  });

  it('refuse a bad --log-format or SSTPWATCH_LOG_LEVEL with exit 2 and the reason', async () => {
    const { path } = await config();
    const badFormat = await sstpwatch(['serve', '--config', path, '--log-format', 'yaml']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--log-format must be one of text, json (got "yaml")');
    const badLevel = await sstpwatch(['serve', '--config', path], { SSTPWATCH_LOG_LEVEL: 'loud' });
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toContain('SSTPWATCH_LOG_LEVEL must be one of');
  });

  it('refuse a bad log key in the config file with its path', async () => {
    const { path } = await config('log: { format: xml }\n');
    const { code, stderr } = await sstpwatch(['config', 'check', '--config', path]);
    expect(code).toBe(1);
    expect(stderr + '').toMatch(/log\.format: must be one of text, json \(got "xml"\)/);
  });
});

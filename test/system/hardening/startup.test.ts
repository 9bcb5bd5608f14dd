// Starts of the real service that must be refused with one clear line: never a stack trace, never a hang.
// Every case is its own process with its own config file, so the cases run at the same time (describe.concurrent,
// and each test's own expect, which concurrent tests need).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../../fixtures/service.js';
import { oneServerConfig, runToEnd } from './run.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sstpwatch-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A config file of its own; `database` defaults to a file beside it. */
async function configFile(name: string, top: string, database?: string): Promise<string> {
  const port = await freePort();
  const file = join(dir, `${++files}-${name}`);
  writeFileSync(file, oneServerConfig([`listen: "127.0.0.1:${port}"`, `database: ${JSON.stringify(database ?? `${file}.db`)}`, top].join('\n')));
  return file;
}

describe.concurrent('a token from the environment is checked as a token file is', () => {
  it.for([
    { case: 'a one-letter token', value: 'a', reason: 'the token is 1 characters long; use at least 16' },
    { case: 'a token with a space inside', value: 'correct horse battery staple', reason: 'must not contain spaces' },
    { case: 'a non-ASCII token', value: 'pässwörd-pässwörd-pässwörd', reason: 'must be printable ASCII' },
  ])('serve refuses $case in one line naming the variable, without quoting it', async ({ value, reason }, { expect }) => {
    const file = await configFile('token.yml', 'auth: { token_env: HARDENING_TOKEN }');
    const run = await runToEnd(['serve', '--config', file], { HARDENING_TOKEN: value });
    expect(run.hung).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('auth.token_env: the environment variable HARDENING_TOKEN: ');
    expect(run.stderr).toContain(reason);
    if (value.length > 8) expect(run.stderr + run.stdout).not.toContain(value); // a single letter is in any text
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe.concurrent('durations beyond what a timer can wait', () => {
  it('config check refuses a 30-day timeout with one line naming the limit', async ({ expect }) => {
    const file = await configFile('timeout.yml', 'defaults: { timeout: 30d, interval: 24d }');
    const run = await runToEnd(['config', 'check', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('defaults.timeout: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "30d")');
  });

  it('check --timeout 30d is a usage error (exit 2), not a probe that fails after 1 ms', async ({ expect }) => {
    const run = await runToEnd(['check', 'https://127.0.0.1:9', '--timeout', '30d']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--timeout must be at most 24d');
    expect(run.stdout).not.toContain('DOWN');
  });
});

describe.concurrent('a /probe allow list that reaches everything, loopback or link-local', () => {
  it('config check warns, one line per such entry, and the config stays valid', async ({ expect }) => {
    const file = await configFile('allow.yml', 'probe_endpoint: { enabled: true, allow: [0.0.0.0/0, "::/0", localhost, 169.254.0.0/16, 10.0.0.0/8] }');
    const check = await runToEnd(['config', 'check', '--config', file]);
    expect(check.code).toBe(0);
    expect(check.stderr.split('\n').filter((line) => line.startsWith('warning: probe_endpoint.allow: '))).toHaveLength(4);
    expect(check.stderr).toContain('warning: probe_endpoint.allow: "0.0.0.0/0" allows every IPv4 address');
    expect(check.stderr).toContain('"169.254.0.0/16" allows link-local addresses');
    expect(check.stderr).not.toContain('10.0.0.0/8');
  });
});

describe('database paths that cannot serve', () => {
  const cases = () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const readOnly = join(dir, 'read-only.db');
    writeFileSync(readOnly, '');
    chmodSync(readOnly, 0o444);
    const lockedDir = join(dir, 'locked');
    mkdirSync(lockedDir, { recursive: true });
    chmodSync(lockedDir, 0o555);
    return [
      { case: 'under /sys', database: '/sys/x.db', reason: 'is under /sys, a kernel pseudo-filesystem' },
      { case: 'under /proc (a recursive mkdir there never returned)', database: '/proc/sstp/x.db', reason: 'is under /proc, a kernel pseudo-filesystem' },
      { case: 'a directory', database: dir, reason: 'is a directory' },
      { case: 'a path under a file', database: join(file, 'x.db'), reason: `cannot be created: ${JSON.stringify(file)} is a file, not a directory` },
      { case: 'a read-only file', database: readOnly, reason: 'is read-only for sstpwatch (mode 444)' },
      { case: 'a file in an unwritable directory', database: join(lockedDir, 'sub', 'x.db'), reason: `the directory ${JSON.stringify(lockedDir)} is not writable` },
    ];
  };

  it('config check and serve each refuse every one in a single line naming the path, without a stack trace or a hang', async ({ expect }) => {
    const refusal = async ({ database, reason }: { database: string; reason: string }) => {
      const file = await configFile('db.yml', '', database);
      const [check, serve] = await Promise.all([runToEnd(['config', 'check', '--config', file]), runToEnd(['serve', '--config', file], {}, 15_000)]);
      expect(check.hung, database).toBe(false);
      expect(check.code, database).toBe(1);
      expect(check.stderr, database).toContain(`database: database ${JSON.stringify(database)} `);
      expect(check.stderr, database).toContain(reason);
      expect(serve.hung, database).toBe(false);
      expect(serve.code, database).toBe(1);
      const lines = serve.stderr.trim().split('\n');
      expect(lines, database).toEqual([expect.stringContaining(reason)]);
      expect(lines[0], database).toMatch(/^sstpwatch: database "/);
    };
    const all = cases();
    const refused = await Promise.allSettled(all.map(refusal));
    // Every case is reported, not only the first that fails.
    const failures = refused.flatMap((r, i) => (r.status === 'rejected' ? [`${all[i]!.case}: ${String(r.reason)}`] : []));
    expect(failures).toEqual([]);
  }, 240_000);
});

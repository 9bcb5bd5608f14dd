// No image can be built here (no Docker daemon), so this runs the Dockerfile's steps outside Docker: each stage
// gets a scratch root directory, COPY copies into it, RUN runs the same npm commands there, and the final stage is
// started as its CMD says, then asked by its HEALTHCHECK. What only an image can do (the node user owning the
// volume) is listed, not run.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBetterSqlitePrebuild } from '../../fixtures/prebuilt.js';
import { freePort, waitFor } from '../../fixtures/service.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** RUN steps that only make sense inside an image (users and ownership); every other RUN step is run. */
const IMAGE_ONLY = ['mkdir -p /var/lib/sstpwatch && chown node:node /var/lib/sstpwatch'];

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped, ARG defaults substituted. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n\s*/g, ' ').split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  const argDefaults: Record<string, string> = {};
  return joined.map((line) => {
    const [, op, args] = /^\s*([A-Z]+)\s+(.*)$/.exec(line)!;
    const substituted = args!.replace(/\$\{(\w+)\}/g, (_m, name: string) => argDefaults[name] ?? '');
    if (op === 'ARG') {
      const [name, value] = substituted.split('=');
      argDefaults[name!] = value ?? '';
    }
    return { op: op!, args: substituted };
  });
}

interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
}

interface Image {
  final: Stage;
  cmd: string[];
  healthcheck: string[];
  user: string;
  volumes: string[];
  exposed: string[];
  skipped: string[];
  runs: string[];
}

const inRoot = (stage: Stage, path: string) => join(stage.root, isAbsolute(path) ? path : join(stage.workdir, path));

async function buildOutsideDocker(scratch: string, npmEnv: Record<string, string>): Promise<Image> {
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  const image: Omit<Image, 'final'> = { cmd: [], healthcheck: [], user: 'root', volumes: [], exposed: [], skipped: [], runs: [] };
  for (const { op, args } of instructions(DOCKERFILE)) {
    if (op === 'FROM') {
      const name = / AS (\S+)$/i.exec(args)?.[1] ?? `stage${stages.length}`;
      stage = { name, root: join(scratch, name), workdir: '/', env: {} };
      mkdirSync(stage.root, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (op === 'ARG') continue;
    if (!stage) throw new Error(`${op} before FROM`);
    if (op === 'WORKDIR') {
      stage.workdir = args;
      mkdirSync(inRoot(stage, '.'), { recursive: true });
    } else if (op === 'ENV') {
      const at = args.indexOf('=');
      stage.env[args.slice(0, at)] = args.slice(at + 1);
    } else if (op === 'COPY') {
      const words = args.split(/\s+/);
      const from = words[0]!.startsWith('--from=') ? stages.find((s) => s.name === words.shift()!.slice('--from='.length)) : undefined;
      const dest = words.pop()!;
      for (const source of words) {
        const sourcePath = from ? inRoot(from, source) : join(ROOT, source);
        const target = dest.endsWith('/') ? join(inRoot(stage, dest), source.split('/').pop()!) : inRoot(stage, dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(sourcePath, target, { recursive: true });
      }
    } else if (op === 'RUN') {
      if (IMAGE_ONLY.includes(args)) {
        image.skipped.push(args);
        continue;
      }
      expect(args.split(' && ').every((part) => part.startsWith('npm ')), `RUN ${args}`).toBe(true);
      image.runs.push(args);
      await run('sh', ['-c', args], { cwd: inRoot(stage, '.'), env: { ...process.env, ...npmEnv, ...stage.env }, timeout: 900_000, maxBuffer: 64 << 20 });
    } else if (op === 'USER') image.user = args;
    else if (op === 'VOLUME') image.volumes.push(args);
    else if (op === 'EXPOSE') image.exposed.push(args);
    else if (op === 'CMD') image.cmd = JSON.parse(args) as string[];
    else if (op === 'HEALTHCHECK') image.healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
    else throw new Error(`the test does not know Dockerfile instruction ${op}`);
  }
  return { ...image, final: stage! };
}

let scratch: string;
let image: Image;
let prebuilds: string | undefined;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'sstpwatch-image-'));
  // `npm rebuild better-sqlite3` takes the native module prebuilt, as a docker build gets it from GitHub.
  const prebuilt = localBetterSqlitePrebuild();
  prebuilds = prebuilt.dir;
  image = await buildOutsideDocker(scratch, { ...prebuilt.env, npm_config_prefer_offline: 'true' });
}, 1_200_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (prebuilds) rmSync(prebuilds, { recursive: true, force: true });
}, 120_000);

describe('the Dockerfile', () => {
  it('builds in two stages: the compiler in the first, runtime dependencies only in the image', () => {
    expect(image.runs).toContain('npm run build');
    expect(image.runs.some((cmd) => cmd.startsWith('npm ci --omit=dev'))).toBe(true);
    const modules = join(image.final.root, 'opt/sstpwatch/node_modules');
    expect(existsSync(join(modules, 'better-sqlite3'))).toBe(true);
    for (const devOnly of ['typescript', 'tsx', 'vitest']) expect(existsSync(join(modules, devOnly)), devOnly).toBe(false);
    expect(existsSync(join(image.final.root, 'opt/sstpwatch/src'))).toBe(false);
    expect(image.skipped).toEqual(IMAGE_ONLY);
  });

  it('gives node a young generation of 2 x 8 MiB, as the systemd unit does', () => {
    expect(image.final.env.NODE_OPTIONS).toBe('--max-semi-space-size=8');
  });

  it('runs as a user other than root, keeps its state in a volume and exposes 9470', () => {
    expect(image.user).toBe('node');
    expect(image.volumes).toEqual(['/var/lib/sstpwatch']);
    expect(image.exposed).toEqual(['9470']);
    const config = parse(readFileSync(join(image.final.root, 'etc/sstpwatch/sstpwatch.yml'), 'utf8')) as Record<string, unknown>;
    expect(config['listen']).toBe('0.0.0.0:9470');
    expect(config['database']).toMatch(/^\/var\/lib\/sstpwatch\//);
  });

  it('starts as its CMD says, and its HEALTHCHECK (no curl) finds it healthy', async () => {
    const root = image.final.root;
    // Loopback only: the image's 0.0.0.0:9470 becomes 127.0.0.1 on a free port; its paths move under the scratch root.
    const port = await freePort();
    const configPath = join(root, 'etc/sstpwatch/sstpwatch.yml');
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('"0.0.0.0:9470"', `"127.0.0.1:${port}"`).replace('/var/lib/sstpwatch/', `${root}/var/lib/sstpwatch/`));
    const [node, ...args] = image.cmd.map((word) => (word.startsWith('/') ? join(root, word) : word));
    expect(node).toBe('node');
    const child = spawn(process.execPath, args, { cwd: join(root, image.final.workdir), env: { PATH: process.env.PATH ?? '', ...image.final.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const healthcheck = image.healthcheck.map((word) => word.replace('127.0.0.1:9470', `127.0.0.1:${port}`));
    expect(healthcheck.join(' ')).not.toMatch(/curl|wget/);
    try {
      await waitFor('the healthcheck to pass', async () => {
        if (child.exitCode !== null) throw new Error(`sstpwatch exited with ${child.exitCode}:\n${output}`);
        return run(process.execPath, healthcheck.slice(1)).then(() => true, () => false);
      }, 60_000);
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { version: string };
      expect(health.version).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      expect(existsSync(join(root, 'var/lib/sstpwatch/sstpwatch.db'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
    expect(child.exitCode, output).toBe(0);
    // JSON logs: a container's stdout is no terminal.
    expect(output.split('\n')[0]).toMatch(/^\{"level":30,.*"msg":"sstpwatch starting"/);
  }, 120_000);
});

describe('the compose example', () => {
  const dir = join(ROOT, 'deploy/container');
  const compose = parse(readFileSync(join(dir, 'compose.yml'), 'utf8')) as { services: Record<string, { volumes?: string[]; build?: string }> };

  it('mounts only files that exist, and builds from the repository root', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(dir, source)), volume).toBe(true);
      }
    }
    expect(existsSync(join(dir, compose.services['sstpwatch']!.build!, 'Dockerfile'))).toBe(true);
  });

  it("gives Prometheus a config promtool accepts, scraping the sstpwatch service with sstpwatch's rules", async () => {
    const check = mkdtempSync(join(tmpdir(), 'sstpwatch-compose-'));
    try {
      // Laid out as the compose file mounts them: the rules next to prometheus.yml.
      cpSync(join(dir, 'prometheus.yml'), join(check, 'prometheus.yml'));
      for (const rules of ['alerts.yml', 'alerts-certificates.yml']) cpSync(join(ROOT, 'prometheus', rules), join(check, rules));
      const { stdout } = await run('promtool', ['check', 'config', join(check, 'prometheus.yml')]).catch((err: NodeJS.ErrnoException & { stdout: string; stderr: string }) => {
        if (err.code === 'ENOENT') throw new Error('promtool is missing: apt-get install prometheus');
        throw new Error(`promtool check config failed:\n${err.stdout}${err.stderr}`);
      });
      expect(stdout).toMatch(/SUCCESS/);
      expect(readFileSync(join(dir, 'prometheus.yml'), 'utf8')).toContain('targets: ["sstpwatch:9470"]');
    } finally {
      rmSync(check, { recursive: true, force: true });
    }
  });
});

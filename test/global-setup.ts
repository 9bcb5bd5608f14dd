// Builds dist/ once before the suite: tests spawn bin/sstpwatch.js, which runs the compiled code, so a stale
// dist/ would silently test old sources. Incremental: a second run with nothing changed takes a second or two.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export default function buildDist(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    const output = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`npm run build failed, so the tests would run a stale dist/:\n${output}`);
  }
}

// Benchmark (not a test): the heap that a single-site store's published states (LocalSiteStates) hold at N targets,
// as the service leaves them: every target published by several flushes, each flush replacing its row.
//
//   node --expose-gc --import tsx bench/local-states.ts --targets 10000
import { parseArgs } from 'node:util';
import type { PendingState } from '../src/store/intake.js';
import { LocalSiteStates } from '../src/store/local-states.js';

const { values } = parseArgs({ options: { targets: { type: 'string', default: '10000' }, flushes: { type: 'string', default: '5' } } });
const targets = Number(values.targets);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/local-states.ts');

/** The certificate's fingerprint: the same string the monitor's health holds, not a copy. */
const SHA256 = 'AB'.repeat(32);

/** One flush's states, as the monitor publishes them (a new summary and certificate per result). */
function flush(round: number, names: readonly string[]): PendingState[] {
  return Array.from({ length: targets }, (_, i) => ({
    targetId: i + 1,
    target: names[i]!,
    state: {
      state: 'up' as const,
      since: 1_700_000_000_000 + i,
      consecutiveFailures: 0,
      consecutiveSuccesses: round + 1,
      intervalMs: 30_000,
      lastResult: { at: 1_700_000_000_000 + round * 30_000 + i, ok: true, errorKind: 'ok' as const, statusCode: 401, durationMs: 12.5, message: 'HTTP 401' },
      certificate: { sha256: SHA256, notAfter: 1_800_000_000_000 },
    },
  }));
}

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const states = new LocalSiteStates('', Date.now);
const names = Array.from({ length: targets }, (_, i) => `rras-${i}`); // the names live elsewhere in the service
const before = heapUsed();
for (let round = 0; round < Number(values.flushes); round++) states.write(flush(round, names));
const after = heapUsed();
const held = states.read().states.length;
console.log(
  `${held} targets, ${values.flushes} flushes: the rows (with their result summary and certificate) hold ${((after - before) / 1024 / 1024).toFixed(2)} MiB, ${Math.round((after - before) / held)} bytes per target`,
);

// Summarises a V8 heap snapshot (node --heapsnapshot-signal, e.g. from `npm run bench -- --heap`): what holds the
// memory. Per constructor: instances, self size, and retained size (what would be freed with them, from the
// dominator tree, counting each object once under its outermost retainer of that constructor); then the objects
// that retain the most, each with its chain of dominators from the GC roots, so "a Map of 10,000 entries under
// CertificateMonitor" reads as such.
//   npx tsx bench/heap-summary.ts <file.heapsnapshot> [--top 30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarizeHeap, type HeapSnapshotJson } from './lib/heap.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const file = positionals[0];
if (!file) throw new Error('usage: tsx bench/heap-summary.ts <file.heapsnapshot> [--top N]');
const snapshot = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotJson;
const summary = summarizeHeap(snapshot, Number(values.top));
const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(2)} MiB`;
console.log(`${file}: ${summary.nodes.toLocaleString('en-US')} objects, ${mib(summary.totalBytes)} (self sizes of reachable objects)\n`);
console.log('By constructor (retained: objects not held by another of the same kind):');
console.log('  retained    self        count  constructor');
for (const c of summary.byConstructor) {
  console.log(`  ${mib(c.retained).padStart(10)}  ${mib(c.self).padStart(10)}  ${String(c.count).padStart(8)}  ${c.name}`);
}
console.log('\nBy owner (the nearest dominating instance of a named class):');
for (const o of summary.byOwner) console.log(`  ${mib(o.self).padStart(10)}  ${String(o.count).padStart(8)}  ${o.owner}: ${o.kinds}`);
console.log('\nLargest retainers (retained size, then the dominator chain from the roots):');
for (const o of summary.largest) console.log(`  ${mib(o.retained).padStart(10)}  ${o.path}`);

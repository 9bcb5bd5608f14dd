// The fleet benchmark's memory section: peak RSS while probing (before any API load or heap snapshot), where the
// resident memory is (V8 heap by space, external), and with --heap the snapshot's summary by constructor.
import type { BenchReport, SystemFigures } from './report.js';

const mib = (bytes: number | undefined): string => (bytes === undefined || Number.isNaN(bytes) ? 'n/a' : `${(bytes / 1048576).toFixed(1)} MiB`);

export function renderMemory(report: BenchReport): string {
  const rows: string[] = [];
  const heaps: string[] = [];
  const phases: string[] = [];
  for (const size of report.sizes) {
    for (const [name, f] of Object.entries<SystemFigures>(size.systems)) {
      if (f.peakRssProbingBytes === undefined) continue;
      const b = f.memoryBreakdown ?? {};
      const perK = (f.peakRssProbingBytes / 1048576 / size.targets) * 1000;
      rows.push(
        `| ${size.targets.toLocaleString('en-US')} | ${name} | ${mib(f.peakRssProbingBytes)} | ${perK.toFixed(1)} | ${mib(b.rss)} | ${mib(b.heapTotal)} / ${mib(b.heapUsed)} | ${mib(b['used new'] ?? b['used new_space'])} / ${mib(b['total new'] ?? b['total new_space'])} | ${mib(b['used old'] ?? b['used old_space'])} / ${mib(b['total old'] ?? b['total old_space'])} | ${mib(b.external)} | ${mib(f.peakRssBytes)} |`,
      );
      if (f.peakRssByPhase?.length) {
        phases.push(`| ${size.targets.toLocaleString('en-US')} | ${name} | ${mib(f.peakRssProbingBytes)} | ${f.peakRssByPhase.map((p) => `${p.phase}: ${p.startBytes === undefined ? '' : `${mib(p.startBytes)} -> `}${mib(p.bytes)}`).join('; ')} |`);
      }
      if (f.heap) {
        heaps.push(`### Heap snapshot, N=${size.targets.toLocaleString('en-US')} ${name}: ${mib(f.heap.totalBytes)} reachable`, '', '| retained | self | count | constructor |', '|---:|---:|---:|---|');
        for (const c of f.heap.byConstructor.slice(0, 15)) heaps.push(`| ${mib(c.retained)} | ${mib(c.self)} | ${c.count.toLocaleString('en-US')} | ${c.name.replaceAll('|', '\\|')} |`);
        heaps.push('', 'Largest retainers:', '', ...f.heap.largest.slice(0, 12).map((o) => `- ${mib(o.retained)}: ${o.path.replaceAll('|', '\\|')}`), '');
      }
    }
  }
  if (rows.length === 0) return '';
  return [
    '## Memory',
    '',
    'Peak RSS while probing: VmHWM at the end of the window, before the API load (and the heap snapshot). Then, from',
    "sstpwatch's own series at that moment: RSS, V8 heap total / used, new space used / total, old space used / total,",
    'external (Buffers). "whole run" is the largest of that and each later phase\'s peak (below), API load included.',
    '',
    '| N | system | peak RSS probing | MiB / 1k targets | RSS | heap total / used | new space | old space | external | peak RSS whole run |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...(phases.length
      ? ['Peak RSS by phase (VmHWM reset at the start of each phase after the probing window, read at its end; the whole run\'s peak is the largest; "a -> b": the RSS the phase started from, then its peak):', '', '| N | system | probing (since start) | after it, phase by phase |', '|---:|---|---:|---|', ...phases, '']
      : []),
    ...heaps,
  ].join('\n');
}

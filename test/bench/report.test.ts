// The fleet benchmark's rounds: sstpwatch's CPU per probe against each other system, a ratio per round and their
// median, which is what the capacity goals are read from when one 60-second window moves by a fifth between runs.
import { describe, expect, it } from 'vitest';
import { medianOf, renderMarkdown, roundRatios, type BenchReport, type RoundFigures, type SystemFigures } from '../../bench/lib/report.js';

const round = (order: RoundFigures['order'], cpu: RoundFigures['cpuSecondsPer1000']): RoundFigures => ({ order, cpuSecondsPer1000: cpu });

describe('medianOf', () => {
  it.each([
    { values: [], median: NaN },
    { values: [NaN, NaN], median: NaN },
    { values: [4], median: 4 },
    { values: [3, 1, 2], median: 2 },
    { values: [0.9, NaN, 1.1, 0.8], median: 0.9 },
  ])('$values -> $median', ({ values, median }) => {
    expect(medianOf(values)).toBe(median);
  });
});

describe('roundRatios', () => {
  const rounds = [
    round(['sstpwatch', 'blackbox', 'floor'], { sstpwatch: 4, blackbox: 5, floor: 4 }),
    round(['blackbox', 'floor', 'sstpwatch'], { sstpwatch: 3, blackbox: 4, floor: 0 }),
    round(['floor', 'sstpwatch', 'blackbox'], { sstpwatch: 4.5 }),
  ];

  it.each([
    { other: 'blackbox' as const, ratios: [0.8, 0.75, NaN] },
    // A system that did not probe (0 CPU seconds per probe is no figure) gives no ratio, not Infinity.
    { other: 'floor' as const, ratios: [1, NaN, NaN] },
    { other: 'baseline' as const, ratios: [NaN, NaN, NaN] },
  ])('sstpwatch against $other, round by round', ({ other, ratios }) => {
    expect(roundRatios(rounds, other)).toEqual(ratios);
  });
});

describe('renderMarkdown with rounds', () => {
  const figures = (cpu: number): SystemFigures => ({ windowS: 60, scheduledPerS: 33.33, achievedPerS: 33.3, probes: 2000, failures: 0, fleetTlsErrors: 0, cpuSeconds: cpu * 2, cpuSecondsPer1000: cpu, fleetCpuSeconds: 1, peakRssBytes: 1, rssBytes: 1, loadAverage: [1, 1, 1] });
  const report = (rounds?: RoundFigures[]): BenchReport => ({
    startedAt: '2026-12-02T01:00:00.000Z',
    finishedAt: '2026-12-02T01:20:00.000Z',
    label: '',
    machine: { nproc: 2, cpuModel: 'x', node: 'v20', blackbox: '0.22.0', kernel: '6' },
    settings: { intervalS: 30, warmupS: 60, warmupOthersS: 10, measureS: 60, apiS: 0, key: 'RSA-2048', ports: 16 },
    sizes: [{ targets: 1000, scheduledPerS: 33.33, systems: { sstpwatch: figures(4), blackbox: figures(5), floor: figures(4) }, rounds }],
  });

  it('lists every round in the order its systems ran and the median of the per-round ratios', () => {
    const markdown = renderMarkdown(
      report([
        round(['sstpwatch', 'blackbox', 'floor'], { sstpwatch: 4, blackbox: 5, floor: 4 }),
        round(['blackbox', 'floor', 'sstpwatch'], { sstpwatch: 3.6, blackbox: 4, floor: 4 }),
        round(['floor', 'sstpwatch', 'blackbox'], { sstpwatch: 4.4, blackbox: 4, floor: 4 }),
      ]),
    );
    const table = markdown.slice(markdown.indexOf('## Rounds'), markdown.indexOf('## Goals'));
    expect(table).toContain('| sstpwatch | blackbox | floor | sstpwatch vs blackbox | sstpwatch vs floor |');
    expect(table).toContain('| 1,000 | 2 | blackbox, floor, sstpwatch | 3.6 | 4 | 4 | 0.9x | 0.9x |');
    expect(table).toContain('| 1,000 | 3 | floor, sstpwatch, blackbox | 4.4 | 4 | 4 | 1.1x | 1.1x |');
    // Ratios 0.8, 0.9, 1.1 and 1, 0.9, 1.1: the median of each, not the ratio of the medians (4 / 4 = 1).
    expect(table).toContain('| 1,000 | **median** | | 4 | 4 | 4 | **0.9x** | **1x** |');
  });

  it('has no rounds section for a run of one round', () => {
    expect(renderMarkdown(report())).not.toContain('## Rounds');
    expect(renderMarkdown(report([round(['sstpwatch'], { sstpwatch: 4 })]))).not.toContain('## Rounds');
  });
});

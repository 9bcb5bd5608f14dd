// Metric naming: what `promtool check metrics` and Prometheus' conventions ask of every family sstpwatch
// exports.
import { describe, expect, it } from 'vitest';
import { DROPPED_PROCESS_GAUGES } from '../../src/metrics/metrics.js';
import { everyFamily } from '../fixtures/metric-families.js';
import { runTool } from '../fixtures/prometheus.js';

/** Every family sstpwatch's service registers, as prom-client writes them. */
function everyFamilyText(): Promise<string> {
  return everyFamily().registry.metrics();
}

function families(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

describe('metric names', () => {
  it('pass promtool check metrics, process metrics included', async () => {
    const text = await everyFamilyText();
    const run = runTool('promtool', ['check', 'metrics'], undefined, text);
    expect(run.output).toBe('');
    expect(run.code).toBe(0);
  });

  it('end in _total only for counters', async () => {
    const gaugesNamedTotal = [...families(await everyFamilyText())].filter(([name, type]) => name.endsWith('_total') && type !== 'counter');
    expect(gaugesNamedTotal).toEqual([]);
  });

  it('leave out the process collector gauges that promtool rejects', async () => {
    const types = families(await everyFamilyText());
    for (const name of DROPPED_PROCESS_GAUGES) expect(types.has(name), name).toBe(false);
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
  });

  it('say sstpwatch_ for facts about sstpwatch itself and sstp_ for facts about targets and groups', async () => {
    const own = [...families(await everyFamilyText()).keys()].filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
    const selfMetrics = own.filter((name) => name.startsWith('sstpwatch_'));
    expect(selfMetrics).toEqual(expect.arrayContaining([
      'sstpwatch_config_last_reload_success_timestamp_seconds',
      'sstpwatch_config_last_reload_successful',
      'sstpwatch_scheduler_lag_seconds',
      'sstpwatch_store_dropped_results_total',
      'sstpwatch_store_pending_results',
      'sstpwatch_store_write_failures_total',
    ]));
    expect(own.filter((name) => !name.startsWith('sstpwatch_') && !name.startsWith('sstp_'))).toEqual([]);
    expect(own).toContain('sstp_group_servers');
    expect(own).not.toContain('sstp_group_servers_total');
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/types.js';
import { configInForce, diffConfig } from '../../src/config/diff.js';

const GROUPS = 'groups:\n  - { name: vpn, hostname: vpn.example.test, servers: [{ name: rras-1, url: "https://10.0.0.1" }] }\n';
const parse = (yaml: string) => parseConfig(yaml + GROUPS, { baseDir: '/etc/sstpwatch', readFile: () => '' });

function errorsOf(yaml: string): string[] {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('metrics.exclude', () => {
  it('is empty unless set, and keeps the families named, once each', () => {
    expect(parse('').metrics).toEqual({ exclude: [] });
    expect(parse('metrics: { exclude: [duration_histogram, phases, duration_histogram, cert_info] }\n').metrics).toEqual({
      exclude: ['duration_histogram', 'phases', 'cert_info'],
    });
  });

  it('refuses an unknown family by its path, suggesting the closest and listing the known ones', () => {
    expect(errorsOf('metrics: { exclude: [phases, duration_histogramm, 7] }\n')).toEqual([
      'metrics.exclude[1]: is not a metric family sstpwatch can leave out (got "duration_histogramm"); did you mean "duration_histogram"?; known: duration_histogram, phases, state_one_hot, result_counters, status_code, cert_info, thresholds',
      'metrics.exclude[2]: is not a metric family sstpwatch can leave out (got 7); known: duration_histogram, phases, state_one_hot, result_counters, status_code, cert_info, thresholds',
    ]);
    expect(errorsOf('metrics: { exclude: phases }\n')[0]).toMatch(/^metrics\.exclude: must be a list of family names/);
    expect(errorsOf('metrics: { exlude: [phases] }\n')[0]).toMatch(/^metrics\.exlude: unknown key \(did you mean "exclude"\?\)/);
  });

  it('takes effect at the next restart, as a reload reports', () => {
    const running = parse('');
    const next = parse('metrics: { exclude: [phases] }\n');
    expect(diffConfig(running, next).restartRequired).toEqual(['metrics']);
    expect(configInForce(running, next).metrics).toEqual({ exclude: [] });
  });
});

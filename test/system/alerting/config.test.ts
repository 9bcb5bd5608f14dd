// The shipped Prometheus/Alertmanager files, checked by the real promtool and amtool.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { requireProgram, runTool, shortenForDurations } from '../../fixtures/prometheus.js';

const DIR = fileURLToPath(new URL('../../../prometheus/', import.meta.url));
const RULES = join(DIR, 'alerts.yml');
const RULE_TESTS = join(DIR, 'alerts.test.yml');
const INSTANCE_RULE_TESTS = join(DIR, 'alerts-instances.test.yml');
/** Per instance inside an aggregation, or (rules that aggregate first) over the instances of a site. */
const MAINTENANCE_CLAUSES = [
  'unless on (job, instance, target) sstp_target_state{state="maintenance"} == 1',
  'unless on (job, site, target) max without (instance) (sstp_target_state{state="maintenance"}) == 1',
];

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules: Rule[] = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alertNames = [...new Set(rules.map((r) => r.alert))];

const scratch: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-rules-'));
  scratch.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('the test harness', () => {
  it('fails loud, naming the Debian package, when a program is missing', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireProgram('prometheus-alertmanager')).toThrow('install the Debian package "prometheus-alertmanager"');
      expect(() => requireProgram('promtool')).toThrow('install the Debian package "prometheus"');
    } finally {
      process.env.PATH = saved;
    }
    expect(requireProgram('promtool')).toMatch(/promtool$/);
  });
});

describe('prometheus/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const run = runTool('promtool', ['check', 'rules', RULES]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('has the day-one alerts, each with a severity, a summary and a description', () => {
    expect(alertNames.sort()).toEqual(
      [
        'SSTPCertificateExpired',
        'SSTPCertificateExpiresSoon',
        'SSTPHandshakeFailing',
        'SSTPHandshakeSHA1Only',
        'SSTPProbeSlow',
        'SSTPProbesStale',
        'SSTPRedundancyLost',
        'SSTPServerDown',
        'SSTPServiceDown',
        'SSTPWatchConfigReloadFailed',
        'SSTPWatchDown',
        'SSTPWatchResultsDropped',
        'SSTPWatchSchedulerLagging',
        'SSTPWatchShardsUnowned',
        'SSTPWatchStoreWritesFailing',
      ].sort(),
    );
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description?.length ?? 0, rule.alert).toBeGreaterThan(100);
    }
  });

  it('names maintenance in every rule about targets (the all-servers-down rule counts only up and down states)', () => {
    const aboutTargets = rules.filter((r) => !r.alert.startsWith('SSTPWatch') && r.labels?.scope !== 'servers');
    expect(aboutTargets.length).toBe(rules.length - 8);
    for (const rule of aboutTargets) expect(rule.expr, rule.alert).toContain('state="maintenance"');
  });
});

describe('prometheus/alerts.test.yml (promtool test rules)', () => {
  it('passes', () => {
    const run = runTool('promtool', ['test', 'rules', RULE_TESTS]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  }, 120_000); // promtool evaluates every case: seconds on a busy machine

  it('tests every alert: at least one case where it fires and one where it must not', () => {
    const cases = [RULE_TESTS, INSTANCE_RULE_TESTS].flatMap((file) =>
      (parse(readFileSync(file, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts?: unknown[] }> }> }).tests.flatMap(
        (t) => t.alert_rule_test,
      ),
    );
    for (const name of alertNames) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${name} fires somewhere`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name} is silent somewhere`).toBe(true);
    }
  });

  it('has teeth: rules without their maintenance clause fail the maintenance cases', () => {
    const dir = tempDir();
    const lines = readFileSync(RULES, 'utf8').split('\n');
    const stripped = lines.filter((line) => !MAINTENANCE_CLAUSES.includes(line.trim()));
    // every rule but the seven about sstpwatch itself, all-servers-down and SSTPRedundancyLost (they count states)
    expect(lines.length - stripped.length).toBe(rules.length - 9);
    writeFileSync(join(dir, 'alerts.yml'), stripped.join('\n'));
    writeFileSync(join(dir, 'alerts.test.yml'), readFileSync(RULE_TESTS));
    const run = runTool('promtool', ['test', 'rules', join(dir, 'alerts.test.yml')]);
    expect(run.code).not.toBe(0);
    for (const name of ['SSTPServerDown', 'SSTPServiceDown', 'SSTPCertificateExpiresSoon', 'SSTPCertificateExpired', 'SSTPProbeSlow', 'SSTPProbesStale', 'SSTPHandshakeFailing']) {
      expect(run.output, name).toContain(`alertname: ${name},`);
    }
  });

  it('with several instances and sites (prometheus/alerts-instances.test.yml): one alert per target and site, groups counted once', () => {
    const run = runTool('promtool', ['test', 'rules', INSTANCE_RULE_TESTS]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  }, 120_000);

  it('aggregates the scrape target away in every rule about a target, a group or a site, and keeps it in the rules about one sstpwatch', () => {
    const aboutASite = ['SSTPWatchShardsUnowned'];
    for (const rule of rules) {
      if (rule.alert.startsWith('SSTPWatch') && !aboutASite.includes(rule.alert)) expect(rule.expr, rule.alert).not.toContain('without (instance)');
      else expect(rule.expr, rule.alert).toContain('without (instance)');
    }
  });

  it('shortened for the end-to-end test, still valid and with every `for:` replaced', () => {
    const dir = tempDir();
    const short = shortenForDurations(readFileSync(RULES, 'utf8'), '1s');
    writeFileSync(join(dir, 'alerts.yml'), short);
    const run = runTool('promtool', ['check', 'rules', join(dir, 'alerts.yml')]);
    expect(run.code, run.output).toBe(0);
    const shortRules = (parse(short) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
    expect(shortRules.map((r) => r.expr)).toEqual(rules.map((r) => r.expr));
    expect(shortRules.filter((r) => r.for !== undefined).every((r) => r.for === '1s')).toBe(true);
    expect(shortRules.filter((r) => r.for !== undefined).length).toBe(rules.filter((r) => r.for !== undefined).length);
  });
});

describe('prometheus/prometheus.example.yml', () => {
  it('passes promtool check config, rules included', () => {
    const run = runTool('promtool', ['check', 'config', join(DIR, 'prometheus.example.yml')]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/SUCCESS: [1-9]\d* rule files found/);
  });

  it('may name its scrape job anything: no rule file selects a job', () => {
    const config = parse(readFileSync(join(DIR, 'prometheus.example.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string }> };
    expect(config.scrape_configs.map((s) => s.job_name)).toContain('sstpwatch');
    for (const file of ['alerts.yml', 'alerts-certificates.yml']) {
      const all = (parse(readFileSync(join(DIR, file), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
      for (const rule of all) expect(rule.expr, `${file} ${rule.alert}`).not.toMatch(/job\s*=~?\s*"/);
    }
  });
});

describe('prometheus/alertmanager.example.yml', () => {
  const config = join(DIR, 'alertmanager.example.yml');
  const route = (...labels: string[]): string => {
    const run = runTool('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels]);
    expect(run.code, run.output).toBe(0);
    return run.stdout.trim();
  };

  it('passes amtool check-config', () => {
    const run = runTool('amtool', ['check-config', config]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('pages the on-call for critical SSTP alerts, sends warnings to chat, the rest to mail', () => {
    expect(route('alertname=SSTPServiceDown', 'severity=critical', 'group=vpn-eu')).toBe('vpn-oncall-pager,vpn-team-chat');
    expect(route('alertname=SSTPServerDown', 'severity=warning', 'group=vpn-eu', 'target=rras-eu-1')).toBe('vpn-team-chat');
    expect(route('alertname=NodeDown', 'severity=critical')).toBe('vpn-team-mail');
  });
});

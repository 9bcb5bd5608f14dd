// prometheus/alerts-certificates.yml, checked and unit-tested by the real promtool.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runTool } from '../../fixtures/prometheus.js';

const DIR = fileURLToPath(new URL('../../../prometheus/', import.meta.url));
const RULES = join(DIR, 'alerts-certificates.yml');
const RULE_TESTS = join(DIR, 'alerts-certificates.test.yml');
const MAINTENANCE_CLAUSE = 'unless on (job, instance, target) sstp_target_state{state="maintenance"} == 1';

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const doc = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
const rules = doc.groups.flatMap((g) => g.rules);
const alertNames = [...new Set(rules.map((r) => r.alert))];

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('prometheus/alerts-certificates.yml', () => {
  it('passes promtool check rules, as the group sstpwatch-certificates', () => {
    const run = runTool('promtool', ['check', 'rules', RULES]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(doc.groups.map((g) => g.name)).toEqual(['sstpwatch-certificates']);
  });

  it('alerts on every certificate and revocation metric, each rule with a severity, a summary and a description', () => {
    const exprs = rules.map((r) => r.expr).join('\n');
    for (const metric of [
      'sstp_cert_chain_earliest_expiry_timestamp_seconds',
      'sstp_cert_valid{check="eku"}',
      'sstp_cert_valid{check="name"}',
      'sstp_cert_valid{check="chain"}',
      'sstp_cert_valid{check="revoked"}',
      'sstp_group_cert_consistent{check=~"servers|vip"}',
      'sstp_group_cert_consistent{check="offload_hash"}',
      'sstp_crl_reachable',
      'sstp_crl_next_update_timestamp_seconds',
      'sstp_crl_this_update_timestamp_seconds',
      'sstp_revocation_signature_valid',
      'sstp_ocsp_status{status="unknown"}',
    ]) {
      expect(exprs, metric).toContain(metric);
    }
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
  });
});

describe('prometheus/alerts-certificates.test.yml (promtool test rules)', () => {
  it('passes', () => {
    const run = runTool('promtool', ['test', 'rules', RULE_TESTS]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('tests every alert: at least one case where it fires and one where it must not', () => {
    const tests = parse(readFileSync(RULE_TESTS, 'utf8')) as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const name of alertNames) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${name} fires somewhere`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name} is silent somewhere`).toBe(true);
    }
  });

  it('has teeth: without their maintenance clause, the rules fail the maintenance cases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sstpwatch-cert-rules-'));
    scratch.push(dir);
    const lines = readFileSync(RULES, 'utf8').split('\n');
    const stripped = lines.filter((line) => line.trim() !== MAINTENANCE_CLAUSE);
    expect(lines.length - stripped.length).toBe(rules.length - 2); // the two group rules have none
    writeFileSync(join(dir, 'alerts-certificates.yml'), stripped.join('\n'));
    writeFileSync(join(dir, 'alerts-certificates.test.yml'), readFileSync(RULE_TESTS));
    const run = runTool('promtool', ['test', 'rules', join(dir, 'alerts-certificates.test.yml')]);
    expect(run.code).not.toBe(0);
    for (const name of ['SSTPChainCertificateExpiresSoon', 'SSTPCertificateNameMismatch', 'SSTPRevocationUnreachable']) {
      expect(run.output, name).toContain(`alertname: ${name},`);
    }
  });
});

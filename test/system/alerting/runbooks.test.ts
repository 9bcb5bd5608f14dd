// Every alert a user can receive carries severity, summary, description and a runbook_url, and the runbook it
// points at exists, is about that alert, and says how to confirm it with `sstpwatch`.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RULE_FILES = ['prometheus/alerts.yml', 'prometheus/alerts-certificates.yml'];

interface Rule {
  alert: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = RULE_FILES.flatMap((file) =>
  (parse(readFileSync(ROOT + file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules.map((rule) => ({ file, rule }))),
);

describe('alert runbooks', () => {
  it('cover every rule of both rule files', () => {
    expect(rules.length).toBeGreaterThan(20);
  });

  it.each(rules.map(({ file, rule }) => [`${file}: ${rule.alert}`, rule] as const))('%s has severity, summary, description and its runbook', (_name, rule) => {
    expect(['warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description?.length ?? 0).toBeGreaterThan(80);
    expect(rule.annotations?.runbook_url).toBe(`docs/runbooks/${rule.alert}.md`);
    const path = ROOT + rule.annotations!.runbook_url!;
    expect(existsSync(path), path).toBe(true);
    const runbook = readFileSync(path, 'utf8');
    expect(runbook.split('\n')[0]).toBe(`# ${rule.alert}`);
    for (const section of ['## What it means for VPN users', '## Confirm', '## Likely causes, most likely first', '## Fix']) expect(runbook).toContain(section);
    expect(runbook).toMatch(/`sstpwatch (check|config check) [^`]*`|`curl -s http:\/\/<sstpwatch>/);
  });

  it('has no runbook without an alert', async () => {
    const { readdirSync } = await import('node:fs');
    const alerts = new Set(rules.map(({ rule }) => `${rule.alert}.md`));
    expect(readdirSync(ROOT + 'docs/runbooks').filter((f) => !alerts.has(f))).toEqual([]);
  });
});

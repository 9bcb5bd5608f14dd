// Renders the dashboards to grafana/dashboards/*.json: `npm run dashboards`. The JSON is committed so that
// Grafana can provision or import it as is; test/grafana/dashboards.test.ts fails when it is out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetDashboard } from './fleet.js';
import { targetDashboard } from './target.js';

export const DASHBOARDS_DIR = fileURLToPath(new URL('../dashboards/', import.meta.url));

/** File name -> dashboard. */
export function dashboards(): Record<string, Dashboard> {
  return {
    'sstp-fleet.json': fleetDashboard(),
    'sstp-target.json': targetDashboard(),
  };
}

/** The exact text written for a dashboard (two-space JSON, trailing newline). */
export function render(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

export function writeDashboards(dir = DASHBOARDS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(dashboards()).map(([file, dashboard]) => {
    const path = join(dir, file);
    writeFileSync(path, render(dashboard));
    return path;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  for (const path of writeDashboards()) console.log(`wrote ${path}`);
}

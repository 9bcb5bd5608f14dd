// The /api/v1/status body's targets, serialized one target at a time and kept until the target changes. At 10,000
// targets the array is ~26 MB of JSON: presenting and serializing all of it on every request held the event loop for
// seconds (bench/fleet.ts), and probes started late meanwhile. A target's JSON is rebuilt when its config, its health
// (a new object with every result), its last results of every check or its certificate view changes, and at least every
// MAX_AGE_MS so that days_left keeps moving.
import type { ScheduledMaintenance } from '../health/maintenance-calendar.js';
import type { CertificateView, TargetView } from '../health/views.js';
import { presentTarget } from './present.js';

const MAX_AGE_MS = 60_000;

interface Entry {
  health: TargetView['health'];
  lastResults: TargetView['lastResults'];
  config: TargetView['config'];
  certificates: CertificateView | undefined;
  scheduled: ScheduledMaintenance | null | undefined;
  builtAt: number;
  json: string;
}

export class TargetJsonCache {
  private entries = new Map<string, Entry>();

  /** The target's TargetStatus JSON as presentTarget() gives it, from the cache while nothing it shows changed. */
  json(view: TargetView, certificates: CertificateView | undefined, now: number, scheduled?: ScheduledMaintenance | null): string {
    const name = view.config.name;
    const entry = this.entries.get(name);
    if (
      entry &&
      now >= entry.builtAt &&
      now - entry.builtAt < MAX_AGE_MS &&
      entry.config === view.config &&
      entry.health === view.health &&
      entry.lastResults === view.lastResults &&
      sameCertificates(entry.certificates, certificates) &&
      sameScheduled(entry.scheduled, scheduled)
    ) {
      return entry.json;
    }
    const json = JSON.stringify(presentTarget(view, now, certificates, scheduled));
    this.entries.set(name, { health: view.health, lastResults: view.lastResults, config: view.config, certificates, scheduled, builtAt: now, json });
    return json;
  }

  /** Forgets targets that are no longer configured. */
  retain(views: readonly TargetView[]): void {
    if (this.entries.size <= views.length) return;
    const names = new Set(views.map((v) => v.config.name));
    for (const name of this.entries.keys()) if (!names.has(name)) this.entries.delete(name);
  }
}

/** The calendar keeps each occurrence object until it changes. */
function sameScheduled(a: ScheduledMaintenance | null | undefined, b: ScheduledMaintenance | null | undefined): boolean {
  if (a === b) return true;
  return !!a && !!b && a.current === b.current && a.next === b.next;
}

/** The chain and checks are kept objects; revocation is rebuilt per call around status objects that are replaced. */
function sameCertificates(a: CertificateView | undefined, b: CertificateView | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.chain !== b.chain || a.checks !== b.checks || a.revocation.length !== b.revocation.length) return false;
  return a.revocation.every((r, i) => r.url === b.revocation[i]!.url && r.status === b.revocation[i]!.status);
}

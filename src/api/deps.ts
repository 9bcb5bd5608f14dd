import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GroupConfig, TargetConfig } from '../config/types.js';
import type { GroupHealth } from '../health/group.js';
import type { TargetHealth } from '../health/types.js';
import type { Store } from '../store/store.js';

export interface TargetView {
  config: TargetConfig;
  health: TargetHealth;
}

export interface GroupView {
  config: GroupConfig;
  health: GroupHealth;
}

/** The live state the API shows; kept by the monitor, read-only here. */
export interface StatusSource {
  targets(): TargetView[];
  target(name: string): TargetView | undefined;
  groups(): GroupView[];
}

export interface Readiness {
  database: { ok: boolean; reason: string | null; pendingResults: number };
  scheduler: { ok: boolean };
}

export interface AppDeps {
  status: StatusSource;
  store: Pick<Store, 'history'>;
  registry: Registry;
  readiness: () => Readiness;
  log: Logger;
  now?: () => number;
}

// Config reload metrics, named as Prometheus names its own (prometheus_config_last_reload_*).
import { Gauge, type Registry } from 'prom-client';

export interface ReloadMetrics {
  /** The config in force was loaded (at start or by a reload) at this time, ms. */
  succeeded(at: number): void;
  /** The last reload was refused; the previous config stays in force. */
  failed(): void;
}

export function createReloadMetrics(registry: Registry): ReloadMetrics {
  const successful = new Gauge({
    name: 'sstpwatch_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful (1) or refused (0).',
    registers: [registry],
  });
  const timestamp = new Gauge({
    name: 'sstpwatch_config_last_reload_success_timestamp_seconds',
    help: 'Timestamp of the last successful configuration load (at start or by a reload), Unix seconds.',
    registers: [registry],
  });
  return {
    succeeded(at) {
      successful.set(1);
      timestamp.set(at / 1000);
    },
    failed() {
      successful.set(0);
    },
  };
}

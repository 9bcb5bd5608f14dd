import { Gauge, type Registry } from 'prom-client';

/**
 * `sstpwatch_build_info{version,node_version} 1`: which sstpwatch and which Node run, for dashboards and for
 * alerts on a fleet of instances left on different versions (the `*_build_info` convention of Prometheus exporters).
 */
export function registerBuildInfo(registry: Registry, version: string, nodeVersion: string = process.version): void {
  const info = new Gauge({
    name: 'sstpwatch_build_info',
    help: 'Always 1; the labels name the sstpwatch version and the Node.js version running it.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  info.set({ version, node_version: nodeVersion }, 1);
}

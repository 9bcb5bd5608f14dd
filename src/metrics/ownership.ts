// Target ownership among the instances of a site on one PostgreSQL (scheduler/ownership-manager.ts). Registered
// only when ownership is shared: a single instance on SQLite exports none of these.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface OwnershipMetrics {
  set(state: { owned: number; peers: number; connected: boolean; housekeeper: boolean }): void;
  rebalanced(): void;
}

export function createOwnershipMetrics(registry: Registry, site: string): OwnershipMetrics {
  const labels = { site };
  const owned = new Gauge({
    name: 'sstpwatch_shards_owned',
    help: 'Virtual shards of its site (of 64) this instance owns and probes the targets of.',
    labelNames: ['site'],
    registers: [registry],
  });
  const peers = new Gauge({
    name: 'sstpwatch_shard_peers',
    help: 'Live instances of the site, this one included, as the last rebalance counted them (0 while the lock session is down).',
    labelNames: ['site'],
    registers: [registry],
  });
  const session = new Gauge({
    name: 'sstpwatch_shard_session_up',
    help: 'Whether the PostgreSQL session that holds the shard locks is open (1); while 0 this instance probes nothing.',
    labelNames: ['site'],
    registers: [registry],
  });
  const housekeeper = new Gauge({
    name: 'sstpwatch_housekeeper',
    help: 'Whether this instance runs housekeeping (rollups, retention) for the database (1); exactly one does.',
    registers: [registry],
  });
  const rebalances = new Counter({
    name: 'sstpwatch_shard_rebalances_total',
    help: 'Rebalance ticks that took or released shards.',
    labelNames: ['site'],
    registers: [registry],
  });
  owned.set(labels, 0);
  session.set(labels, 0);
  peers.set(labels, 0);
  housekeeper.set(0);
  rebalances.inc(labels, 0);
  return {
    set(state) {
      owned.set(labels, state.owned);
      peers.set(labels, state.connected ? state.peers : 0);
      session.set(labels, state.connected ? 1 : 0);
      housekeeper.set(state.housekeeper && state.connected ? 1 : 0);
    },
    rebalanced() {
      rebalances.inc(labels);
    },
  };
}

// `demo: true`: simulated RRAS servers on loopback, probed like real ones, so a newcomer sees live status,
// failures and certificate warnings within seconds of `npm start`.
import type { GroupConfig, ProbeSettings, TargetConfig, TargetRole } from '../config/types.js';
import { createTestCa, issueLeaf } from './certs.js';
import { startFakeRras, type FakeRras, type RrasBehaviorInput } from './fake-rras.js';

export const DEMO_GROUP = 'demo';
export const DEMO_HOSTNAME = 'vpn.demo.sstpwatch.test';

const DAY_MS = 86_400_000;
/** How long each demo certificate is valid, as a public CA issues them. */
const CERTIFICATE_DAYS = 365;

export interface Demo {
  groups: GroupConfig[];
  targets: TargetConfig[];
  servers: Map<string, FakeRras>;
  close(): Promise<void>;
}

interface DemoServer {
  name: string;
  role: TargetRole;
  behavior: RrasBehaviorInput;
  /** Plain HTTP: TLS offloaded at the load balancer. */
  offload?: boolean;
  /**
   * A certificate of its own expiring in this many days (one server whose renewal was missed). Without it, the
   * server presents the group's certificate: the servers behind one public name share one, as in a real fleet.
   */
  certificateDays?: number;
}

const DEMO_SERVERS: DemoServer[] = [
  { name: 'demo-rras-healthy', role: 'server', behavior: 401 },
  { name: 'demo-rras-sstp-stopped', role: 'server', behavior: 404 },
  { name: 'demo-rras-slow', role: 'server', behavior: { mode: 'answer', status: 401, delayMs: 1200 } },
  { name: 'demo-rras-cert-expiring', role: 'server', behavior: 401, certificateDays: 10 },
  { name: 'demo-rras-offload', role: 'server', behavior: 401, offload: true },
  { name: 'demo-vip', role: 'vip', behavior: 401 },
];

/** Starts the simulated servers and returns the group and targets that probe them. */
export async function startDemo(defaults: ProbeSettings): Promise<Demo> {
  const ca = await createTestCa({ commonName: 'sstpwatch demo CA' });
  // Each certificate valid for a year, so the one expiring in ten days was issued 355 days ago: clearly older than
  // the group's (issued a day ago), which the group's findings take as the renewal the lagging server missed.
  const issue = (daysLeft: number) =>
    issueLeaf(ca, {
      commonName: DEMO_HOSTNAME,
      dnsNames: [DEMO_HOSTNAME],
      notBefore: new Date(Date.now() - (CERTIFICATE_DAYS - daysLeft) * DAY_MS),
      notAfter: new Date(Date.now() + daysLeft * DAY_MS),
    });
  const shared = await issue(CERTIFICATE_DAYS - 1);
  const servers = new Map<string, FakeRras>();
  const targets: TargetConfig[] = [];
  try {
    for (const spec of DEMO_SERVERS) {
      const leaf = spec.offload ? null : spec.certificateDays === undefined ? shared : await issue(spec.certificateDays);
      const server = await startFakeRras({
        behavior: spec.behavior,
        tls: leaf ? { cert: leaf.chainPem, key: leaf.keyPem } : null,
      });
      servers.set(spec.name, server);
      targets.push({
        name: spec.name,
        group: DEMO_GROUP,
        role: spec.role,
        url: server.url,
        hostname: DEMO_HOSTNAME,
        offload: spec.offload ?? false,
        settings: { ...defaults, tls: { ...defaults.tls, caFile: null, ca: ca.certPem } },
      });
    }
  } catch (err) {
    await Promise.allSettled([...servers.values()].map((s) => s.close()));
    throw err;
  }
  const group: GroupConfig = {
    name: DEMO_GROUP,
    hostname: DEMO_HOSTNAME,
    servers: targets.filter((t) => t.role === 'server').map((t) => t.name),
    vip: targets.find((t) => t.role === 'vip')?.name ?? null,
    // The hash the offloaded server was given: the load balancer's (the group's) certificate, as it should be.
    offloadCertSha256: shared.sha256,
  };
  return {
    groups: [group],
    targets,
    servers,
    async close() {
      await Promise.allSettled([...servers.values()].map((s) => s.close()));
    },
  };
}

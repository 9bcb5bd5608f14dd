// Per-probe cost of the chain capture: a full HEAD probe against a loopback fake presenting leaf + intermediate,
// and the socket calls it relies on. Run: npx tsx bench/chain.ts (numbers depend on the machine's load).
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { createTestCa, issueIntermediate, issueLeaf } from '../src/demo/certs.js';
import { startFakeRras, SSTP_PATH } from '../src/demo/fake-rras.js';
import { createHeadProber } from '../src/probe/head.js';

const ca = await createTestCa();
const intermediate = await issueIntermediate(ca);
const leaf = await issueLeaf(intermediate, { commonName: 'vpn.example.test', crlUrls: ['http://127.0.0.1:9/issuing.crl'] });
const server = await startFakeRras({ tls: { cert: leaf.chainPem, key: leaf.keyPem } });

// The two ways to read the peer certificate, on one open connection.
const socket = tls.connect({ host: '127.0.0.1', port: server.port, secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, ca.certPem] }), servername: 'vpn.example.test' });
await new Promise((resolve) => socket.once('secureConnect', resolve));
const perCall = (n: number, f: () => unknown): string => {
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return `${(((performance.now() - t) / n) * 1000).toFixed(1)} us`;
};
console.log(`getPeerCertificate():     ${perCall(2000, () => socket.getPeerCertificate())}`);
console.log(`getPeerCertificate(true): ${perCall(500, () => socket.getPeerCertificate(true))}  (read once per leaf, then cached)`);
socket.destroy();

const probe = createHeadProber();
const target = {
  name: 'bench',
  url: server.url,
  hostname: 'vpn.example.test',
  offload: false,
  settings: { intervalMs: 30_000, schedule: null, timeoutMs: 5000, rise: 2, fall: 3, expectStatus: [401], path: SSTP_PATH, tls: { verify: true, caFile: null, ca: ca.certPem }, check: 'head' as const, sstpIntervalMs: 300_000 },
};
for (let i = 0; i < 200; i++) await probe(target);
const N = 2000;
const started = performance.now();
for (let i = 0; i < N; i++) {
  const result = await probe(target);
  if (!result.chainChecks?.chainTrusted) throw new Error(`unexpected result: ${result.message}`);
}
console.log(`HEAD probe with chain capture and checks: ${((performance.now() - started) / N).toFixed(2)} ms per probe (${N} sequential)`);
await server.close();

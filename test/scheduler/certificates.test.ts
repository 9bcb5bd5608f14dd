import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GroupConfig, TargetConfig } from '../../src/config/types.js';
import type { IssuedCertificate } from '../../src/demo/certs.js';
import { offloadInstruction } from '../../src/health/certificates.js';
import { createCertificateMetrics } from '../../src/metrics/certificates.js';
import { createHeadProber } from '../../src/probe/head.js';
import { checkRevocation, normalizeSerial, type RevocationQuery } from '../../src/probe/revocation.js';
import { CertificateMonitor } from '../../src/scheduler/certificates.js';
import { closeAllRras, probeTarget, startRras } from '../fixtures/fake-rras.js';
import { createTestPki, type TestPki } from '../fixtures/pki.js';

const DAY = 86_400_000;
const log = pino({ level: 'silent' });
const probe = createHeadProber();

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(async () => {
  await pki?.close();
});
afterEach(async () => {
  await closeAllRras();
  await Promise.all([pki.publishCrl(), pki.publishRootCrl()]);
});

describe('checkRevocation: fetching a CRL from a loopback server', () => {
  const crlQuery = (url: string, serials: string[], issuerPem: string | null = pki.intermediate.certPem): RevocationQuery => ({
    url,
    kind: 'crl',
    subjects: serials.map((serialNumber) => ({ serialNumber, der: Buffer.alloc(0) })),
    issuerDer: issuerPem === null ? null : new X509Certificate(issuerPem).raw,
  });

  it('reads a served CRL: reachable, signed by the issuing CA, its nextUpdate, and no listed serial', async () => {
    const leaf = await pki.issue();
    const nextUpdate = new Date(Date.now() + 3 * DAY);
    await pki.publishCrl({ nextUpdate });
    const status = await checkRevocation(crlQuery(pki.server.base + pki.crlPath, [leaf.cert.serialNumber]), { timeoutMs: 5000 });
    expect(status).toMatchObject({ reachable: true, error: null, httpStatus: 200, revokedSerials: [], signature: 'valid', delta: null });
    expect(status.nextUpdate).toBe(Math.floor(nextUpdate.getTime() / 1000) * 1000);
  });

  it('finds the serial in a CRL that revokes it (DER and PEM)', async () => {
    const leaf = await pki.issue();
    await pki.publishCrl({ revoked: [leaf.cert] });
    const der = await checkRevocation(crlQuery(pki.server.base + pki.crlPath, [leaf.cert.serialNumber.toUpperCase()]), { timeoutMs: 5000 });
    expect(der.revokedSerials).toEqual([normalizeSerial(leaf.cert.serialNumber)]);
    await pki.publishRootCrl({ revoked: [pki.intermediate.cert] });
    const pem = await checkRevocation(crlQuery(pki.server.base + pki.rootCrlPath, [pki.intermediate.cert.serialNumber], pki.root.certPem), { timeoutMs: 5000 });
    expect(pem.revokedSerials).toHaveLength(1);
    expect(pem.signature).toBe('valid');
  });

  it('leaves the signature unchecked, and says why, when the chain does not hold the issuer', async () => {
    const status = await checkRevocation(crlQuery(pki.server.base + pki.crlPath, ['01'], null), { timeoutMs: 5000 });
    expect(status).toMatchObject({ reachable: true, signature: 'unverified', signatureProblem: 'the issuing CA certificate is not in the presented chain' });
  });

  it.each([
    ['a 404', { status: 404 }, /HTTP 404 instead of the CRL/],
    ['something that is not a CRL', { body: 'hello' }, /not a CRL/],
    ['no answer in time', 'hang' as const, /no answer within 300 ms/],
  ])('reports %s as unreachable', async (_what, publication, error) => {
    pki.server.publish('/broken.crl', publication);
    const status = await checkRevocation(crlQuery(`${pki.server.base}/broken.crl`, ['01']), { timeoutMs: 300 });
    expect(status.reachable).toBe(false);
    expect(status.error).toMatch(error);
  });

  it('reports a refused connection and a non-http URL as unreachable', async () => {
    const refused = await checkRevocation(crlQuery('http://127.0.0.1:9/x.crl', []), { timeoutMs: 2000 });
    expect(refused).toMatchObject({ reachable: false, error: 'connection refused' });
    expect(await checkRevocation(crlQuery('ldap:///CN=x', []), { timeoutMs: 2000 })).toMatchObject({ reachable: false, error: 'not an http(s) URL' });
  });

  it('reports an OCSP responder answering an HTTP error as unreachable', async () => {
    pki.server.publish(pki.ocspPath, { status: 503 });
    const leaf = await pki.issue();
    const status = await checkRevocation(
      { url: pki.server.base + pki.ocspPath, kind: 'ocsp', subjects: [{ serialNumber: leaf.cert.serialNumber, der: Buffer.from(leaf.cert.rawData) }], issuerDer: Buffer.from(pki.intermediate.cert.rawData) },
      { timeoutMs: 2000 },
    );
    expect(status).toMatchObject({ reachable: false, error: 'the responder answered HTTP 503' });
  });

  it('refuses a response over the size limit', async () => {
    pki.server.publish('/huge.crl', { body: Buffer.alloc(4096) });
    const status = await checkRevocation(crlQuery(`${pki.server.base}/huge.crl`, []), { timeoutMs: 2000, maxBytes: 1024 });
    expect(status).toMatchObject({ reachable: false });
    expect(status.error).toMatch(/larger than/);
  });

  it('matches serial numbers whatever their leading zeros and case', () => {
    expect(normalizeSerial('00ab:CD')).toBe('ABCD');
  });
});

describe('CertificateMonitor', () => {
  const settings = probeTarget({ url: 'https://127.0.0.1' }).settings;
  const target = (name: string, url: string, role: 'server' | 'vip' = 'server'): TargetConfig => ({
    name,
    group: 'vpn-eu',
    role,
    url,
    hostname: 'vpn.example.test',
    offload: url.startsWith('http:'),
    settings: { ...settings, tls: { ...settings.tls, ca: pki.root.certPem } },
  });

  async function setup(certs: (IssuedCertificate | null)[], opts: { vip?: IssuedCertificate; offloadCertSha256?: string } = {}) {
    const servers = await Promise.all(certs.map((c) => startRras(c)));
    const targets = servers.map((s, i) => target(`rras-eu-${i + 1}`, s.url));
    if (opts.vip) targets.push(target('vpn-eu-vip', (await startRras(opts.vip)).url, 'vip'));
    const group: GroupConfig = {
      name: 'vpn-eu',
      hostname: 'vpn.example.test',
      servers: targets.filter((t) => t.role === 'server').map((t) => t.name),
      vip: opts.vip ? 'vpn-eu-vip' : null,
      offloadCertSha256: opts.offloadCertSha256 ?? null,
    };
    const registry = new Registry();
    const monitor = new CertificateMonitor({ metrics: createCertificateMetrics(registry), log, revocationTimeoutMs: 2000 }, targets, [group]);
    const round = async () => {
      for (const t of targets) monitor.observe(t, await probe(t));
    };
    return { monitor, registry, targets, round };
  }

  async function metric(registry: Registry, name: string): Promise<string[]> {
    return (await registry.metrics()).split('\n').filter((line) => line.startsWith(`${name}{`));
  }

  it('publishes the chain checks and fetches the CRLs of leaf and intermediate: all good', async () => {
    const leaf = await pki.issue();
    const { monitor, registry, round } = await setup([leaf, leaf]);
    const hitsBefore = pki.server.hits(pki.crlPath);
    await round();
    await monitor.refreshRevocation();
    expect(monitor.group('vpn-eu')).toEqual({ consistent: { servers: true, vip: null, offloadHash: null }, findings: [] });
    expect(await metric(registry, 'sstp_cert_valid')).toEqual(
      expect.arrayContaining([
        'sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="eku"} 1',
        'sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="name"} 1',
        'sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="chain"} 1',
        'sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="revoked"} 1',
      ]),
    );
    expect(await metric(registry, 'sstp_group_cert_consistent')).toEqual(['sstp_group_cert_consistent{group="vpn-eu",check="servers"} 1']);
    const reachable = await metric(registry, 'sstp_crl_reachable');
    expect(reachable.filter((l) => l.includes('rras-eu-1'))).toEqual([
      `sstp_crl_reachable{target="rras-eu-1",group="vpn-eu",role="server",url="${pki.server.base}${pki.crlPath}",kind="crl"} 1`,
      `sstp_crl_reachable{target="rras-eu-1",group="vpn-eu",role="server",url="${pki.server.base}${pki.rootCrlPath}",kind="crl"} 1`,
    ]);
    expect(await metric(registry, 'sstp_crl_next_update_timestamp_seconds')).toHaveLength(4);
    expect(await metric(registry, 'sstp_revocation_signature_valid')).toHaveLength(4);
    expect((await metric(registry, 'sstp_revocation_signature_valid')).every((l) => l.endsWith(' 1'))).toBe(true);
    expect((await metric(registry, 'sstp_cert_chain_earliest_expiry_timestamp_seconds'))[0]).toMatch(/position="leaf"/);
    expect(monitor.target('rras-eu-1')?.revocation.map((r) => [r.position, r.kind, r.status?.reachable])).toEqual([
      ['leaf', 'crl', true],
      ['intermediate', 'crl', true],
    ]);
    // Each URL was fetched once, not once per target.
    expect(pki.server.hits(pki.crlPath) - hitsBefore).toBe(1);
  });

  it('reports a CRL that stops being served, one that expired, and a revoked leaf', async () => {
    const leaf = await pki.issue();
    const { monitor, registry, round } = await setup([leaf]);
    await round();
    await monitor.refreshRevocation();
    expect(monitor.group('vpn-eu')!.findings).toEqual([]);

    pki.server.publish(pki.crlPath, { status: 404 });
    await monitor.refreshRevocation({ force: true });
    expect(monitor.group('vpn-eu')!.findings.map((f) => [f.code, f.severity])).toEqual([['crl_unreachable', 'critical']]);
    expect(await metric(registry, 'sstp_crl_reachable')).toContain(
      `sstp_crl_reachable{target="rras-eu-1",group="vpn-eu",role="server",url="${pki.server.base}${pki.crlPath}",kind="crl"} 0`,
    );
    expect(await metric(registry, 'sstp_cert_valid')).not.toContain(expect.stringContaining('check="revoked"'));

    await pki.publishCrl({ thisUpdate: new Date(Date.now() - 10 * DAY), nextUpdate: new Date(Date.now() - DAY) });
    await monitor.refreshRevocation({ force: true });
    expect(monitor.group('vpn-eu')!.findings.map((f) => f.code)).toEqual(['crl_expired']);

    await pki.publishCrl({ revoked: [leaf.cert] });
    await monitor.refreshRevocation({ force: true });
    expect(monitor.group('vpn-eu')!.findings.map((f) => f.code)).toEqual(['certificate_revoked']);
    expect(await metric(registry, 'sstp_cert_valid')).toContain('sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="revoked"} 0');
  });

  it('reports a server presenting an older certificate, and the VIP presenting another one', async () => {
    const [old, renewed, lb] = await Promise.all([
      pki.issue({ notBefore: new Date(Date.now() - 30 * DAY) }),
      pki.issue(),
      pki.issue({ notBefore: new Date(Date.now() - 40 * DAY) }),
    ]);
    const { monitor, registry, round } = await setup([renewed, old], { vip: lb });
    await round();
    const report = monitor.group('vpn-eu')!;
    expect(report.consistent).toEqual({ servers: false, vip: false, offloadHash: null });
    expect(report.findings.map((f) => [f.code, f.targets])).toEqual([
      ['servers_certificate_mismatch', ['rras-eu-2']],
      ['vip_certificate_mismatch', ['vpn-eu-vip', 'rras-eu-1', 'rras-eu-2']],
    ]);
    expect(report.findings[0]!.fix).toContain(`Bind the new certificate (SHA-256 ${renewed.sha256}) on rras-eu-2`);
    expect(await metric(registry, 'sstp_group_cert_consistent')).toEqual([
      'sstp_group_cert_consistent{group="vpn-eu",check="servers"} 0',
      'sstp_group_cert_consistent{group="vpn-eu",check="vip"} 0',
    ]);
  });

  it('checks the VIP leaf of an offloaded group against offload_cert_sha256, good and bad', async () => {
    const lb = await pki.issue();
    const good = await setup([null, null], { vip: lb, offloadCertSha256: lb.sha256 });
    await good.round();
    expect(good.monitor.group('vpn-eu')).toEqual({ consistent: { servers: null, vip: null, offloadHash: true }, findings: [] });
    expect(await metric(good.registry, 'sstp_group_cert_consistent')).toEqual(['sstp_group_cert_consistent{group="vpn-eu",check="offload_hash"} 1']);

    const bad = await setup([null, null], { vip: lb, offloadCertSha256: 'AB'.repeat(32) });
    await bad.round();
    const [finding] = bad.monitor.group('vpn-eu')!.findings;
    expect(finding).toMatchObject({ code: 'offload_hash_mismatch', targets: ['vpn-eu-vip', 'rras-eu-1', 'rras-eu-2'] });
    expect(finding!.fix).toBe(`On rras-eu-1, rras-eu-2: ${offloadInstruction(lb.sha256)}. Then set offload_cert_sha256: "${lb.sha256}" on group vpn-eu.`);
    expect(await metric(bad.registry, 'sstp_group_cert_consistent')).toEqual(['sstp_group_cert_consistent{group="vpn-eu",check="offload_hash"} 0']);
  });

  it('reports a leaf without the Server Authentication EKU and one with the wrong name', async () => {
    const [noEku, wrongName] = await Promise.all([pki.issue({ omitEku: true }), pki.issue({ commonName: 'other.example.test' })]);
    const { monitor, registry, round } = await setup([noEku, wrongName]);
    await round();
    const codes = monitor.group('vpn-eu')!.findings.map((f) => [f.code, f.targets]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ['no_server_auth_eku', ['rras-eu-1']],
        ['name_mismatch', ['rras-eu-2']],
      ]),
    );
    expect(await metric(registry, 'sstp_cert_valid')).toEqual(
      expect.arrayContaining([
        'sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="eku"} 0',
        'sstp_cert_valid{target="rras-eu-2",group="vpn-eu",role="server",check="name"} 0',
      ]),
    );
  });

  it('forgets the series of a target removed from the config', async () => {
    const leaf = await pki.issue();
    const { monitor, registry, round, targets } = await setup([leaf, leaf]);
    await round();
    await monitor.refreshRevocation();
    monitor.setConfig([targets[0]!], [{ name: 'vpn-eu', hostname: 'vpn.example.test', servers: ['rras-eu-1'], vip: null }]);
    const text = await registry.metrics();
    expect(text).not.toContain('rras-eu-2');
    expect(text).toContain('rras-eu-1');
  });
});

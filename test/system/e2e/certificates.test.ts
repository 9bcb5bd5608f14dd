// The real service (child process) watching a group whose servers disagree on the certificate, behind a VIP
// whose hash differs from offload_cert_sha256, with CRLs on a loopback server: findings in /api/v1/status,
// chains per target, and the certificate metrics.
import { offloadInstruction } from '../../../src/health/certificates.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IssuedCertificate } from '../../../src/demo/certs.js';
import type { FakeRras } from '../../../src/demo/fake-rras.js';
import { VPN_HOSTNAME } from '../../fixtures/certs.js';
import { closeAllRras, startRras } from '../../fixtures/fake-rras.js';
import { createTestPki, type TestPki } from '../../fixtures/pki.js';
import { freePort, startService, waitFor, type RunningService } from '../../fixtures/service.js';

const DAY = 86_400_000;

interface FindingJson {
  code: string;
  severity: string;
  targets: string[];
  message: string;
  fix: string;
}
interface StatusJson {
  groups: { name: string; certificate_consistency?: Record<string, boolean | null>; findings?: FindingJson[] }[];
  targets: { name: string; certificate?: { sha256: string } | null; certificate_chain?: { position: string; sha256: string; ekus: string[] | null }[]; certificate_checks?: Record<string, unknown> | null; revocation?: { url: string; reachable: boolean | null; revoked: boolean | null }[] }[];
}

describe('certificate intelligence in the running service', () => {
  let dir: string;
  let pki: TestPki;
  let service: RunningService;
  let renewed: IssuedCertificate;
  let lb: IssuedCertificate;
  const servers: FakeRras[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sstpwatch-certs-e2e-'));
    pki = await createTestPki();
    const old = await pki.issue({ notBefore: new Date(Date.now() - 30 * DAY) });
    renewed = await pki.issue();
    lb = await pki.issue({ notBefore: new Date(Date.now() - 2 * DAY) });
    servers.push(await startRras(renewed), await startRras(old), await startRras(null), await startRras(lb));
    writeFileSync(join(dir, 'ca.pem'), pki.root.certPem);
    const port = await freePort();
    writeFileSync(
      join(dir, 'sstpwatch.yml'),
      [
        `listen: "127.0.0.1:${port}"`,
        'database: ./state/sstpwatch.db',
        'defaults: { interval: 1s, timeout: 800ms, rise: 1, fall: 2, tls: { ca_file: ./ca.pem } }',
        'groups:',
        '  - name: vpn-eu',
        `    hostname: ${VPN_HOSTNAME}`,
        `    offload_cert_sha256: "${'ab:'.repeat(31)}ab"`,
        `    vip: "${servers[3]!.url}"`,
        '    servers:',
        `      - { name: rras-eu-1, url: "${servers[0]!.url}" }`,
        `      - { name: rras-eu-2, url: "${servers[1]!.url}" }`,
        `      - { name: rras-eu-3, url: "${servers[2]!.url}", offload: true }`,
      ].join('\n'),
    );
    service = await startService(join(dir, 'sstpwatch.yml'), port);
  });

  afterAll(async () => {
    await service?.stop();
    await closeAllRras();
    await pki?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (): Promise<StatusJson> => (await service.get('/api/v1/status')).json<StatusJson>();
  const findings = async (): Promise<FindingJson[]> => (await status()).groups[0]?.findings ?? [];

  it('reports the lagging server, the VIP mismatch and the offload hash mismatch, with fixes', async () => {
    await waitFor('group findings', async () => (await findings()).length >= 3);
    const list = await findings();
    expect(list.map((f) => f.code).sort()).toEqual(['offload_hash_mismatch', 'servers_certificate_mismatch', 'vip_certificate_mismatch']);
    const byCode = new Map(list.map((f) => [f.code, f]));
    expect(byCode.get('servers_certificate_mismatch')).toMatchObject({ severity: 'critical', targets: ['rras-eu-2'] });
    expect(byCode.get('servers_certificate_mismatch')!.fix).toContain(`on rras-eu-2`);
    expect(byCode.get('offload_hash_mismatch')!.fix).toBe(
      `On rras-eu-3: ${offloadInstruction(lb.sha256)}. Then set offload_cert_sha256: "${lb.sha256}" on group vpn-eu.`,
    );
    expect((await status()).groups[0]?.certificate_consistency).toEqual({ servers: false, vip: false, offload_hash: false });
  });

  it('shows each HTTPS target\'s chain, checks and revocation sources on its own route; the offloaded one has none; the status list carries none of them', async () => {
    const target = async (name: string) => (await service.get(`/api/v1/targets/${name}`)).json<StatusJson['targets'][number]>();
    await waitFor('CRLs fetched', async () => {
      const t = await target('rras-eu-1');
      return (t.revocation ?? []).length > 0 && t.revocation!.every((r) => r.reachable !== null);
    });
    const one = await target('rras-eu-1');
    expect(one.certificate_chain?.map((c) => c.position)).toEqual(['leaf', 'intermediate', 'root']);
    expect(one.certificate_chain?.[0]).toMatchObject({ sha256: renewed.sha256, ekus: ['serverAuth'] });
    expect(one.certificate_checks).toMatchObject({ server_auth_eku: true, name_matches_hostname: true, chain_trusted: true, revoked: false });
    expect(one.revocation?.map((r) => [r.url.replace(pki.server.base, ''), r.reachable, r.revoked])).toEqual([
      ['/issuing.crl', true, false],
      ['/root.crl', true, false],
    ]);
    expect((await target('rras-eu-3')).certificate_chain).toBeUndefined();

    const listed = (await status()).targets.find((t) => t.name === 'rras-eu-1')!;
    expect(listed.certificate).toMatchObject({ sha256: renewed.sha256 });
    expect([listed.certificate_chain, listed.certificate_checks, listed.revocation]).toEqual([undefined, undefined, undefined]);
  });

  it('exports the certificate metrics', async () => {
    const metrics = (await service.get('/metrics')).body;
    expect(metrics).toContain('sstp_group_cert_consistent{group="vpn-eu",check="servers"} 0');
    expect(metrics).toContain('sstp_group_cert_consistent{group="vpn-eu",check="offload_hash"} 0');
    expect(metrics).toContain('sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="chain"} 1');
    expect(metrics).toContain('sstp_cert_valid{target="rras-eu-1",group="vpn-eu",role="server",check="revoked"} 1');
    expect(metrics).toMatch(/sstp_cert_chain_earliest_expiry_timestamp_seconds\{target="vpn-eu-vip",group="vpn-eu",role="vip",position="leaf"\} \d+/);
    expect(metrics).toContain(`sstp_crl_reachable{target="rras-eu-1",group="vpn-eu",role="server",url="${pki.server.base}/issuing.crl",kind="crl"} 1`);
    expect(metrics).toMatch(new RegExp(`sstp_crl_next_update_timestamp_seconds\\{target="rras-eu-1",group="vpn-eu",role="server",url="${pki.server.base}/issuing.crl"\\} \\d+`));
  });
});

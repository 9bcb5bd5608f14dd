import { describe, expect, it } from 'vitest';
import type { CertificateView, TargetView } from '../../src/health/views.js';
import { presentTarget } from '../../src/api/present.js';
import { TargetJsonCache } from '../../src/api/status-cache.js';
import type { TargetConfig } from '../../src/config/types.js';
import type { RevocationStatus } from '../../src/probe/revocation.js';
import { applyResult, initialHealth } from '../../src/health/state.js';
import type { CertificateDetails, ProbeResult } from '../../src/probe/types.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 10, 26, 21, 0, 0);

const config: TargetConfig = {
  name: 'rras-eu-1',
  group: 'vpn-eu',
  role: 'server',
  url: 'https://rras-eu-1.example.test',
  hostname: 'vpn.example.test',
  offload: false,
  settings: {
    intervalMs: 30_000, schedule: null, timeoutMs: 5_000, rise: 1, fall: 2, expectStatus: [401],
    path: '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/', tls: { verify: true, caFile: null, ca: null },
  } as TargetConfig['settings'],
};

/** days_left is rounded to 0.01 days: this expiry shows 0.01 at T0 and 0 one second later. */
const NOT_AFTER = T0 + 0.005 * DAY_MS + 500;

function result(at: number, ok: boolean): ProbeResult {
  return {
    at, ok, errorKind: ok ? 'ok' : 'timeout', message: ok ? 'HTTP/1.1 401 Unauthorized' : 'no answer within 5s',
    statusCode: ok ? 401 : null, httpVersion: ok ? '1.1' : null, durationMs: 4.2, phasesMs: { dns: 0, connect: 0.3 },
    tlsVersion: 'TLSv1.3', certificateSha256: 'AB'.repeat(32),
    certificate: {
      subject: 'CN=vpn.example.test', issuer: 'CN=Test CA', san: ['vpn.example.test'], notBefore: T0 - DAY_MS,
      notAfter: NOT_AFTER, sha256: 'AB'.repeat(32), keyType: 'EC', keyBits: 256,
    },
  };
}

function view(at: number, ok = true, previous?: TargetView): TargetView {
  const health = applyResult(config.name, previous?.health ?? initialHealth(), result(at, ok), config.settings).health;
  return { config, health, lastResults: {} };
}

const leaf = {
  subject: 'CN=vpn.example.test', issuer: 'CN=Test CA', san: ['vpn.example.test'], notBefore: T0 - DAY_MS, notAfter: NOT_AFTER,
  sha256: 'AB'.repeat(32), keyType: 'EC', keyBits: 256, serialNumber: '01', ekus: ['1.3.6.1.5.5.7.3.1'], isCa: false,
  crlUrls: ['http://127.0.0.1:9/ca.crl'], ocspUrls: [],
} as unknown as CertificateDetails;

function revocationStatus(reachable: boolean): RevocationStatus {
  return { url: 'http://127.0.0.1:9/ca.crl', kind: 'crl', checkedAt: T0, reachable, error: reachable ? null : 'refused', httpStatus: null, thisUpdate: null, nextUpdate: null, revokedSerials: [], signature: null, signatureProblem: null, delta: null, ocspStatus: null, revokedAt: null };
}

function certificates(chain: CertificateDetails[], status: RevocationStatus | null): CertificateView {
  return {
    chain,
    checks: null,
    revocation: [{ key: 'http://127.0.0.1:9/ca.crl', url: 'http://127.0.0.1:9/ca.crl', kind: 'crl', position: 'leaf', subject: leaf.subject, serialNumber: '01', status }],
  } as CertificateView;
}

const fresh = (v: TargetView, now: number, c?: CertificateView) => JSON.stringify(presentTarget(v, now, c));

describe('the status body cache', () => {
  it('gives exactly what presentTarget gives, and the same string again while nothing changed', () => {
    const cache = new TargetJsonCache();
    const v = view(T0);
    const first = cache.json(v, undefined, T0);
    expect(JSON.parse(first)).toEqual(presentTarget(v, T0));
    expect(cache.json(v, undefined, T0 + 1000)).toBe(first); // cached: days_left as at T0
    expect(JSON.parse(first).certificate.days_left).toBe(0.01);
  });

  it('rebuilds a target once its health changes (every result gives a new health)', () => {
    const cache = new TargetJsonCache();
    const v1 = view(T0);
    cache.json(v1, undefined, T0);
    const v2 = view(T0 + 30_000, false, v1);
    const json = cache.json(v2, undefined, T0 + 30_000);
    expect(json).toBe(fresh(v2, T0 + 30_000));
    expect(JSON.parse(json).last_result.error_kind).toBe('timeout');
  });

  it('rebuilds after a minute even when nothing changed, so days_left moves', () => {
    const cache = new TargetJsonCache();
    const v = view(T0);
    cache.json(v, undefined, T0);
    const later = T0 + 60_000;
    expect(cache.json(v, undefined, later)).toBe(fresh(v, later));
    expect(JSON.parse(cache.json(v, undefined, later)).certificate.days_left).toBe(0);
  });

  it('rebuilds when the chain or a revocation status changes, not for a new view object around the same ones', () => {
    const cache = new TargetJsonCache();
    const v = view(T0);
    const chain = [leaf];
    const status = revocationStatus(true);
    const first = cache.json(v, certificates(chain, status), T0);
    expect(cache.json(v, certificates(chain, status), T0 + 1000)).toBe(first);
    const refetched = certificates(chain, revocationStatus(false));
    expect(cache.json(v, refetched, T0 + 1000)).toBe(fresh(v, T0 + 1000, refetched));
    expect(JSON.parse(cache.json(v, refetched, T0 + 1000)).revocation[0].reachable).toBe(false);
    const newChain = certificates([{ ...leaf }], status);
    expect(cache.json(v, newChain, T0 + 2000)).toBe(fresh(v, T0 + 2000, newChain));
    expect(cache.json(v, undefined, T0 + 2000)).toBe(fresh(v, T0 + 2000));
  });

  it('forgets targets no longer listed', () => {
    const cache = new TargetJsonCache();
    const v = view(T0);
    cache.json(v, undefined, T0);
    cache.retain([]);
    expect(cache.json(v, undefined, T0 + 1000)).toBe(fresh(v, T0 + 1000)); // rebuilt: days_left 0, not 0.01
    expect(JSON.parse(cache.json(v, undefined, T0 + 1000)).certificate.days_left).toBe(0);
  });
});

import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestCa, issueLeaf } from '../../src/demo/certs.js';
import { certificateInfo, daysLeft, readableName, subjectAltNames } from '../../src/probe/certificate.js';

describe('certificateInfo', () => {
  it('reads a leaf from PEM, DER or a peer certificate object alike', async () => {
    const ca = await createTestCa({ commonName: 'Contoso Issuing CA', organization: 'Contoso' });
    const leaf = await issueLeaf(ca, {
      commonName: 'vpn.contoso.com',
      organization: 'Contoso',
      dnsNames: ['vpn.contoso.com', '*.vpn.contoso.com'],
      ipAddresses: ['192.0.2.10'],
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-01-01T00:00:00Z'),
    });
    const x509 = new X509Certificate(leaf.certPem);
    const expected = {
      subject: 'CN=vpn.contoso.com, O=Contoso',
      issuer: 'CN=Contoso Issuing CA, O=Contoso',
      san: ['vpn.contoso.com', '*.vpn.contoso.com', '192.0.2.10'],
      notBefore: Date.parse('2026-01-01T00:00:00Z'),
      notAfter: Date.parse('2027-01-01T00:00:00Z'),
      sha256: leaf.sha256,
      keyType: 'EC',
      keyBits: 256,
    };
    expect(certificateInfo(x509)).toEqual(expected);
    expect(certificateInfo(x509.raw)).toEqual(expected);
    expect(certificateInfo({ raw: x509.raw })).toEqual(expected);
    expect(expected.sha256).toMatch(/^[0-9A-F]{64}$/);
  });

  it('reports RSA keys with their modulus length', async () => {
    const ca = await createTestCa();
    const leaf = await issueLeaf(ca, { commonName: 'rsa.example.test', keyType: 'rsa' });
    expect(certificateInfo(new X509Certificate(leaf.certPem))).toMatchObject({ keyType: 'RSA', keyBits: 2048 });
  });
});

describe('certificate helpers', () => {
  it('turns Node names around into the order people read', () => {
    expect(readableName('C=US\nO=Contoso\\, Ltd\nCN=vpn.contoso.com')).toBe('CN=vpn.contoso.com, O=Contoso\\, Ltd, C=US');
    expect(readableName('')).toBe('');
  });

  it('keeps DNS names and IP addresses of the SAN, unquoting Node\'s quoted values', () => {
    expect(subjectAltNames('DNS:a.example, IP Address:10.0.0.1, email:x@example, DNS:"b,c.example", URI:http://x')).toEqual([
      'a.example',
      '10.0.0.1',
      'b,c.example',
    ]);
    expect(subjectAltNames(undefined)).toEqual([]);
  });

  it.each([
    [10 * 86_400_000 + 1, 10],
    [36 * 3_600_000, 1],
    [1000, 0],
    [-1000, -1],
    [-2 * 86_400_000, -2],
  ])('counts whole days left: %i ms -> %i', (ms, days) => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(daysLeft(now + ms, now)).toBe(days);
  });
});

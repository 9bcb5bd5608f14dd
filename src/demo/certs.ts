// Test and demo certificates: a CA, intermediates, leaves, self-signed certificates.
// Runtime code (the demo mode uses it) as well as test fixtures. ECDSA P-256 by default: key generation
// is instant, where RSA-2048 takes a noticeable fraction of a second (RSA key pairs are therefore cached).
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyType = 'ec' | 'rsa';

const DAY_MS = 86_400_000;

/** A certificate with its private key. */
export interface KeyedCertificate {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  certPem: string;
  /** PKCS#8 PEM, as `tls.createSecureContext({ key })` takes it. */
  keyPem: string;
}

/** A certificate authority that can sign: a root or an intermediate. */
export interface CertificateAuthority extends KeyedCertificate {
  /** The CA's subject as @peculiar/x509 prints it (ASN.1 order): `O=sstpwatch, CN=sstpwatch test CA`. */
  name: string;
  /**
   * PEM of the CA certificates a server sends after its leaf: this CA and the intermediates above it,
   * never the root (empty for a root).
   */
  chainPem: string;
}

export interface IssuedCertificate extends KeyedCertificate {
  /** The leaf followed by the issuing intermediates: what a server presents (`cert` option). */
  chainPem: string;
  /** Uppercase hex SHA-256 of the DER, as in ProbeResult.certificateSha256. */
  sha256: string;
}

export interface CaOptions {
  commonName?: string;
  organization?: string;
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** For an intermediate: where its issuer publishes the CRL that would list it. */
  crlUrls?: string[];
  ocspUrls?: string[];
}

export interface LeafOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  organization?: string;
  notBefore?: Date;
  notAfter?: Date;
  keyType?: KeyType;
  /** SSTP clients require the Server Authentication EKU; false issues a clientAuth-only certificate. */
  serverAuthEku?: boolean;
  /** No Extended Key Usage extension at all (overrides serverAuthEku). */
  omitEku?: boolean;
  crlUrls?: string[];
  ocspUrls?: string[];
}

/** A root CA, valid from a day ago for ten years unless told otherwise. */
export async function createTestCa(opts: CaOptions = {}): Promise<CertificateAuthority> {
  const keys = await generateKeys(opts.keyType ?? 'ec');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: distinguishedName(opts.commonName ?? 'sstpwatch test CA', opts.organization ?? 'sstpwatch'),
    keys,
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: opts.notAfter ?? new Date(Date.now() + 3650 * DAY_MS),
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { ...(await keyed(cert, keys)), name: cert.subject, chainPem: '' };
}

/** An intermediate CA signed by `issuer`; leaves it issues carry it in their chainPem. */
export async function issueIntermediate(issuer: CertificateAuthority, opts: CaOptions = {}): Promise<CertificateAuthority> {
  const keys = await generateKeys(opts.keyType ?? 'ec');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: distinguishedName(opts.commonName ?? 'sstpwatch test intermediate CA', opts.organization ?? 'sstpwatch'),
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: opts.notAfter ?? new Date(Date.now() + 1825 * DAY_MS),
    signingAlgorithm: signingAlgorithm(issuer.keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
      ...revocationExtensions(opts),
    ],
  });
  const base = await keyed(cert, keys);
  return { ...base, name: cert.subject, chainPem: joinPem(base.certPem, issuer.chainPem) };
}

/** A server certificate signed by `issuer`, valid from a day ago for 90 days unless told otherwise. */
export async function issueLeaf(issuer: CertificateAuthority, opts: LeafOptions): Promise<IssuedCertificate> {
  const keys = await generateKeys(opts.keyType ?? 'ec');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: distinguishedName(opts.commonName, opts.organization),
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    ...validity(opts),
    signingAlgorithm: signingAlgorithm(issuer.keys.privateKey),
    extensions: [
      ...(await leafExtensions(opts, keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return issued(cert, keys, issuer.chainPem);
}

/** A self-signed server certificate (what `New-SelfSignedCertificate` gives an RRAS admin). */
export async function createSelfSigned(opts: LeafOptions): Promise<IssuedCertificate> {
  const keys = await generateKeys(opts.keyType ?? 'ec');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: distinguishedName(opts.commonName, opts.organization),
    keys,
    ...validity(opts),
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: await leafExtensions(opts, keys.publicKey),
  });
  return issued(cert, keys, '');
}

async function leafExtensions(opts: LeafOptions, publicKey: CryptoKey): Promise<x509.Extension[]> {
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? [opts.commonName]).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const isRsa = publicKey.algorithm.name.startsWith('RSA');
  const usage = x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  const eku = opts.serverAuthEku === false ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
    ...(opts.omitEku ? [] : [new x509.ExtendedKeyUsageExtension([eku])]),
    new x509.SubjectAlternativeNameExtension(names),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ...revocationExtensions(opts),
  ];
  return extensions;
}

function revocationExtensions(opts: { crlUrls?: string[]; ocspUrls?: string[] }): x509.Extension[] {
  const extensions: x509.Extension[] = [];
  if (opts.crlUrls?.length) extensions.push(new x509.CRLDistributionPointsExtension(opts.crlUrls));
  if (opts.ocspUrls?.length) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: opts.ocspUrls }));
  return extensions;
}

export interface CrlOptions {
  /** Certificates (or hex serial numbers) to list as revoked. */
  revoked?: (x509.X509Certificate | string)[];
  thisUpdate?: Date;
  /** Default: a week after thisUpdate. */
  nextUpdate?: Date;
}

/** A CRL signed by `issuer`, as a CA publishes it at its CRL distribution point. */
export async function createCrl(issuer: CertificateAuthority, opts: CrlOptions = {}): Promise<{ crl: x509.X509Crl; der: Buffer; pem: string }> {
  const thisUpdate = opts.thisUpdate ?? new Date(Date.now() - 3_600_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    thisUpdate,
    nextUpdate: opts.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY_MS),
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keys.privateKey),
    entries: (opts.revoked ?? []).map((entry) => ({
      serialNumber: typeof entry === 'string' ? entry : entry.serialNumber,
      revocationDate: new Date(thisUpdate.getTime() - 60_000),
      reason: x509.X509CrlReason.keyCompromise,
    })),
  });
  return { crl, der: Buffer.from(crl.rawData), pem: crl.toString('pem') + '\n' };
}

function validity(opts: { notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: opts.notAfter ?? new Date(Date.now() + 90 * DAY_MS),
  };
}

async function issued(cert: x509.X509Certificate, keys: CryptoKeyPair, issuerChainPem: string): Promise<IssuedCertificate> {
  const base = await keyed(cert, keys);
  const sha256 = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex').toUpperCase();
  return { ...base, chainPem: joinPem(base.certPem, issuerChainPem), sha256 };
}

async function keyed(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<KeyedCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    cert,
    keys,
    certPem: cert.toString('pem') + '\n',
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
  };
}

function joinPem(...pems: string[]): string {
  return pems.filter((pem) => pem.length > 0).join('');
}

/** In ASN.1 order (organization, then common name), as public CAs issue them. */
function distinguishedName(commonName: string, organization?: string): x509.JsonName {
  return organization ? [{ O: [organization] }, { CN: [commonName] }] : [{ CN: [commonName] }];
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

function signingAlgorithm(key: CryptoKey): Algorithm | EcdsaParams {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: key.algorithm.name };
}

const RSA_ALGORITHM: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

let rsaKeys: Promise<CryptoKeyPair> | undefined;

function generateKeys(type: KeyType): Promise<CryptoKeyPair> {
  if (type === 'rsa') {
    // One RSA-2048 key pair per process: generating one costs far more than the rest of a test.
    rsaKeys ??= webcrypto.subtle.generateKey(RSA_ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
    return rsaKeys;
  }
  return webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
}

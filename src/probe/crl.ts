// Pure: what a downloaded CRL says, as a Windows client reads it: who signed it (checked against the issuing
// CA's certificate from the presented chain), thisUpdate/nextUpdate, which of the asked serial numbers it
// lists, and the delta CRL it points to (FreshestCRL, 2.5.29.46) or the base it applies to (2.5.29.27).
// Parsing by @peculiar/x509 and @peculiar/asn1-x509; no DER is read by hand here.
import { AsnConvert } from '@peculiar/asn1-schema';
import { BaseCRLNumber, CertificateList, CRLNumber, FreshestCRL, id_ce_cRLNumber, id_ce_deltaCRLIndicator, id_ce_freshestCRL } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { verifySignature, type SignatureCheck } from './pki-signature.js';

export interface CrlFacts {
  thisUpdate: number;
  nextUpdate: number | null;
  /** The CRL's own number (2.5.29.20), when it has one. */
  crlNumber: number | null;
  /** Set on a delta CRL: the lowest base CRL number it applies to. */
  baseCrlNumber: number | null;
  /** Where the delta CRL of this base CRL is published (FreshestCRL in the CRL). */
  freshestUrls: string[];
  signature: SignatureCheck;
  /** The CRL names another issuer than the CA that issued the certificate: a wrong file at this URL. */
  issuerMismatch: string | null;
  /** Of the serial numbers asked about, those listed as revoked (uppercase hex, no leading zeros). */
  listed: string[];
  /** Delta CRL only: of the serial numbers asked about, those listed with reason removeFromCRL (taken off hold). */
  removed: string[];
}

/** A CRL (DER or PEM), or why the bytes are not one. */
export function readCrl(body: Buffer): x509.X509Crl | { error: string } {
  try {
    const head = body.subarray(0, 64).toString('latin1');
    return head.includes('-----BEGIN') ? new x509.X509Crl(body.toString('latin1')) : new x509.X509Crl(new Uint8Array(body));
  } catch {
    return { error: 'the response is not a CRL (neither DER nor PEM)' };
  }
}

/** What `crl` says about `serials`, its signature checked with `issuerDer` (null: the issuer is not known). */
export function crlFacts(crl: x509.X509Crl, issuerDer: Buffer | null, serials: readonly string[]): CrlFacts {
  const entries = new Map<string, x509.X509CrlEntry>();
  for (const entry of crl.entries) entries.set(normalizeSerial(entry.serialNumber), entry);
  const listed: string[] = [];
  const removed: string[] = [];
  for (const serial of serials) {
    const entry = entries.get(normalizeSerial(serial));
    if (!entry) continue;
    if (entry.reason === x509.X509CrlReason.removeFromCRL) removed.push(normalizeSerial(serial));
    else listed.push(normalizeSerial(serial));
  }
  return {
    thisUpdate: crl.thisUpdate.getTime(),
    nextUpdate: crl.nextUpdate?.getTime() ?? null,
    crlNumber: extensionValue(crl, id_ce_cRLNumber, CRLNumber)?.value ?? null,
    baseCrlNumber: extensionValue(crl, id_ce_deltaCRLIndicator, BaseCRLNumber)?.value ?? null,
    freshestUrls: distributionUrls(extensionValue(crl, id_ce_freshestCRL, FreshestCRL)),
    ...signatureOf(crl, issuerDer),
    listed,
    removed,
  };
}

function signatureOf(crl: x509.X509Crl, issuerDer: Buffer | null): Pick<CrlFacts, 'signature' | 'issuerMismatch'> {
  if (!issuerDer) return { signature: { result: 'unverified', reason: 'the issuing CA certificate is not in the presented chain' }, issuerMismatch: null };
  const issuer = new x509.X509Certificate(new Uint8Array(issuerDer));
  const mismatch = issuer.subject === crl.issuer ? null : crl.issuer;
  const list = AsnConvert.parse(crl.rawData, CertificateList);
  const tbs = list.tbsCertListRaw ?? AsnConvert.serialize(list.tbsCertList);
  return { signature: verifySignature(list.signatureAlgorithm, tbs, list.signature, issuerDer), issuerMismatch: mismatch };
}

/** The URLs of a certificate's FreshestCRL extension (where its CA publishes delta CRLs). */
export function certificateFreshestUrls(der: Buffer): string[] {
  try {
    const cert = new x509.X509Certificate(new Uint8Array(der));
    const ext = cert.getExtension(id_ce_freshestCRL);
    return ext ? distributionUrls(AsnConvert.parse(ext.value, FreshestCRL)) : [];
  } catch {
    return [];
  }
}

function extensionValue<T>(crl: x509.X509Crl, oid: string, type: new () => T): T | null {
  const ext = crl.extensions.find((e) => e.type === oid);
  if (!ext) return null;
  try {
    return AsnConvert.parse(ext.value, type);
  } catch {
    return null;
  }
}

function distributionUrls(points: FreshestCRL | null): string[] {
  const urls: string[] = [];
  for (const point of points ?? []) {
    for (const name of point.distributionPoint?.fullName ?? []) {
      if (name.uniformResourceIdentifier && /^https?:/i.test(name.uniformResourceIdentifier)) urls.push(name.uniformResourceIdentifier);
    }
  }
  return urls;
}

/** Serial numbers compared as numbers: `00AB` in a certificate is `ab` in a CRL entry. */
export function normalizeSerial(serial: string): string {
  return serial.toUpperCase().replace(/[^0-9A-F]/g, '').replace(/^0+(?=.)/, '');
}

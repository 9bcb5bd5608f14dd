// Pure: an OCSP request for one certificate (RFC 6960), and what the responder's answer says once its
// signature is checked, as a Windows client checks it: signed by the issuing CA itself, or by a responder
// certificate that CA issued for OCSP signing (id-kp-OCSPSigning, valid now). ASN.1 by @peculiar/asn1-ocsp
// and @peculiar/asn1-x509; no DER is read or written by hand here.
import { createHash } from 'node:crypto';
import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
  type ResponderID,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, ExtendedKeyUsage, id_ce_extKeyUsage, type Name } from '@peculiar/asn1-x509';
import { verifySignature, type SignatureCheck } from './pki-signature.js';

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspAnswer {
  certStatus: OcspCertStatus;
  thisUpdate: number;
  nextUpdate: number | null;
  /** When the responder says the certificate was revoked. */
  revokedAt: number | null;
  producedAt: number;
  /** Who signed: the issuing CA, or a responder certificate it delegated OCSP signing to. */
  signer: 'issuer' | 'delegated' | null;
  signature: SignatureCheck;
  /** Why the signer is not one the client accepts (not the CA, a delegate without id-kp-OCSPSigning, expired). */
  signerProblem: string | null;
}

const SHA1 = '1.3.14.3.2.26';
const DIGESTS: Readonly<Record<string, string>> = { [SHA1]: 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
const STATUS_NAMES: Readonly<Record<number, string>> = {
  [OCSPResponseStatus.malformedRequest]: 'malformedRequest',
  [OCSPResponseStatus.internalError]: 'internalError',
  [OCSPResponseStatus.tryLater]: 'tryLater',
  [OCSPResponseStatus.sigRequired]: 'sigRequired',
  [OCSPResponseStatus.unauthorized]: 'unauthorized',
};

/** The DER OCSP request for `certDer` issued by `issuerDer`: one CertID with SHA-1 hashes, what Windows sends. */
export function ocspRequest(certDer: Buffer, issuerDer: Buffer): Buffer {
  const cert = AsnConvert.parse(certDer, Certificate);
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(hash('sha1', nameDer(issuer.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(hash('sha1', keyBits(issuer))),
    serialNumber: cert.tbsCertificate.serialNumber,
  });
  const request = new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) });
  return Buffer.from(AsnConvert.serialize(request));
}

/** The responder's answer about `certDer`, its signature checked at `now`; or why it is not usable. */
export function readOcspResponse(body: Buffer, certDer: Buffer, issuerDer: Buffer, now: number): OcspAnswer | { error: string } {
  let basic: BasicOCSPResponse;
  try {
    const response = AsnConvert.parse(body, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful) {
      const name = STATUS_NAMES[response.responseStatus] ?? 'an unknown status';
      return { error: `the responder answered ${name} (${response.responseStatus}) instead of a status` };
    }
    if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) {
      return { error: 'the responder answered without a basic OCSP response' };
    }
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  } catch {
    return { error: 'the response is not an OCSP response' };
  }
  const cert = AsnConvert.parse(certDer, Certificate);
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  const single = basic.tbsResponseData.responses.find((r) => sameCertId(r.certID, cert, issuer));
  if (!single) return { error: 'the response does not answer for this certificate' };
  const status = single.certStatus;
  const certStatus: OcspCertStatus = status.revoked ? 'revoked' : status.good !== undefined ? 'good' : 'unknown';
  return {
    certStatus,
    thisUpdate: single.thisUpdate.getTime(),
    nextUpdate: single.nextUpdate?.getTime() ?? null,
    revokedAt: status.revoked?.revocationTime.getTime() ?? null,
    producedAt: basic.tbsResponseData.producedAt.getTime(),
    ...checkSigner(basic, issuer, issuerDer, now),
  };
}

function checkSigner(basic: BasicOCSPResponse, issuer: Certificate, issuerDer: Buffer, now: number): Pick<OcspAnswer, 'signer' | 'signature' | 'signerProblem'> {
  const tbs = basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData);
  const responder = basic.tbsResponseData.responderID;
  if (identifies(responder, issuer)) {
    return { signer: 'issuer', signature: verifySignature(basic.signatureAlgorithm, tbs, basic.signature, issuerDer), signerProblem: null };
  }
  const delegate = (basic.certs ?? []).find((c) => identifies(responder, c));
  if (!delegate) {
    return { signer: null, signature: { result: 'invalid' }, signerProblem: 'signed by a responder that is neither the issuing CA nor a certificate it issued (none is included in the response)' };
  }
  const delegateDer = Buffer.from(AsnConvert.serialize(delegate));
  const issued = verifySignature(delegate.signatureAlgorithm, delegate.tbsCertificateRaw ?? AsnConvert.serialize(delegate.tbsCertificate), delegate.signatureValue, issuerDer);
  const signature = verifySignature(basic.signatureAlgorithm, tbs, basic.signature, delegateDer);
  let problem: string | null = null;
  if (issued.result !== 'valid') problem = 'signed by a responder certificate the issuing CA did not issue';
  else if (!ekus(delegate).includes(id_kp_OCSPSigning)) problem = 'signed by a responder certificate without the OCSP Signing EKU (1.3.6.1.5.5.7.3.9)';
  else {
    const { notBefore, notAfter } = delegate.tbsCertificate.validity;
    if (now < notBefore.getTime().getTime() || now > notAfter.getTime().getTime()) problem = `signed by a responder certificate outside its validity (until ${notAfter.getTime().toISOString()})`;
  }
  return { signer: 'delegated', signature, signerProblem: problem };
}

function identifies(responder: ResponderID, cert: Certificate): boolean {
  if (responder.byName) return Buffer.compare(nameDer(responder.byName), nameDer(cert.tbsCertificate.subject)) === 0;
  if (responder.byKey) return Buffer.compare(Buffer.from(responder.byKey.buffer), hash('sha1', keyBits(cert))) === 0;
  return false;
}

function sameCertId(id: CertID, cert: Certificate, issuer: Certificate): boolean {
  const digest = DIGESTS[id.hashAlgorithm.algorithm];
  if (!digest) return false;
  return (
    Buffer.compare(Buffer.from(id.serialNumber), Buffer.from(cert.tbsCertificate.serialNumber)) === 0 &&
    Buffer.compare(Buffer.from(id.issuerNameHash.buffer), hash(digest, nameDer(issuer.tbsCertificate.subject))) === 0 &&
    Buffer.compare(Buffer.from(id.issuerKeyHash.buffer), hash(digest, keyBits(issuer))) === 0
  );
}

function ekus(cert: Certificate): string[] {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
  if (!ext) return [];
  try {
    return [...AsnConvert.parse(ext.extnValue.buffer, ExtendedKeyUsage)];
  } catch {
    return [];
  }
}

const nameDer = (name: Name): Buffer => Buffer.from(AsnConvert.serialize(name));
/** The subjectPublicKey BIT STRING's bytes: what OCSP's key hashes are computed over. */
const keyBits = (cert: Certificate): Buffer => Buffer.from(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
const hash = (algorithm: string, data: Buffer): Buffer => createHash(algorithm).update(data).digest();

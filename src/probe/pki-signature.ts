// Pure: does a signature over DER bytes (a CRL's tbsCertList, an OCSP response's tbsResponseData, a
// certificate's tbsCertificate) verify with a certificate's public key? The algorithm comes from the signed
// object's AlgorithmIdentifier (parsed by @peculiar/asn1-x509); node:crypto does the arithmetic.
import { constants, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/** `valid`, `invalid`, or `unverified` with the reason (an algorithm sstpwatch does not know, an unusable key). */
export type SignatureCheck = { result: 'valid' } | { result: 'invalid' } | { result: 'unverified'; reason: string };

const HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithm OID -> digest for node:crypto (null: the algorithm hashes itself, as Ed25519 does). */
const ALGORITHMS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.5': 'sha1', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
  '1.3.101.113': null, // Ed448
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

export function verifySignature(algorithm: AlgorithmIdentifier, tbs: ArrayBuffer | Uint8Array, signature: ArrayBuffer | Uint8Array, signerDer: Buffer): SignatureCheck {
  let key: KeyObject;
  try {
    key = new X509Certificate(signerDer).publicKey;
  } catch (err) {
    return { result: 'unverified', reason: `the signer's certificate cannot be read (${(err as Error).message})` };
  }
  const data = toBuffer(tbs);
  const sig = toBuffer(signature);
  try {
    if (algorithm.algorithm === RSASSA_PSS) {
      if (!algorithm.parameters) return { result: 'unverified', reason: 'RSASSA-PSS without parameters' };
      const params = AsnConvert.parse(algorithm.parameters, RsaSaPssParams);
      const hash = HASHES[params.hashAlgorithm.algorithm];
      if (!hash) return { result: 'unverified', reason: `RSASSA-PSS with hash ${params.hashAlgorithm.algorithm}` };
      const ok = verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, sig);
      return { result: ok ? 'valid' : 'invalid' };
    }
    if (!(algorithm.algorithm in ALGORITHMS)) return { result: 'unverified', reason: `signature algorithm ${algorithm.algorithm} is not supported` };
    return { result: verify(ALGORITHMS[algorithm.algorithm], data, key, sig) ? 'valid' : 'invalid' };
  } catch {
    // A signature that does not even decode (wrong key type for the algorithm, garbage bytes) does not verify.
    return { result: 'invalid' };
  }
}

function toBuffer(bytes: ArrayBuffer | Uint8Array): Buffer {
  return bytes instanceof Uint8Array ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
}

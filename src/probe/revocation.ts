// Revocation, checked as a Windows SSTP client checks it before it trusts the server certificate: the CRL
// named by each certificate (downloaded, its signature verified against the issuing CA of the presented
// chain, current, and its delta CRL followed), and the OCSP responder (asked about the certificate, its
// answer's signature verified, directly or through a delegated responder). When no source gives a current,
// correctly signed answer the connection fails with 0x80092013 (CRYPT_E_REVOCATION_OFFLINE).
// I/O against URLs found in certificates: run on its own slow cadence, never in the probe path.
import { certificateFreshestUrls, crlFacts, normalizeSerial, readCrl } from './crl.js';
import { fetchBytes, fetchError, isFetchableUrl } from './fetch-bytes.js';
import { ocspRequest, readOcspResponse, type OcspCertStatus } from './ocsp.js';
import type { SignatureCheck } from './pki-signature.js';
import type { CertificateDetails, CertificatePosition } from './types.js';

export { isFetchableUrl, normalizeSerial };
export type RevocationKind = 'crl' | 'ocsp';
export type SignatureState = SignatureCheck['result'];

/** What was read from one CRL or OCSP source. Times are integer ms. */
export interface SourceAnswer {
  url: string;
  /** The source answered with a CRL / an OCSP status sstpwatch could read. */
  reachable: boolean;
  /** Why it is not reachable or its answer unusable (not a CRL, not the delta of this base...): a sentence. Null when read. */
  error: string | null;
  httpStatus: number | null;
  /** The CRL or OCSP response is signed by the issuing CA (OCSP: or its delegated responder). Null: nothing read. */
  signature: SignatureState | null;
  /** Why the signature is invalid or could not be checked. */
  signatureProblem: string | null;
  thisUpdate: number | null;
  nextUpdate: number | null;
}

/** A delta CRL (FreshestCRL) fetched after its base CRL. */
export type DeltaCrlStatus = SourceAnswer;

/** What one check of one CRL or OCSP source found. */
export interface RevocationStatus extends SourceAnswer {
  kind: RevocationKind;
  checkedAt: number;
  /** Of the serial numbers asked about, those revoked (CRL: listed in the base or the delta CRL; OCSP: revoked). */
  revokedSerials: string[];
  /** CRL only: the delta CRL the base names (FreshestCRL), null when none is named. */
  delta: DeltaCrlStatus | null;
  /** OCSP only: the responder's answer. */
  ocspStatus: OcspCertStatus | null;
  revokedAt: number | null;
}

/** One certificate a source is asked about. */
export interface RevocationSubject {
  serialNumber: string;
  der: Buffer;
}

/** What to check: a CRL for any number of certificates of one issuer, or an OCSP responder for one certificate. */
export interface RevocationQuery {
  url: string;
  kind: RevocationKind;
  subjects: RevocationSubject[];
  /** The issuing CA's certificate (DER) from the presented chain; null when the chain does not hold it. */
  issuerDer: Buffer | null;
}

export interface FetchOptions {
  timeoutMs: number;
  /** Larger CRLs are refused; public CAs' CRLs stay far below the default 32 MiB. */
  maxBytes?: number;
  now?: () => number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const OCSP_MAX_BYTES = 64 * 1024;

/** Checks one source. Never rejects: every failure is a status with `reachable: false` and the reason. */
export async function checkRevocation(query: RevocationQuery, opts: FetchOptions): Promise<RevocationStatus> {
  const now = opts.now ?? Date.now;
  const base: RevocationStatus = {
    url: query.url,
    kind: query.kind,
    checkedAt: now(),
    reachable: false,
    error: null,
    httpStatus: null,
    signature: null,
    signatureProblem: null,
    thisUpdate: null,
    nextUpdate: null,
    revokedSerials: [],
    delta: null,
    ocspStatus: null,
    revokedAt: null,
  };
  if (!isFetchableUrl(query.url)) return { ...base, error: 'not an http(s) URL' };
  return query.kind === 'crl' ? checkCrl(query, base, opts, now) : checkOcsp(query, base, opts, now);
}

async function checkCrl(query: RevocationQuery, base: RevocationStatus, opts: FetchOptions, now: () => number): Promise<RevocationStatus> {
  const serials = query.subjects.map((s) => normalizeSerial(s.serialNumber));
  const read = await downloadCrl(query.url, query.issuerDer, serials, opts);
  const status: RevocationStatus = { ...base, checkedAt: now(), httpStatus: read.httpStatus };
  if ('error' in read) return { ...status, error: read.error };
  const { facts } = read;
  const found: RevocationStatus = {
    ...status,
    reachable: true,
    ...signatureFields(facts.signature, facts.issuerMismatch),
    thisUpdate: facts.thisUpdate,
    nextUpdate: facts.nextUpdate,
    revokedSerials: facts.listed,
  };
  // The base CRL names its delta; AD CS also puts FreshestCRL in the certificates it issues.
  const deltaUrl = facts.freshestUrls[0] ?? query.subjects.flatMap((s) => certificateFreshestUrls(s.der))[0];
  if (!deltaUrl) return found;
  const deltaRead = await downloadCrl(deltaUrl, query.issuerDer, serials, opts);
  const delta: DeltaCrlStatus = { url: deltaUrl, reachable: false, error: null, httpStatus: deltaRead.httpStatus, signature: null, signatureProblem: null, thisUpdate: null, nextUpdate: null };
  if ('error' in deltaRead) return { ...found, checkedAt: now(), delta: { ...delta, error: deltaRead.error } };
  const d = deltaRead.facts;
  const readDelta: DeltaCrlStatus = { ...delta, reachable: true, ...signatureFields(d.signature, d.issuerMismatch), thisUpdate: d.thisUpdate, nextUpdate: d.nextUpdate };
  if (d.baseCrlNumber === null) return { ...found, checkedAt: now(), delta: { ...readDelta, error: 'the CRL published there is not a delta CRL (no Delta CRL Indicator)' } };
  if (facts.crlNumber !== null && d.baseCrlNumber > facts.crlNumber) {
    return { ...found, checkedAt: now(), delta: { ...readDelta, error: `the delta CRL applies to base CRL number ${d.baseCrlNumber} or later, but the base CRL published is number ${facts.crlNumber}` } };
  }
  // A delta lists what was revoked since the base, and takes certificates off hold with removeFromCRL.
  const revoked = new Set([...facts.listed.filter((s) => !d.removed.includes(s)), ...d.listed]);
  return { ...found, checkedAt: now(), revokedSerials: [...revoked], delta: readDelta };
}

type CrlRead = { httpStatus: number | null; facts: ReturnType<typeof crlFacts> } | { httpStatus: number | null; error: string };

async function downloadCrl(url: string, issuerDer: Buffer | null, serials: string[], opts: FetchOptions): Promise<CrlRead> {
  if (!isFetchableUrl(url)) return { httpStatus: null, error: 'not an http(s) URL' };
  let response;
  try {
    response = await fetchBytes(url, { timeoutMs: opts.timeoutMs, maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES, headers: { accept: 'application/pkix-crl, */*' } });
  } catch (err) {
    return { httpStatus: null, error: fetchError(err, opts.timeoutMs) };
  }
  if (response.status !== 200) return { httpStatus: response.status, error: `HTTP ${response.status} instead of the CRL` };
  const crl = readCrl(response.body);
  if ('error' in crl) return { httpStatus: response.status, error: crl.error };
  return { httpStatus: response.status, facts: crlFacts(crl, issuerDer, serials) };
}

async function checkOcsp(query: RevocationQuery, base: RevocationStatus, opts: FetchOptions, now: () => number): Promise<RevocationStatus> {
  const subject = query.subjects[0];
  if (!subject) return { ...base, error: 'no certificate to ask about' };
  if (!query.issuerDer) return { ...base, error: 'the issuing CA certificate is not in the presented chain, so no OCSP request can name the certificate' };
  let request: Buffer;
  try {
    request = ocspRequest(subject.der, query.issuerDer);
  } catch (err) {
    return { ...base, error: `cannot build the OCSP request: ${(err as Error).message}` };
  }
  let response;
  try {
    response = await fetchBytes(query.url, {
      method: 'POST',
      body: request,
      timeoutMs: opts.timeoutMs,
      maxBytes: OCSP_MAX_BYTES,
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
    });
  } catch (err) {
    return { ...base, checkedAt: now(), error: fetchError(err, opts.timeoutMs) };
  }
  const status = { ...base, checkedAt: now(), httpStatus: response.status };
  if (response.status !== 200) return { ...status, error: `the responder answered HTTP ${response.status}` };
  const answer = readOcspResponse(response.body, subject.der, query.issuerDer, status.checkedAt);
  if ('error' in answer) return { ...status, error: answer.error };
  return {
    ...status,
    reachable: true,
    ...(answer.signerProblem ? { signature: 'invalid' as const, signatureProblem: answer.signerProblem } : signatureFields(answer.signature, null)),
    thisUpdate: answer.thisUpdate,
    nextUpdate: answer.nextUpdate,
    ocspStatus: answer.certStatus,
    revokedAt: answer.revokedAt,
    revokedSerials: answer.certStatus === 'revoked' ? [normalizeSerial(subject.serialNumber)] : [],
  };
}

function signatureFields(check: SignatureCheck, issuerMismatch: string | null): { signature: SignatureState; signatureProblem: string | null } {
  if (issuerMismatch !== null) return { signature: 'invalid', signatureProblem: `it is issued by ${issuerMismatch}, not by the CA that issued the certificate` };
  if (check.result === 'invalid') return { signature: 'invalid', signatureProblem: 'the signature does not verify with the issuing CA certificate of the chain' };
  if (check.result === 'unverified') return { signature: 'unverified', signatureProblem: check.reason };
  return { signature: 'valid', signatureProblem: null };
}

/** One revocation source of one certificate of a target's chain. */
export interface RevocationSource {
  /** What identifies the check: the URL for a CRL, the URL and the serial number for OCSP (one request per certificate). */
  key: string;
  url: string;
  kind: RevocationKind;
  position: CertificatePosition;
  subject: string;
  serialNumber: string;
  der: Buffer;
  issuerDer: Buffer | null;
}

/** The CRL and OCSP sources of every certificate in a chain but the root (a root is not checked for revocation). */
export function revocationSources(chain: readonly CertificateDetails[]): RevocationSource[] {
  const sources: RevocationSource[] = [];
  chain.forEach((cert, i) => {
    if (i > 0 && cert.selfIssued) return;
    const position: CertificatePosition = i === 0 ? 'leaf' : 'intermediate';
    const serialNumber = normalizeSerial(cert.serialNumber);
    const common = { position, subject: cert.subject, serialNumber, der: cert.der, issuerDer: chain[i + 1]?.der ?? null };
    for (const url of cert.crlUrls) sources.push({ key: url, url, kind: 'crl', ...common });
    for (const url of cert.ocspUrls) sources.push({ key: `${url}#${serialNumber}`, url, kind: 'ocsp', ...common });
  });
  return sources;
}

/** The queries that check every source of `sources` once: a CRL asked about all its certificates together. */
export function revocationQueries(sources: readonly RevocationSource[]): Map<string, RevocationQuery> {
  const queries = new Map<string, RevocationQuery>();
  for (const s of sources) {
    const query = queries.get(s.key) ?? { url: s.url, kind: s.kind, subjects: [], issuerDer: s.issuerDer };
    if (!query.subjects.some((x) => x.serialNumber === s.serialNumber)) query.subjects.push({ serialNumber: s.serialNumber, der: s.der });
    query.issuerDer ??= s.issuerDer;
    queries.set(s.key, query);
  }
  return queries;
}

/** A failed check without a fetch (the checker itself threw). */
export function failedStatus(query: Pick<RevocationQuery, 'url' | 'kind'>, checkedAt: number, error: string): RevocationStatus {
  return { url: query.url, kind: query.kind, checkedAt, reachable: false, error, httpStatus: null, signature: null, signatureProblem: null, thisUpdate: null, nextUpdate: null, revokedSerials: [], delta: null, ocspStatus: null, revokedAt: null };
}

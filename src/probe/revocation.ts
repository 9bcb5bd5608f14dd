// Revocation reachability: what a Windows SSTP client does before it trusts the server certificate. It
// fetches the CRL distribution points (and OCSP responders) named in the certificates; when none answers, the
// connection fails with 0x80092013 (CRYPT_E_REVOCATION_OFFLINE), and an expired CRL fails it too.
// I/O against the URLs found in certificates: run on its own slow cadence, never in the probe path.
import http from 'node:http';
import https from 'node:https';
import * as x509 from '@peculiar/x509';
import type { CertificateDetails, CertificatePosition } from './types.js';

export type RevocationKind = 'crl' | 'ocsp';

/** What one fetch of one URL found. Times are integer ms. */
export interface RevocationStatus {
  url: string;
  kind: RevocationKind;
  checkedAt: number;
  reachable: boolean;
  /** Why not reachable (or why the CRL is unusable): a sentence. Null when reachable. */
  error: string | null;
  httpStatus: number | null;
  /** CRL only. */
  thisUpdate: number | null;
  nextUpdate: number | null;
  /** Of the serial numbers asked about, those the CRL lists as revoked (uppercase hex). */
  revokedSerials: string[];
}

export interface FetchOptions {
  timeoutMs: number;
  /** Larger CRLs are refused; public CAs' CRLs stay far below the default 32 MiB. */
  maxBytes?: number;
  now?: () => number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** A URL sstpwatch may fetch: plain http (CRLs and OCSP are served over HTTP by design) or https. */
export function isFetchableUrl(url: string): boolean {
  return /^https?:\/\/[^/]/i.test(url);
}

/** Fetches one CRL or OCSP URL. Never rejects: every failure is a status with `reachable: false`. */
export async function fetchRevocation(
  url: string,
  kind: RevocationKind,
  serials: readonly string[],
  opts: FetchOptions,
): Promise<RevocationStatus> {
  const now = opts.now ?? Date.now;
  const base: RevocationStatus = {
    url,
    kind,
    checkedAt: now(),
    reachable: false,
    error: null,
    httpStatus: null,
    thisUpdate: null,
    nextUpdate: null,
    revokedSerials: [],
  };
  if (!isFetchableUrl(url)) return { ...base, error: 'not an http(s) URL' };
  let status: number;
  let body: Buffer;
  try {
    ({ status, body } = await get(url, kind, opts.timeoutMs, opts.maxBytes ?? DEFAULT_MAX_BYTES));
  } catch (err) {
    return { ...base, checkedAt: now(), error: fetchError(err, opts.timeoutMs) };
  }
  const fetched = { ...base, checkedAt: now(), httpStatus: status };
  if (kind === 'ocsp') {
    // Reachability only: a responder answers a bare GET with some HTTP status; 5xx means it is not serving.
    return status < 500 ? { ...fetched, reachable: true } : { ...fetched, error: `the responder answered HTTP ${status}` };
  }
  if (status !== 200) return { ...fetched, error: `HTTP ${status} instead of the CRL` };
  const parsed = parseCrl(body, serials);
  if ('error' in parsed) return { ...fetched, error: parsed.error };
  return { ...fetched, reachable: true, ...parsed };
}

/** Pure: a CRL (DER or PEM) -> its update times and which of `serials` it lists. */
export function parseCrl(
  body: Buffer,
  serials: readonly string[],
): { thisUpdate: number; nextUpdate: number | null; revokedSerials: string[] } | { error: string } {
  let crl: x509.X509Crl;
  try {
    const text = body.subarray(0, 64).toString('latin1');
    crl = text.includes('-----BEGIN') ? new x509.X509Crl(body.toString('latin1')) : new x509.X509Crl(new Uint8Array(body));
  } catch {
    return { error: 'the response is not a CRL (neither DER nor PEM)' };
  }
  const revokedSerials = serials.filter((serial) => isListed(crl, serial));
  return { thisUpdate: crl.thisUpdate.getTime(), nextUpdate: crl.nextUpdate?.getTime() ?? null, revokedSerials };
}

/** Serial numbers compared as numbers: `00AB` in a certificate is `ab` in a CRL entry. */
function isListed(crl: x509.X509Crl, serial: string): boolean {
  const wanted = normalizeSerial(serial).toLowerCase();
  const even = wanted.length % 2 === 0 ? wanted : `0${wanted}`;
  return crl.findRevoked(even) !== null || crl.findRevoked(`00${even}`) !== null;
}

export function normalizeSerial(serial: string): string {
  return serial.toUpperCase().replace(/[^0-9A-F]/g, '').replace(/^0+(?=.)/, '');
}

const MAX_REDIRECTS = 3;

/** A GET over node:http(s) (not fetch: its spec blocks "bad ports" a CA may well use), following a few redirects. */
function get(url: string, kind: RevocationKind, timeoutMs: number, maxBytes: number): Promise<{ status: number; body: Buffer }> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const once = (target: URL, hops: number): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const client = target.protocol === 'https:' ? https : http;
      const request = client.get(
        target,
        { signal: deadline, headers: { accept: kind === 'crl' ? 'application/pkix-crl, */*' : '*/*', 'user-agent': 'sstpwatch/0.1' } },
        (response) => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          if (status >= 300 && status < 400 && location && hops < MAX_REDIRECTS) {
            response.resume();
            let next: URL;
            try {
              next = new URL(location, target);
            } catch {
              return reject(new Error(`redirect to an invalid URL ${JSON.stringify(location)}`));
            }
            if (next.protocol !== 'http:' && next.protocol !== 'https:') return reject(new Error(`redirect to ${next.protocol} URL`));
            return once(next, hops + 1).then(resolve, reject);
          }
          if (Number(response.headers['content-length'] ?? '0') > maxBytes) {
            response.destroy();
            return reject(new TooLarge(maxBytes));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              response.destroy();
              reject(new TooLarge(maxBytes));
            } else chunks.push(chunk);
          });
          response.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
    });
  return once(new URL(url), 0);
}

class TooLarge extends Error {
  constructor(maxBytes: number) {
    super(`the response is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`);
  }
}

function fetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof TooLarge) return err.message;
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the name does not resolve';
  if (code === 'ECONNRESET') return 'the connection was reset';
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `the host cannot be reached (${code})`;
  return code ?? e.cause?.message ?? e.message ?? String(err);
}

/** One revocation source of one certificate of a target's chain. */
export interface RevocationSource {
  url: string;
  kind: RevocationKind;
  position: CertificatePosition;
  subject: string;
  serialNumber: string;
}

/** The CRL and OCSP URLs of every certificate in a chain but the root (a root is not checked for revocation). */
export function revocationSources(chain: readonly CertificateDetails[]): RevocationSource[] {
  const sources: RevocationSource[] = [];
  chain.forEach((cert, i) => {
    if (i > 0 && cert.selfIssued) return;
    const position: CertificatePosition = i === 0 ? 'leaf' : 'intermediate';
    const common = { position, subject: cert.subject, serialNumber: normalizeSerial(cert.serialNumber) };
    for (const url of cert.crlUrls) sources.push({ url, kind: 'crl', ...common });
    for (const url of cert.ocspUrls) sources.push({ url, kind: 'ocsp', ...common });
  });
  return sources;
}

// One HTTP exchange for revocation data (a CRL download, an OCSP POST): node:http(s) rather than fetch, whose
// spec blocks "bad ports" a CA may well use; a few redirects followed; the body bounded in size and time.
import http from 'node:http';
import https from 'node:https';

export interface FetchBytesOptions {
  timeoutMs: number;
  maxBytes: number;
  method?: 'GET' | 'POST';
  body?: Buffer;
  headers?: Record<string, string>;
}

export interface FetchedBytes {
  status: number;
  contentType: string | null;
  body: Buffer;
}

const MAX_REDIRECTS = 3;
export const USER_AGENT = 'sstpwatch';

/** A URL sstpwatch may fetch: plain http (CRLs and OCSP are served over HTTP by design) or https. */
export function isFetchableUrl(url: string): boolean {
  return /^https?:\/\/[^/]/i.test(url);
}

/** Rejects on a network failure, a timeout, an oversized body or a bad redirect; fetchError() words it. */
export function fetchBytes(url: string, opts: FetchBytesOptions): Promise<FetchedBytes> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const once = (target: URL, hops: number): Promise<FetchedBytes> =>
    new Promise((resolve, reject) => {
      const client = target.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
      if (opts.body) headers['content-length'] = String(opts.body.length);
      const request = client.request(target, { method: opts.method ?? 'GET', signal: deadline, headers }, (response) => {
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
          once(next, hops + 1).then(resolve, reject);
          return;
        }
        if (Number(response.headers['content-length'] ?? '0') > opts.maxBytes) {
          response.destroy();
          return reject(new TooLarge(opts.maxBytes));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            response.destroy();
            reject(new TooLarge(opts.maxBytes));
          } else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status, contentType: response.headers['content-type'] ?? null, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(opts.body);
    });
  return once(new URL(url), 0);
}

class TooLarge extends Error {
  constructor(maxBytes: number) {
    super(maxBytes >= 1024 * 1024 ? `the response is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB` : `the response is larger than ${Math.round(maxBytes / 1024)} KiB`);
  }
}

/** A sentence for why a fetch failed. */
export function fetchError(err: unknown, timeoutMs: number): string {
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

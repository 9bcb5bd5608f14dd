import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { presentCertificate, presentResult } from '../api/present.js';
import { tryParseDuration } from '../config/duration.js';
import { builtInProbeSettings, isHostname, normalizeSha256 } from '../config/schema.js';
import { daysLeft } from '../probe/certificate.js';
import { diagnose } from '../probe/diagnose.js';
import { createHeadProber } from '../probe/head.js';
import type { ProbeFn, ProbeResult, ProbeTarget } from '../probe/types.js';
import { describeInspection, inspectCertificates, inspectionJson } from './certificates.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, USAGE, type Output } from './output.js';
import { runSstpCheck } from './sstp-check.js';

const CHECK_OPTIONS = {
  hostname: { type: 'string' },
  offload: { type: 'boolean' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  path: { type: 'string' },
  expect: { type: 'string' },
  json: { type: 'boolean' },
  'offload-hash': { type: 'string' },
  'no-revocation': { type: 'boolean' },
} as const;

/** Thrown for a command line that cannot be run: exit 2 with the message. */
class UsageError extends Error {}

/** `sstpwatch check URL ...`: one probe now, explained; exit 0 up, 1 down, 2 usage. */
export async function runCheck(args: string[], io: Output, probe: ProbeFn = createHeadProber(), sstpProbe?: ProbeFn): Promise<number> {
  if (args.includes('--sstp')) return runSstpCheck(args.filter((arg) => arg !== '--sstp'), io, sstpProbe);
  let target: ProbeTarget;
  let json: boolean;
  let certificateOptions: CertificateCheckOptions;
  try {
    ({ target, json, ...certificateOptions } = parseCheckArgs(args));
  } catch (err) {
    io.err(`sstpwatch check: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const result = await probe(target);
  const inspection = await inspectCertificates(target, result, { ...certificateOptions, timeoutMs: target.settings.timeoutMs });
  if (json) io.out(JSON.stringify({ ...checkJson(result), ...inspectionJson(result, inspection) }, null, 2));
  else for (const line of [...describeCheck(target, result), ...describeInspection(result, inspection, { hostname: target.hostname, ...certificateOptions })]) io.out(line);
  return result.ok ? EXIT_OK : EXIT_FAILED;
}

export interface CertificateCheckOptions {
  /** --offload-hash: the hash set on the offloaded RRAS servers behind this load balancer (normalized). */
  offloadHash: string | null;
  /** false with --no-revocation: do not fetch the chain's CRL/OCSP URLs. */
  revocation: boolean;
}

export function parseCheckArgs(args: string[]): { target: ProbeTarget; json: boolean } & CertificateCheckOptions {
  let parsed;
  try {
    parsed = parseArgs({ args, options: CHECK_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'a URL is required' : `one URL only (got ${positionals.join(' ')})`);
  const url = parseUrl(positionals[0]!);
  const offload = url.protocol === 'http:';
  if (values.offload && !offload) throw new UsageError('--offload probes plain HTTP: give an http:// URL (TLS is offloaded at the load balancer)');

  const settings = builtInProbeSettings();
  if (values.timeout !== undefined) {
    const ms = tryParseDuration(values.timeout);
    if (ms === null || ms <= 0) throw new UsageError(`--timeout must be a duration such as 5s or 500ms (got ${JSON.stringify(values.timeout)})`);
    settings.timeoutMs = ms;
  }
  if (values.path !== undefined) {
    if (!values.path.startsWith('/')) throw new UsageError(`--path must start with / (got ${JSON.stringify(values.path)})`);
    settings.path = values.path;
  }
  if (values.expect !== undefined) settings.expectStatus = parseStatuses(values.expect);
  settings.tls = { verify: !values.insecure, caFile: values.ca ?? null, ca: values.ca ? readCa(values.ca) : null };

  if (values.hostname !== undefined && !isHostname(values.hostname)) {
    throw new UsageError(`--hostname must be a DNS name or an IP address (got ${JSON.stringify(values.hostname)})`);
  }
  const hostname = values.hostname ?? url.hostname.replace(/^\[|\]$/g, '');
  const target: ProbeTarget = { name: 'check', url: url.origin, hostname, offload, settings };
  let offloadHash: string | null = null;
  if (values['offload-hash'] !== undefined) {
    offloadHash = normalizeSha256(values['offload-hash']);
    if (offloadHash === null) throw new UsageError(`--offload-hash must be a SHA-256 hash: 64 hex digits, colons or spaces allowed (got ${JSON.stringify(values['offload-hash'])})`);
    if (offload) throw new UsageError('--offload-hash compares the certificate of an https:// load balancer; give its https:// URL');
  }
  return { target, json: values.json ?? false, offloadHash, revocation: !values['no-revocation'] };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(text)} (e.g. https://10.0.0.11 or http://10.0.0.12:80 for TLS offload)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`must be an http(s) URL (got ${JSON.stringify(text)})`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new UsageError(`give the server only (scheme, host, port); the SSTP path is added, or set with --path (got ${JSON.stringify(text)})`);
  }
  return url;
}

function parseStatuses(text: string): number[] {
  const codes = text.split(',').map((s) => Number(s.trim()));
  if (codes.length === 0 || codes.some((c) => !Number.isInteger(c) || c < 100 || c > 599)) {
    throw new UsageError(`--expect takes status codes separated by commas, e.g. 401 (got ${JSON.stringify(text)})`);
  }
  return codes;
}

function readCa(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --ca ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${JSON.stringify(path)} holds no PEM certificate`);
  return text;
}

/** The contract's result object, plus the certificate the server presented. */
export function checkJson(result: ProbeResult): object {
  return {
    ...presentResult(result),
    certificate: result.certificate ? presentCertificate(result.certificate, result.at) : null,
  };
}

/** Human output: verdict, what failed and what it usually means for SSTP, the fix, timings, certificate. */
export function describeCheck(target: ProbeTarget, result: ProbeResult): string[] {
  const d = diagnose(result, { url: target.url, hostname: target.hostname, offload: target.offload, now: result.at });
  const lines = [
    `${target.url}${target.settings.path}  (${target.offload ? `Host: ${target.hostname}, plain HTTP: TLS offloaded` : `Host and SNI: ${target.hostname}`})`,
    '',
    `  ${d.verdict.toUpperCase()}: ${d.headline}`,
  ];
  if (!result.ok) lines.push(`  probe said: ${result.message} [${result.errorKind}${d.phase ? `, ${d.phase} phase` : ''}]`);
  lines.push('', ...wrap(d.explanation, '  '));
  if (d.fix) lines.push('', ...wrap(`Fix: ${d.fix}`, '  '));
  lines.push('', `  timings:   ${timings(result)}`);
  if (result.statusCode !== null) lines.push(`  response:  HTTP/${result.httpVersion ?? '?'} ${result.statusCode}`);
  if (result.tlsVersion) lines.push(`  tls:       ${result.tlsVersion}`);
  const cert = result.certificate;
  if (cert) {
    const days = Math.floor(daysLeft(cert.notAfter, result.at));
    lines.push(
      `  cert:      ${cert.subject}  (issued by ${cert.issuer})`,
      `             names: ${cert.san.join(', ') || '(no SAN)'}`,
      `             valid until ${new Date(cert.notAfter).toISOString()} (${days >= 0 ? `${days} days left` : `expired ${-days} days ago`})`,
      `             ${cert.keyType}${cert.keyBits ? ` ${cert.keyBits}-bit` : ''}, SHA-256 ${cert.sha256}`,
    );
  }
  return lines;
}

function timings(result: ProbeResult): string {
  const phases = (['dns', 'connect', 'tls', 'processing'] as const)
    .filter((p) => result.phasesMs[p] !== undefined)
    .map((p) => `${p} ${result.phasesMs[p]!.toFixed(1)} ms`);
  return `${phases.join(', ')}${phases.length ? ', ' : ''}total ${result.durationMs.toFixed(1)} ms`;
}

function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width - indent.length) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

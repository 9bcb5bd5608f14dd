// `sstpwatch check URL ...`: one probe now (the HEAD probe, or with --sstp the deep SSTP check), explained.
// Three steps: the command line (check-args.ts), the probe run with the certificate inspection, the report
// (check-report.ts). Exit 0 up, 1 down (or clients would fail: a revoked certificate, an expired CRL), 2 usage.
// The probe and the certificate code (x509, ASN.1) load once the command line is known good.
import type { ProbeFn } from '../probe/types.js';
import { parseCheckArgs, type CheckRequest } from './check-args.js';
import type { CheckOutcome } from './check-report.js';
import type { ThresholdEnvironment } from './check-thresholds.js';
import { EXIT_USAGE, USAGE, type Output } from './output.js';

export interface CheckProbes {
  head?: ProbeFn;
  sstp?: ProbeFn;
}

export async function runCheck(args: string[], io: Output, probes: CheckProbes = {}, environment?: ThresholdEnvironment): Promise<number> {
  let request: CheckRequest;
  try {
    request = parseCheckArgs(args, environment);
  } catch (err) {
    io.err(`sstpwatch check${args.includes('--sstp') ? ' --sstp' : ''}: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (request.applied.warning) io.err(`warning: ${request.applied.warning}`);
  const outcome = await runCheckProbe(request, probes);
  const { checkExitCode, checkJson, checkReport } = await import('./check-report.js');
  if (request.json) io.out(JSON.stringify(checkJson(outcome, request.applied), null, 2));
  else for (const line of checkReport(request, outcome)) io.out(line);
  return checkExitCode(outcome);
}

/** The probe, then (HEAD probe only) the chain's checks and its revocation sources, fetched now. */
export async function runCheckProbe(request: CheckRequest, probes: CheckProbes = {}): Promise<CheckOutcome> {
  const probe = request.sstp ? (probes.sstp ?? (await import('../probe/sstp.js')).createSstpProber()) : (probes.head ?? (await import('../probe/head.js')).createHeadProber());
  const result = await probe(request.target);
  if (request.sstp) return { result, inspection: null };
  const { inspectCertificates } = await import('./certificates.js');
  const inspection = await inspectCertificates(request.target, result, {
    offloadHash: request.offloadHash,
    revocation: request.revocation,
    timeoutMs: request.target.settings.timeoutMs,
  });
  return { result, inspection };
}

// `sstpwatch check --sstp URL ...`: the deep SSTP check once, each stage explained. Same options as the HEAD
// check (hostname, offload, CA, timeout, path, json); exit 0 when the call was accepted, 1 otherwise, 2 usage.
import { presentCertificate, presentResult } from '../api/present.js';
import { describeSstpStages } from '../probe/sstp-diagnose.js';
import { createSstpProber } from '../probe/sstp.js';
import type { ProbeFn, ProbeTarget } from '../probe/types.js';
import { describeCheck, parseCheckArgs } from './check.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, USAGE, type Output } from './output.js';

export async function runSstpCheck(args: string[], io: Output, probe: ProbeFn = createSstpProber()): Promise<number> {
  let target: ProbeTarget;
  let json: boolean;
  try {
    ({ target, json } = parseCheckArgs(args));
  } catch (err) {
    io.err(`sstpwatch check --sstp: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const result = await probe(target);
  if (json) {
    const certificate = result.certificate ? presentCertificate(result.certificate, result.at) : null;
    io.out(JSON.stringify({ ...presentResult(result), certificate }, null, 2));
  } else {
    const lines = describeCheck(target, result);
    // The stages go right after the verdict's explanation, before the timings and the certificate.
    const at = lines.findIndex((line) => line.startsWith('  timings:'));
    const stages = ['  SSTP handshake, stage by stage:', ...describeSstpStages(result), ''];
    lines.splice(at === -1 ? lines.length : at, 0, ...stages);
    lines[0] = `${lines[0]}  [deep SSTP check]`;
    for (const line of lines) io.out(line);
  }
  return result.ok ? EXIT_OK : EXIT_FAILED;
}

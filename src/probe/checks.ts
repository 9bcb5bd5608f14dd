// The kinds of check, as data (blackbox_exporter's `Probers` map): each kind names its probe, whether its results
// drive the target's up/down state, when a target runs it, and the series its results are published as. The
// scheduler, the monitor and the metrics read this table and nothing kind-specific; a new kind is a probe file and
// one entry here.
import type { Cadence } from '../config/raw.js';
import type { ProbeSettings } from '../config/types.js';
import { createHeadProber } from './head.js';
import { createSstpProber } from './sstp.js';
import { createTransport, type Transport } from './transport.js';
import type { CheckKind, ProbeFn, ProbeResult } from './types.js';

/** One Prometheus family: its name and help text. */
export interface SeriesName {
  name: string;
  help: string;
}

/**
 * The series one kind's results are published as, each labelled target, group and role. Optional ones are
 * published only by the kinds that name them.
 */
export interface CheckSeries {
  /** Gauge: the last result, 1 ok, 0 failed. */
  success: SeriesName;
  /** Gauge: when the last result came (Unix seconds). */
  lastTimestamp: SeriesName;
  /** Counter: results by error kind (label `result`). */
  results: SeriesName;
  /** Gauge: the last result's time per step (label `label`, one of `steps`), in seconds; absent steps removed. */
  steps: SeriesName & { label: string; steps: readonly string[]; of: (result: ProbeResult) => Partial<Record<string, number>> };
  /** Histogram of every result's total duration. */
  duration?: SeriesName & { buckets: number[] };
  /** Gauge: the last HTTP status code (0 when none). */
  statusCode?: SeriesName;
  /** The leaf certificate's expiry and identity series come from this kind's results. */
  certificate?: boolean;
  /**
   * Gauge per `protocol` (sha1, sha256): 1 when the last accepted call's Crypto Binding Request offered it, 0
   * when not; absent when no Ack came. `of` reads the offer's bitmask from a result.
   */
  hashProtocol?: SeriesName & { of: (result: ProbeResult) => number | null };
}

export interface CheckDefinition {
  /** How logs name one run: `probe failed`, `deep SSTP check failed`. */
  noun: string;
  /** Builds the kind's probe over a transport (shared by the kinds, with its caches). */
  createProbe(transport: Transport): ProbeFn;
  /**
   * Its results move the target's up/down state (rise/fall), count for uptime and feed the certificate monitor.
   * Results of other kinds are stored and published beside it, and change nothing else.
   */
  drivesHealth: boolean;
  /** When a target runs this kind, from its settings; null: it does not run it. */
  cadence(settings: ProbeSettings): Cadence | null;
  series: CheckSeries;
}

const PHASES = ['dns', 'connect', 'tls', 'processing'] as const;
/** The deep check's steps: the transport's phases, then POST -> 200, Call Connect Request -> reply, Disconnect -> Ack. */
export const SSTP_STAGES = ['dns', 'connect', 'tls', 'http', 'call', 'disconnect'] as const;

/** Every kind of check. */
export const CHECKS: { readonly [K in CheckKind]: CheckDefinition } = {
  head: {
    noun: 'probe',
    createProbe: (transport) => createHeadProber({ transport }),
    drivesHealth: true,
    cadence: ({ intervalMs, schedule }) => (schedule ? { intervalMs: null, schedule } : { intervalMs: intervalMs!, schedule: null }),
    series: {
      success: { name: 'sstp_probe_success', help: 'Last raw probe: 1 ok, 0 failed.' },
      lastTimestamp: { name: 'sstp_probe_last_timestamp_seconds', help: 'When the last probe finished (Unix seconds).' },
      results: { name: 'sstp_probes_total', help: 'Probes by result (error_kind).' },
      steps: {
        name: 'sstp_probe_phase_seconds',
        help: "Last probe's duration by phase (dns, connect, tls, processing).",
        label: 'phase',
        steps: PHASES,
        of: ({ phasesMs: p }) => ({ dns: p.dns, connect: p.connect, tls: p.tls, processing: p.processing }),
      },
      duration: {
        name: 'sstp_probe_duration_seconds',
        help: 'Total duration of every probe.',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      },
      statusCode: { name: 'sstp_probe_http_status_code', help: 'Last HTTP status code (0 when none).' },
      certificate: true,
    },
  },
  sstp: {
    noun: 'deep SSTP check',
    createProbe: (transport) => createSstpProber({ transport }),
    // A server that answers HEAD but refuses calls shows as up with sstp_handshake_success 0: the up/down state
    // stays the HEAD probe's, at its cadence, which is what a load balancer acts on.
    drivesHealth: false,
    // It holds an SSTP port on the server for its few milliseconds: a cadence of its own (sstp_interval).
    cadence: ({ check, sstpIntervalMs }) => (check === 'sstp' ? { intervalMs: sstpIntervalMs, schedule: null } : null),
    series: {
      success: {
        name: 'sstp_handshake_success',
        help: 'Last deep SSTP check: 1 the call was accepted (Call Connect Ack; SHA-1 only counts, see sstp_handshake_hash_protocol), 0 failed.',
      },
      hashProtocol: {
        name: 'sstp_handshake_hash_protocol',
        help: "Hash protocols the last accepted call's Crypto Binding Request offered (protocol sha1, sha256): 1 offered, 0 not. SHA-1 only is a weakness, not a failure.",
        of: ({ sstp }) => (sstp?.reply === 'ack' ? sstp.hashBitmask : null),
      },
      lastTimestamp: { name: 'sstp_handshake_last_timestamp_seconds', help: 'When the last deep SSTP check finished (Unix seconds).' },
      results: { name: 'sstp_handshakes_total', help: 'Deep SSTP checks by result (error_kind).' },
      steps: {
        name: 'sstp_handshake_stage_seconds',
        help: "Last deep SSTP check's duration by stage (dns, connect, tls, http, call, disconnect).",
        label: 'stage',
        steps: SSTP_STAGES,
        of: ({ phasesMs, sstp }) => ({ dns: phasesMs.dns, connect: phasesMs.connect, tls: phasesMs.tls, ...sstp?.stagesMs }),
      },
    },
  },
};

/** The kinds in the table's order. */
export const CHECK_KINDS = Object.keys(CHECKS) as CheckKind[];

/** The kinds a target runs, each with its cadence. */
export function plannedChecks(settings: ProbeSettings): { check: CheckKind; cadence: Cadence }[] {
  return CHECK_KINDS.flatMap((check) => {
    const cadence = CHECKS[check].cadence(settings);
    return cadence ? [{ check, cadence }] : [];
  });
}

/** One probe per kind over one shared transport; `overrides` replace some (tests, the demo). */
export function createProbes(overrides: Partial<Record<CheckKind, ProbeFn>> = {}): Record<CheckKind, ProbeFn> {
  const transport = createTransport();
  const probes = {} as Record<CheckKind, ProbeFn>;
  for (const check of CHECK_KINDS) probes[check] = overrides[check] ?? CHECKS[check].createProbe(transport);
  return probes;
}

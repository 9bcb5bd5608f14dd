// Built-in values: what an absent key means (the contract's "Config file" section).

import { DEFAULT_CERTIFICATE_THRESHOLDS, DEFAULT_SLOW_THRESHOLD_MS } from './policy.js';
import { type ProbeSettings, type RetentionConfig } from './types.js';

export const DEFAULT_LISTEN = '127.0.0.1:9470';
export const DEFAULT_DATABASE = './data/sstpwatch.db';
export const DEFAULT_TOKEN_ENV = 'SSTPWATCH_TOKEN';
/** The SSTP endpoint RRAS answers on: an unauthenticated HEAD gets 401 when the service is healthy. */
export const SSTP_PATH = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/';
export const MIN_INTERVAL_MS = 1_000;
/** The deep SSTP check holds an SSTP port on the server for its few milliseconds: every 5 minutes by default. */
export const DEFAULT_SSTP_INTERVAL_MS = 300_000;
/**
 * Below this, sstp_interval needs `allow_fast_sstp_interval: true`: every deep check is a real call on the
 * server (an SSTP port held, with accel-ppp a pty and pppd started, a RemoteAccess log entry), so a short
 * interval by mistake loads production servers and floods their logs.
 */
export const MIN_SAFE_SSTP_INTERVAL_MS = 60_000;
export const MAX_RISE_FALL = 100;

/** A fresh copy of the built-in probe settings, before `defaults:` is applied. */
export function builtInProbeSettings(): ProbeSettings {
  return {
    intervalMs: 30_000,
    schedule: null,
    timeoutMs: 5_000,
    rise: 2,
    fall: 3,
    expectStatus: [401],
    path: SSTP_PATH,
    tls: { verify: true, caFile: null, ca: null },
    check: 'head',
    sstpIntervalMs: DEFAULT_SSTP_INTERVAL_MS,
    certificates: { ...DEFAULT_CERTIFICATE_THRESHOLDS },
    slowThresholdMs: DEFAULT_SLOW_THRESHOLD_MS,
  };
}

export function builtInRetention(): RetentionConfig {
  return { rawMs: 14 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 400 * 86_400_000 };
}

// Rows as PostgreSQL takes them: column arrays for one `INSERT ... SELECT * FROM unnest(...)` per batch (one
// prepared statement whatever the batch size), and the values PostgreSQL would refuse made safe first, since a
// refused row must never hold up the ones queued behind it.
import { SSTP_CHECK_COLUMNS } from '../columns.js';
import { HTTP_VERSION_CODES, TLS_VERSION_CODES } from '../codes.js';
import type { ResultRow, TransitionRow } from '../codec.js';
import type { SstpCheckRow } from '../sstp-checks.js';

const byCode = (codes: Readonly<Record<string, number>>): ReadonlyMap<bigint, string> =>
  new Map(Object.entries(codes).map(([value, code]) => [BigInt(code), value]));
const HTTP_VERSIONS = byCode(HTTP_VERSION_CODES);
const TLS_VERSIONS = byCode(TLS_VERSION_CODES);

const INT4_MAX = 2_147_483_647;
const INT2_MAX = 32_767;

/** An integer column's value: beyond the column's range it is clamped (a duration) or dropped (a code). */
export const int4 = (value: number): number => Math.max(-INT4_MAX, Math.min(INT4_MAX, value));
export const int4OrNull = (value: number | null): number | null => (value === null ? null : int4(value));
export const int2OrNull = (value: number | null): number | null => (value === null || Math.abs(value) > INT2_MAX ? null : value);

/** PostgreSQL text cannot hold U+0000; a probe's message from a hostile server may. */
export const text = (value: string | null): string | null => (value === null ? null : value.replaceAll('\u0000', '\uFFFD'));

/** SQLite stores the usual versions as a code; PostgreSQL as the text itself. */
function versionText(value: bigint | string | null, versions: ReadonlyMap<bigint, string>): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return text(value);
  return versions.get(value) ?? value.toString();
}

export const httpVersionText = (value: bigint | string | null): string | null => versionText(value, HTTP_VERSIONS);
export const tlsVersionText = (value: bigint | string | null): string | null => versionText(value, TLS_VERSIONS);

export const INSERT_RESULTS = {
  name: 'insert_results',
  text: `INSERT INTO results (target_id, at, error_kind, status_code, duration_us, dns_us, connect_us, tls_us, processing_us,
      http_version, tls_version, certificate_id, message, uptime_exclusion)
    SELECT * FROM unnest($1::int4[], $2::int8[], $3::int2[], $4::int2[], $5::int4[], $6::int4[], $7::int4[], $8::int4[],
      $9::int4[], $10::text[], $11::text[], $12::int4[], $13::text[], $14::int2[])
    ON CONFLICT DO NOTHING RETURNING target_id, at`,
};

/** The 14 column arrays of INSERT_RESULTS; `at` and `certificateIds` given per row. */
export function resultColumns(rows: readonly ResultRow[], ats: readonly number[], certificateIds: readonly (number | null)[]): unknown[] {
  return [
    rows.map((r) => r.targetId),
    ats,
    rows.map((r) => r.errorKind),
    rows.map((r) => int2OrNull(r.statusCode)),
    rows.map((r) => int4(r.durationUs)),
    rows.map((r) => int4OrNull(r.dnsUs)),
    rows.map((r) => int4OrNull(r.connectUs)),
    rows.map((r) => int4OrNull(r.tlsUs)),
    rows.map((r) => int4OrNull(r.processingUs)),
    rows.map((r) => httpVersionText(r.httpVersion)),
    rows.map((r) => tlsVersionText(r.tlsVersion)),
    certificateIds,
    rows.map((r) => text(r.message)),
    rows.map((r) => r.uptimeExclusion),
  ];
}

export const INSERT_TRANSITIONS = {
  name: 'insert_transitions',
  text: `INSERT INTO state_transitions (target_id, at, from_state, to_state, cause, message)
    SELECT * FROM unnest($1::int4[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[])
    ON CONFLICT DO NOTHING RETURNING target_id, at`,
};

export function transitionColumns(rows: readonly TransitionRow[], ats: readonly number[]): unknown[] {
  return [rows.map((r) => r.targetId), ats, rows.map((r) => r.from), rows.map((r) => r.to), rows.map((r) => text(r.cause)), rows.map((r) => text(r.message))];
}

export const INSERT_SSTP_CHECKS = {
  name: 'insert_sstp_checks',
  text: `INSERT INTO sstp_checks (target_id, ${SSTP_CHECK_COLUMNS})
    SELECT * FROM unnest($1::int4[], $2::int8[], $3::int2[], $4::int2[], $5::int2[], $6::int4[], $7::int4[], $8::int4[],
      $9::int4[], $10::int4[], $11::int4[], $12::int4[], $13::int4[], $14::int4[], $15::int4[], $16::int4[], $17::int2[],
      $18::text[], $19::text[], $20::text[])
    ON CONFLICT DO NOTHING`,
};

export function sstpCheckColumns(rows: readonly SstpCheckRow[]): unknown[] {
  return [
    rows.map((r) => r.targetId),
    rows.map((r) => r.at),
    rows.map((r) => r.errorKind),
    rows.map((r) => r.stage),
    rows.map((r) => r.reply),
    rows.map((r) => int4OrNull(r.statusCode)),
    rows.map((r) => int4(r.durationUs)),
    rows.map((r) => int4OrNull(r.dnsUs)),
    rows.map((r) => int4OrNull(r.connectUs)),
    rows.map((r) => int4OrNull(r.tlsUs)),
    rows.map((r) => int4OrNull(r.httpUs)),
    rows.map((r) => int4OrNull(r.callUs)),
    rows.map((r) => int4OrNull(r.disconnectUs)),
    rows.map((r) => int4OrNull(r.hashBitmask)),
    rows.map((r) => int4OrNull(r.sstpStatus)),
    rows.map((r) => int4OrNull(r.statusAttribute)),
    rows.map((r) => r.disconnect),
    rows.map((r) => text(r.tlsVersion)),
    rows.map((r) => text(r.correlationId)),
    rows.map((r) => text(r.message)),
  ];
}

/**
 * Within one batch, a target's rows at the same millisecond move forward to the next free one (as SQLite's
 * store does row by row), so the keys of a batch are unique and ON CONFLICT only meets rows already stored.
 */
export function distinctTimes(rows: readonly { targetId: number; at: number }[]): number[] {
  const taken = new Set<string>();
  return rows.map((row) => {
    let at = row.at;
    while (taken.has(`${row.targetId}:${at}`)) at++;
    taken.add(`${row.targetId}:${at}`);
    return at;
  });
}

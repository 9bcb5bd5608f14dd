// Column lists both SQL stores read and write: the tables are the same on SQLite and PostgreSQL (migrations/ and
// migrations/postgres/), and the row codec (codec.ts, sstp-checks.ts) reads them by these names.

/** A `results` row with its certificate's hash, as SelectedResult; the query adds WHERE on `r`. */
export const SELECT_RESULTS = `SELECT r.at, r.error_kind, r.status_code, r.duration_us, r.dns_us, r.connect_us, r.tls_us,
  r.processing_us, r.http_version, r.tls_version, c.sha256, r.message
  FROM results r LEFT JOIN certificates c ON c.certificate_id = r.certificate_id`;

/** `state_transitions`, as SelectedTransition. */
export const TRANSITION_COLUMNS = 'at, from_state, to_state, cause, message';

/** `sstp_checks` but target_id, as SelectedSstpCheck. */
export const SSTP_CHECK_COLUMNS = `at, error_kind, stage, reply, status_code, duration_us, dns_us, connect_us, tls_us, http_us, call_us,
  disconnect_us, hash_bitmask, sstp_status, status_attribute, disconnect, tls_version, correlation_id, message`;

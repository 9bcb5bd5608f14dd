-- Results of the deep SSTP check (issue 9), apart from `results`: they come at their own cadence (sstp_interval,
-- 5 minutes by default) and must not count in the HEAD probe's history, rollups or uptime.
--
--   error_kind      the same codes as results.error_kind (src/store/sqlite.ts ERROR_KIND_CODES)
--   stage           how far the handshake got: 0 none, 1 transport, 2 http (200 to SSTP_DUPLEX_POST),
--                   3 call_reply, 4 disconnect_ack (codes in src/store/sstp-checks.ts)
--   reply           the answer to Call Connect Request: NULL none, 1 ack, 2 nak, 3 abort, 4 disconnect
--   status_code     the HTTP status of the POST; NULL when none came
--   *_us            integer microseconds; NULL when the step did not happen
--   hash_bitmask    the Crypto Binding Request's hash protocols (1 SHA-1, 2 SHA-256)
--   sstp_status     the Status Info of a Nak, Abort or Disconnect, and the attribute it refers to
--   disconnect      0 not sent (the connection was gone), 1 sent without Ack, 2 acknowledged
-- Rows older than retention.raw are deleted as new ones are written (one indexed DELETE per check).

CREATE TABLE sstp_checks (
  target_id        INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  at               INTEGER NOT NULL,
  error_kind       INTEGER NOT NULL,
  stage            INTEGER NOT NULL,
  reply            INTEGER,
  status_code      INTEGER,
  duration_us      INTEGER NOT NULL,
  dns_us           INTEGER,
  connect_us       INTEGER,
  tls_us           INTEGER,
  http_us          INTEGER,
  call_us          INTEGER,
  disconnect_us    INTEGER,
  hash_bitmask     INTEGER,
  sstp_status      INTEGER,
  status_attribute INTEGER,
  disconnect       INTEGER NOT NULL,
  tls_version      TEXT,
  correlation_id   TEXT,
  message          TEXT,
  PRIMARY KEY (target_id, at)
) STRICT, WITHOUT ROWID;

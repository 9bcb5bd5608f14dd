-- sstpwatch schema, version 1.
--
-- Migration files hold DDL only, and no BEGIN/COMMIT: the runner (src/store/migrate.ts) applies each file in
-- its own transaction. PRAGMAs that must precede the first table (auto_vacuum) are the runner's job, since
-- most PRAGMAs do not take effect inside a transaction.
--
-- Size matters: `results` gets one row per probe (10,000 targets every 30 s is ~29 million rows a day), so it
-- is a WITHOUT ROWID table keyed by (target_id, at) -- the key doubles as the per-target time index and no
-- rowid is stored -- and every column is a small integer the record format packs tightly:
--   at             ms since the epoch (6 bytes)
--   error_kind     a code owned by src/store/sqlite.ts (ERROR_KIND_CODES); 0 = ok, stored in zero bytes
--   *_us           durations in integer microseconds (1..3 bytes); NULL when the phase did not happen
--   http_version,  ANY: a small integer code for the usual values ('1.1' -> 1, 'TLSv1.3' -> 1: zero bytes),
--   tls_version    the text itself for anything else, so every value round-trips exactly. Codes must be bound
--                  as integers: a JS number is bound as REAL, which an ANY column keeps (8 bytes).
--   certificate_id the certificate's SHA-256 is stored once, in `certificates`
--   message        NULL for an ok result whose message is the standard status line (rebuilt on read: see
--                  encodeMessage in src/store/sqlite.ts); any other text as is
-- Measured (test/store/sqlite.test.ts): about 41 bytes of database file per ok result, pages ~89% full.

CREATE TABLE targets (
  target_id  INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE,
  group_name TEXT    NOT NULL,
  role       TEXT    NOT NULL,
  url        TEXT    NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE certificates (
  certificate_id INTEGER PRIMARY KEY,
  sha256         TEXT    NOT NULL UNIQUE
) STRICT;

CREATE TABLE results (
  target_id      INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  at             INTEGER NOT NULL,
  error_kind     INTEGER NOT NULL,
  status_code    INTEGER,
  duration_us    INTEGER NOT NULL,
  dns_us         INTEGER,
  connect_us     INTEGER,
  tls_us         INTEGER,
  processing_us  INTEGER,
  http_version   ANY,
  tls_version    ANY,
  certificate_id INTEGER REFERENCES certificates (certificate_id),
  message        TEXT,
  PRIMARY KEY (target_id, at)
) STRICT, WITHOUT ROWID;

CREATE TABLE state_transitions (
  target_id  INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  at         INTEGER NOT NULL,
  from_state TEXT    NOT NULL,
  to_state   TEXT    NOT NULL,
  cause      TEXT,
  message    TEXT,
  PRIMARY KEY (target_id, at)
) STRICT, WITHOUT ROWID;

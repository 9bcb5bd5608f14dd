-- History that lasts: rollups, the uptime flag on results, persisted maintenance, housekeeping marks.
--
-- results.uptime_exclusion says whether a result counts for uptime: 0 counts (stored in zero bytes), 1 the target was in
-- maintenance, 2 the target had no verdict yet (state unknown). Rows written before this migration count (0).
ALTER TABLE results ADD COLUMN uptime_exclusion INTEGER NOT NULL DEFAULT 0;

-- One row per target and minute / hour, computed from raw results (so p95 is exact, never a mean of p95s).
-- bucket: ms since the epoch of the bucket's start. probes/failures/sum/max/p95 cover every probe;
-- counted/counted_failures only those with uptime_exclusion = 0 (what uptime reads).
CREATE TABLE rollups_minute (  -- replaced by a packed table in 0004
  target_id        INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  bucket           INTEGER NOT NULL,
  probes           INTEGER NOT NULL,
  failures         INTEGER NOT NULL,
  counted          INTEGER NOT NULL,
  counted_failures INTEGER NOT NULL,
  sum_us           INTEGER NOT NULL,
  max_us           INTEGER NOT NULL,
  p95_us           INTEGER NOT NULL,
  PRIMARY KEY (target_id, bucket)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollups_hour (
  target_id        INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  bucket           INTEGER NOT NULL,
  probes           INTEGER NOT NULL,
  failures         INTEGER NOT NULL,
  counted          INTEGER NOT NULL,
  counted_failures INTEGER NOT NULL,
  sum_us           INTEGER NOT NULL,
  max_us           INTEGER NOT NULL,
  p95_us           INTEGER NOT NULL,
  PRIMARY KEY (target_id, bucket)
) STRICT, WITHOUT ROWID;

-- The maintenance window a target is in now (at most one), so a restart keeps it.
CREATE TABLE maintenance (
  target_id  INTEGER PRIMARY KEY REFERENCES targets (target_id) ON DELETE CASCADE,
  until      INTEGER NOT NULL,
  reason     TEXT    NOT NULL,
  set_at     INTEGER NOT NULL
) STRICT;

-- Progress of the housekeeping job: 'minute_rolled_until', 'hour_rolled_until' (buckets before it are rolled up),
-- 'raw_pruned_before' (raw results before it may have been deleted).
CREATE TABLE housekeeping_marks (
  name TEXT    PRIMARY KEY,
  at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

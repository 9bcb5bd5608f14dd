-- History that lasts: rollups, the uptime flag on results, persisted maintenance, housekeeping marks.
-- Same meaning as migrations/0002_history.sql.
--
-- results.uptime_exclusion: 0 counts for uptime, 1 the target was in maintenance, 2 it had no verdict yet.
ALTER TABLE results ADD COLUMN uptime_exclusion smallint NOT NULL DEFAULT 0;

-- One row per target and minute (replaced by a packed table in 0004) / hour. bucket: ms of the bucket's start.
CREATE TABLE rollups_minute (
  target_id        integer NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  bucket           bigint  NOT NULL,
  probes           integer NOT NULL,
  failures         integer NOT NULL,
  counted          integer NOT NULL,
  counted_failures integer NOT NULL,
  sum_us           bigint  NOT NULL,
  max_us           integer NOT NULL,
  p95_us           integer NOT NULL,
  PRIMARY KEY (target_id, bucket)
);

CREATE TABLE rollups_hour (
  bucket           bigint  NOT NULL,
  sum_us           bigint  NOT NULL,
  target_id        integer NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  probes           integer NOT NULL,
  failures         integer NOT NULL,
  counted          integer NOT NULL,
  counted_failures integer NOT NULL,
  max_us           integer NOT NULL,
  p95_us           integer NOT NULL,
  PRIMARY KEY (target_id, bucket)
);

-- The maintenance window a target is in now (at most one), so a restart keeps it.
CREATE TABLE maintenance (
  target_id integer PRIMARY KEY REFERENCES targets (target_id) ON DELETE CASCADE,
  until     bigint  NOT NULL,
  set_at    bigint  NOT NULL,
  reason    text    NOT NULL
);

-- Progress of the housekeeping job: 'minute_rolled_until', 'hour_rolled_until', 'raw_pruned_before'.
CREATE TABLE housekeeping_marks (
  name text   PRIMARY KEY,
  at   bigint NOT NULL
);

-- Minute rollups keyed hour first. Each minute's rollup rewrites the current hour's row of every target; keyed
-- (target_id, hour), those rows sat one on each page among the target's older hours, so a rollup of 10,000
-- targets rewrote ~10,000 pages, more the longer the retention (90 days: ~2,160 rows a target). Keyed
-- (hour, target_id), the current hour's rows are side by side on a few hundred pages. The index serves the reads
-- and pruning of one target's hours; it changes once per target and hour, not every minute.
CREATE TABLE rollups_minute_by_hour (
  target_id INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  hour      INTEGER NOT NULL,
  minutes   BLOB    NOT NULL,
  PRIMARY KEY (hour, target_id)
) STRICT, WITHOUT ROWID;

INSERT INTO rollups_minute_by_hour (target_id, hour, minutes) SELECT target_id, hour, minutes FROM rollups_minute;

DROP TABLE rollups_minute;

ALTER TABLE rollups_minute_by_hour RENAME TO rollups_minute;

CREATE INDEX rollups_minute_by_target ON rollups_minute (target_id, hour);

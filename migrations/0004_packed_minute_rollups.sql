-- Minute rollups packed per target and hour (see src/store/rollup.ts packMinutes): at one probe every 30 s, a
-- row per minute cost ~30 bytes, as much as the raw results it summarises; 60 packed minutes cost ~11 bytes each.
-- The minute rollups of 0002 are dropped and rolled up again from the raw results still kept.
DROP TABLE rollups_minute;

CREATE TABLE rollups_minute (
  target_id INTEGER NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  hour      INTEGER NOT NULL,
  minutes   BLOB    NOT NULL,
  PRIMARY KEY (target_id, hour)
) STRICT, WITHOUT ROWID;

DELETE FROM housekeeping_marks WHERE name = 'minute_rolled_until';

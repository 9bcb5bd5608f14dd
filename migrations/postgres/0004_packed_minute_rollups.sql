-- Minute rollups packed per target and hour (src/store/rollup.ts packMinutes), as migrations/0004.
DROP TABLE rollups_minute;

CREATE TABLE rollups_minute (
  hour      bigint  NOT NULL,
  target_id integer NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  minutes   bytea   NOT NULL,
  PRIMARY KEY (target_id, hour)
);

DELETE FROM housekeeping_marks WHERE name = 'minute_rolled_until';

-- Vantage points (`site:` in the config): instances with different sites each probe every target, and keep their
-- results apart. A target is now one row per site and name, so every per-target table (results, rollups, state
-- transitions, deep checks, maintenance) is per site without touching those tables. Rows written before this
-- migration keep site '', the unnamed default site. SQLite has no such migration: one SQLite file is one site.
ALTER TABLE targets ADD COLUMN site text NOT NULL DEFAULT '';
ALTER TABLE targets DROP CONSTRAINT targets_name_key;
ALTER TABLE targets ADD CONSTRAINT targets_site_name_key UNIQUE (site, name);

-- The live state of each target as its site's probing instance sees it now, so that any instance's API shows every
-- site. Written by the instance probing the target, at each flush (only rows that changed); a row not refreshed for
-- a few probe intervals means that site's probing has stopped (the API then shows that site as stale).
-- updated_at is PostgreSQL's clock (ms), so instances with skewed clocks still agree on how old a row is.
CREATE TABLE target_states (
  target_id             integer PRIMARY KEY REFERENCES targets (target_id) ON DELETE CASCADE,
  updated_at            bigint   NOT NULL,
  since                 bigint,
  last_at               bigint,
  cert_not_after        bigint,
  interval_ms           integer  NOT NULL,
  consecutive_failures  integer  NOT NULL,
  consecutive_successes integer  NOT NULL,
  duration_us           integer,
  status_code           smallint,
  last_ok               boolean,
  state                 text     NOT NULL,
  error_kind            text,
  message               text,
  cert_sha256           text
);
CREATE INDEX target_states_updated_at ON target_states (updated_at);

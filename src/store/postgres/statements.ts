// The PostgreSQL store's statements, named so node-postgres prepares each once per connection.
// Counts and sums are cast to int8, which the connection parses to a number.
import { SELECT_RESULTS, SSTP_CHECK_COLUMNS, TRANSITION_COLUMNS } from '../columns.js';
import type { Statement } from './connection.js';

const s = (name: string, text: string): Statement => ({ name, text });

/** Deletes at most $3 rows below $2 of the targets $1, oldest first; its row count says how many. */
function oldestOf(name: string, table: string, key: string): Statement {
  return s(
    name,
    `SELECT min(o.k) AS at FROM unnest($1::int4[]) AS b(id) CROSS JOIN LATERAL
       (SELECT ${key} AS k FROM ${table} t WHERE t.target_id = b.id ORDER BY ${key} LIMIT 1) o`,
  );
}

function pruneOldest(name: string, table: string, key: string): Statement {
  return s(
    name,
    `WITH doomed AS (SELECT target_id, ${key} FROM ${table} WHERE target_id = ANY($1::int4[]) AND ${key} < $2 ORDER BY target_id, ${key} LIMIT $3)
     DELETE FROM ${table} t USING doomed d WHERE t.target_id = d.target_id AND t.${key} = d.${key}`,
  );
}

export const SQL = {
  upsertTargets: s(
    'upsert_targets',
    `INSERT INTO targets (site, name, group_name, role, url, created_at)
     SELECT $6, t.name, t.group_name, t.role, t.url, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t (name, group_name, role, url)
     ON CONFLICT (site, name) DO UPDATE SET group_name = excluded.group_name, role = excluded.role, url = excluded.url
     WHERE targets.group_name <> excluded.group_name OR targets.role <> excluded.role OR targets.url <> excluded.url`,
  ),
  /** This site's targets (each site has its own rows, so its own history). */
  selectTargets: s('select_targets', 'SELECT target_id, name FROM targets WHERE site = $1'),
  /** Every site's targets: housekeeping rolls up and prunes them all, whichever instance runs it. */
  allTargetIds: s('all_target_ids', 'SELECT target_id FROM targets ORDER BY target_id'),
  selectSites: s('select_sites', 'SELECT DISTINCT site FROM targets ORDER BY site'),
  targetAt: s('target_at', 'SELECT target_id FROM targets WHERE site = $1 AND name = $2'),
  clock: s('clock', 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now'),
  /**
   * Live states, one row per target. A row never goes back to an older result: an instance that stopped probing a
   * target (another instance of its site took it over) cannot overwrite the newer state the prober wrote.
   */
  upsertStates: s(
    'upsert_states',
    `INSERT INTO target_states (target_id, updated_at, since, last_at, cert_not_after, interval_ms, consecutive_failures,
       consecutive_successes, duration_us, status_code, last_ok, state, error_kind, message, cert_sha256)
     SELECT s.target_id, (extract(epoch FROM clock_timestamp()) * 1000)::int8, s.since, s.last_at, s.cert_not_after, s.interval_ms,
       s.consecutive_failures, s.consecutive_successes, s.duration_us, s.status_code, s.last_ok, s.state, s.error_kind, s.message, s.cert_sha256
     FROM unnest($1::int4[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int4[], $7::int4[], $8::int4[], $9::int2[],
       $10::bool[], $11::text[], $12::text[], $13::text[], $14::text[])
       AS s (target_id, since, last_at, cert_not_after, interval_ms, consecutive_failures, consecutive_successes, duration_us,
         status_code, last_ok, state, error_kind, message, cert_sha256)
     ON CONFLICT (target_id) DO UPDATE SET updated_at = excluded.updated_at, since = excluded.since, last_at = excluded.last_at,
       cert_not_after = excluded.cert_not_after, interval_ms = excluded.interval_ms, consecutive_failures = excluded.consecutive_failures,
       consecutive_successes = excluded.consecutive_successes, duration_us = excluded.duration_us, status_code = excluded.status_code,
       last_ok = excluded.last_ok, state = excluded.state, error_kind = excluded.error_kind, message = excluded.message,
       cert_sha256 = excluded.cert_sha256
     WHERE coalesce(excluded.last_at, -1) >= coalesce(target_states.last_at, -1)`,
  ),
  /** The live states written at or after $1 (PostgreSQL's clock), every site's. */
  statesSince: s(
    'states_since',
    `SELECT s.target_id, t.site, t.name, s.updated_at, s.since, s.last_at, s.cert_not_after, s.interval_ms, s.consecutive_failures,
       s.consecutive_successes, s.duration_us, s.status_code, s.last_ok, s.state, s.error_kind, s.message, s.cert_sha256
     FROM target_states s JOIN targets t USING (target_id) WHERE s.updated_at >= $1`,
  ),
  insertCertificates: s('insert_certificates', 'INSERT INTO certificates (sha256) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING'),
  selectCertificates: s('select_certificates', 'SELECT certificate_id, sha256 FROM certificates WHERE sha256 = ANY($1::text[])'),
  history: s('history', `${SELECT_RESULTS} WHERE r.target_id = $1 AND r.at BETWEEN $2 AND $3 ORDER BY r.at DESC LIMIT $4`),
  lastResult: s('last_result', `${SELECT_RESULTS} WHERE r.target_id = $1 ORDER BY r.at DESC LIMIT 1`),
  lastTransition: s('last_transition', `SELECT ${TRANSITION_COLUMNS} FROM state_transitions WHERE target_id = $1 ORDER BY at DESC LIMIT 1`),
  transitionBefore: s(
    'transition_before',
    `SELECT ${TRANSITION_COLUMNS} FROM state_transitions WHERE target_id = $1 AND at < $2 ORDER BY at DESC LIMIT 1`,
  ),
  transitionsBetween: s(
    'transitions_between',
    `SELECT ${TRANSITION_COLUMNS} FROM state_transitions WHERE target_id = $1 AND at BETWEEN $2 AND $3 ORDER BY at LIMIT 100000`,
  ),
  transitionAfter: s(
    'transition_after',
    `SELECT ${TRANSITION_COLUMNS} FROM state_transitions WHERE target_id = $1 AND at > $2 ORDER BY at LIMIT 1`,
  ),
  lastSstpCheck: s('last_sstp_check', `SELECT ${SSTP_CHECK_COLUMNS} FROM sstp_checks WHERE target_id = $1 ORDER BY at DESC LIMIT 1`),
  rawUptime: s(
    'raw_uptime',
    `SELECT count(*)::int8 AS probes, count(*) FILTER (WHERE error_kind <> 0)::int8 AS failures FROM results
     WHERE target_id = $1 AND at >= $2 AND at < $3 AND uptime_exclusion = 0`,
  ),
  hoursUptime: s(
    'hours_uptime',
    `SELECT coalesce(sum(counted), 0)::int8 AS probes, coalesce(sum(counted_failures), 0)::int8 AS failures FROM rollups_hour
     WHERE target_id = $1 AND bucket >= $2 AND bucket < $3`,
  ),
  hoursPage: s(
    'hours_page',
    `SELECT bucket, probes, failures, sum_us, max_us, p95_us FROM rollups_hour
     WHERE target_id = $1 AND bucket BETWEEN $2 AND $3 ORDER BY bucket DESC LIMIT $4`,
  ),
  minutesPage: s(
    'minutes_page',
    'SELECT hour, minutes FROM rollups_minute WHERE target_id = $1 AND hour BETWEEN $2 AND $3 ORDER BY hour DESC LIMIT $4',
  ),
  minutesRange: s('minutes_range', 'SELECT hour, minutes FROM rollups_minute WHERE target_id = $1 AND hour BETWEEN $2 AND $3'),
  /** The newest transition and maintenance window of each of the targets $1 that has either. */
  recordedStates: s(
    'recorded_states',
    `SELECT t.target_id, s.at, s.from_state, s.to_state, s.cause, s.message, m.until, m.reason
     FROM unnest($1::int4[]) AS t (target_id)
     LEFT JOIN maintenance m ON m.target_id = t.target_id
     LEFT JOIN LATERAL (SELECT ${TRANSITION_COLUMNS} FROM state_transitions n WHERE n.target_id = t.target_id ORDER BY n.at DESC LIMIT 1) s ON true
     WHERE s.at IS NOT NULL OR m.target_id IS NOT NULL`,
  ),
  selectMaintenance: s('select_maintenance', 'SELECT until, reason FROM maintenance WHERE target_id = $1'),
  /** This site's recorded windows. */
  selectMaintenanceWindows: s(
    'select_maintenance_windows',
    'SELECT m.target_id, m.until, m.reason FROM maintenance m JOIN targets t USING (target_id) WHERE t.site = $1',
  ),
  /** A window is about the server: it is recorded for the target $1 of every site. */
  upsertMaintenance: s(
    'upsert_maintenance',
    `INSERT INTO maintenance (target_id, until, reason, set_at) SELECT target_id, $2, $3, $4 FROM targets WHERE name = $1
     ON CONFLICT (target_id) DO UPDATE SET until = excluded.until, reason = excluded.reason, set_at = excluded.set_at`,
  ),
  deleteMaintenance: s('delete_maintenance', 'DELETE FROM maintenance m USING targets t WHERE m.target_id = t.target_id AND t.name = $1'),
  selectMarks: s('select_marks', 'SELECT name, at FROM housekeeping_marks'),
  upsertMark: s('upsert_mark', 'INSERT INTO housekeeping_marks (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = excluded.at'),
  /**
   * Every mark, locked until the transaction ends (in name order, so writers never deadlock): a write that decides
   * whether its rows are late, and the rollup that moves a mark past them, take turns.
   */
  lockMarks: s('lock_marks', 'SELECT name, at FROM housekeeping_marks ORDER BY name FOR UPDATE'),
  selectMark: s('select_mark', 'SELECT at FROM housekeeping_marks WHERE name = $1'),
  /** One mark, locked until the transaction ends. */
  lockMark: s('lock_mark', 'SELECT at FROM housekeeping_marks WHERE name = $1 FOR UPDATE'),

  // Housekeeping: a few targets per statement (target_id = ANY(...) walks the primary key once per target).
  /** The oldest result at or after $1 over every target: one index probe per target. */
  firstResultAt: s(
    'first_result_at',
    `SELECT min(f.at) AS at FROM targets t CROSS JOIN LATERAL
       (SELECT r.at FROM results r WHERE r.target_id = t.target_id AND r.at >= $1 ORDER BY r.at LIMIT 1) f`,
  ),
  /**
   * The raw rows of [$2, $3) of the first $4 targets from id $1 on that have any there: the targets (every site's)
   * are walked and each one's window sought by its key in the server, so targets without rows cost no round trip.
   */
  windowSamples: s(
    'window_samples',
    `WITH batch AS (
       SELECT t.target_id FROM targets t
       WHERE t.target_id >= $1 AND EXISTS (SELECT 1 FROM results r WHERE r.target_id = t.target_id AND r.at >= $2 AND r.at < $3)
       ORDER BY t.target_id LIMIT $4)
     SELECT r.target_id, r.at, r.error_kind, r.uptime_exclusion, r.duration_us
     FROM batch b JOIN results r ON r.target_id = b.target_id AND r.at >= $2 AND r.at < $3`,
  ),
  minutesOfHours: s(
    'minutes_of_hours',
    'SELECT target_id, hour, minutes FROM rollups_minute WHERE target_id = ANY($1::int4[]) AND hour >= $2 AND hour < $3',
  ),
  upsertMinutes: s(
    'upsert_minutes',
    `INSERT INTO rollups_minute (target_id, hour, minutes) SELECT * FROM unnest($1::int4[], $2::int8[], $3::bytea[])
     ON CONFLICT (target_id, hour) DO UPDATE SET minutes = excluded.minutes`,
  ),
  upsertHours: s(
    'upsert_hours',
    `INSERT INTO rollups_hour (target_id, bucket, probes, failures, counted, counted_failures, sum_us, max_us, p95_us)
     SELECT * FROM unnest($1::int4[], $2::int8[], $3::int4[], $4::int4[], $5::int4[], $6::int4[], $7::int8[], $8::int4[], $9::int4[])
     ON CONFLICT (target_id, bucket) DO UPDATE SET probes = excluded.probes, failures = excluded.failures,
       counted = excluded.counted, counted_failures = excluded.counted_failures, sum_us = excluded.sum_us,
       max_us = excluded.max_us, p95_us = excluded.p95_us`,
  ),
  /** Per table, the oldest row of a batch of targets a prune could delete: what a prune left sets its task's floor. */
  oldestResult: oldestOf('oldest_result', 'results', 'at'),
  oldestMinute: oldestOf('oldest_minute', 'rollups_minute', 'hour'),
  oldestHour: oldestOf('oldest_hour', 'rollups_hour', 'bucket'),
  oldestSstpCheck: oldestOf('oldest_sstp_check', 'sstp_checks', 'at'),
  /** The newest transition of each target is kept whatever its age: the oldest of the others. */
  oldestPrunableTransition: s(
    'oldest_prunable_transition',
    `SELECT min(s.at) AS at FROM state_transitions s WHERE s.target_id = ANY($1::int4[])
       AND s.at < (SELECT max(n.at) FROM state_transitions n WHERE n.target_id = s.target_id)`,
  ),
  pruneRaw: pruneOldest('prune_raw', 'results', 'at'),
  pruneMinutes: pruneOldest('prune_minutes', 'rollups_minute', 'hour'),
  pruneHours: pruneOldest('prune_hours', 'rollups_hour', 'bucket'),
  pruneSstpChecks: pruneOldest('prune_sstp_checks', 'sstp_checks', 'at'),
  /** Transitions are few; each target keeps its newest one whatever its age (the state to restore). */
  pruneTransitions: s(
    'prune_transitions',
    `WITH doomed AS (SELECT s.target_id, s.at FROM state_transitions s WHERE s.target_id = ANY($1::int4[]) AND s.at < $2
       AND s.at < (SELECT max(n.at) FROM state_transitions n WHERE n.target_id = s.target_id) ORDER BY s.target_id, s.at LIMIT $3)
     DELETE FROM state_transitions t USING doomed d WHERE t.target_id = d.target_id AND t.at = d.at`,
  ),
} as const;

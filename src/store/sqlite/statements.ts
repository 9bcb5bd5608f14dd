// Every SQL statement of the SQLite store, prepared once when the store opens.
import type Database from 'better-sqlite3';
import { SELECT_RESULTS, SSTP_CHECK_COLUMNS, TRANSITION_COLUMNS } from '../columns.js';
import type { SelectedHour, SelectedResult, SelectedTransition } from '../codec.js';
import type { SelectedRecordedState } from '../recorded-states.js';
import type { SelectedSstpCheck } from '../sstp-checks.js';

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
    upsertTarget: db.prepare<[string, string, string, string, number]>(
      `INSERT INTO targets (name, group_name, role, url, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET group_name = excluded.group_name, role = excluded.role, url = excluded.url
       WHERE group_name <> excluded.group_name OR role <> excluded.role OR url <> excluded.url`,
    ),
    selectTargets: db.prepare<[], { target_id: number; name: string }>('SELECT target_id, name FROM targets'),
    selectCertificate: db.prepare<[string], { certificate_id: number }>(
      'SELECT certificate_id FROM certificates WHERE sha256 = ?',
    ),
    insertCertificate: db.prepare<[string]>('INSERT INTO certificates (sha256) VALUES (?)'),
    insertResult: db.prepare<
      [number, number, number, number | null, number, number | null, number | null, number | null, number | null,
        bigint | string | null, bigint | string | null, number | null, string | null, number]
    >(
      `INSERT INTO results (target_id, at, error_kind, status_code, duration_us, dns_us, connect_us, tls_us,
         processing_us, http_version, tls_version, certificate_id, message, uptime_exclusion)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    insertTransition: db.prepare<[number, number, string, string, string | null, string | null]>(
      `INSERT INTO state_transitions (target_id, at, from_state, to_state, cause, message)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    insertSstpCheck: db.prepare<
      [number, number, number, number, number | null, number | null, number, number | null, number | null, number | null,
        number | null, number | null, number | null, number | null, number | null, number | null, number, string | null,
        string | null, string | null]
    >(
      `INSERT INTO sstp_checks (target_id, ${SSTP_CHECK_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    lastSstpCheck: db.prepare<[number], SelectedSstpCheck>(
      `SELECT ${SSTP_CHECK_COLUMNS} FROM sstp_checks WHERE target_id = ? ORDER BY at DESC LIMIT 1`,
    ),
    sstpCheckPruneBoundary: db.prepare<[number, number, number], { at: number }>(
      'SELECT at FROM sstp_checks WHERE target_id = ? AND at < ? ORDER BY at LIMIT 1 OFFSET ?',
    ),
    pruneSstpChecks: db.prepare<[number, number]>('DELETE FROM sstp_checks WHERE target_id = ? AND at < ?'),
    history: db.prepare<[number, number, number, number], SelectedResult>(
      `${SELECT_RESULTS} WHERE r.target_id = ? AND r.at BETWEEN ? AND ? ORDER BY r.at DESC LIMIT ?`,
    ),
    lastResult: db.prepare<[number], SelectedResult>(
      `${SELECT_RESULTS} WHERE r.target_id = ? ORDER BY r.at DESC LIMIT 1`,
    ),
    lastTransition: db.prepare<[number], SelectedTransition>(
      `SELECT ${TRANSITION_COLUMNS} FROM state_transitions
       WHERE target_id = ? ORDER BY at DESC LIMIT 1`,
    ),
    transitionBefore: db.prepare<[number, number], SelectedTransition>(
      `SELECT ${TRANSITION_COLUMNS} FROM state_transitions
       WHERE target_id = ? AND at < ? ORDER BY at DESC LIMIT 1`,
    ),
    transitionsBetween: db.prepare<[number, number, number], SelectedTransition>(
      `SELECT ${TRANSITION_COLUMNS} FROM state_transitions
       WHERE target_id = ? AND at BETWEEN ? AND ? ORDER BY at LIMIT 100000`,
    ),
    transitionAfter: db.prepare<[number, number], SelectedTransition>(
      `SELECT ${TRANSITION_COLUMNS} FROM state_transitions
       WHERE target_id = ? AND at > ? ORDER BY at LIMIT 1`,
    ),
    rawUptime: db.prepare<[number, number, number], { probes: number; failures: number }>(
      `SELECT count(*) AS probes, coalesce(sum(error_kind <> 0), 0) AS failures FROM results
       WHERE target_id = ? AND at >= ? AND at < ? AND uptime_exclusion = 0`,
    ),
    firstResultAt: db.prepare<[number], { at: number | null }>(
      // Every target's oldest row at or after a time, each found by its key, in one statement.
      'SELECT min((SELECT min(at) FROM results r WHERE r.target_id = t.target_id AND r.at >= ?)) AS at FROM targets t',
    ),
    /**
     * The raw rows of [from, to) of every target from an id on, target by target: one statement walks the targets and
     * seeks each one's rows by its key (targets without rows in the window cost a seek, and no row). Rows come as
     * arrays [target_id, at, error_kind, uptime_exclusion, duration_us]: a minute's rollup reads one per probe.
     */
    windowSamples: db
      .prepare<[number, number, number], [targetId: number, at: number, errorKind: number, excluded: number, durationUs: number]>(
        `SELECT r.target_id, r.at, r.error_kind, r.uptime_exclusion, r.duration_us
         FROM targets t CROSS JOIN results r ON r.target_id = t.target_id AND r.at >= ? AND r.at < ?
         WHERE t.target_id >= ? ORDER BY t.target_id`,
      )
      .raw(true),
    rawPruneBoundary: db.prepare<[number, number, number], { at: number }>(
      'SELECT at FROM results WHERE target_id = ? AND at < ? ORDER BY at LIMIT 1 OFFSET ?',
    ),
    pruneRaw: db.prepare<[number, number]>('DELETE FROM results WHERE target_id = ? AND at < ?'),
    /** A target's oldest row a prune could delete, one per table: what is left after a prune sets its task's floor. */
    oldestResult: db.prepare<[number], { at: number | null }>('SELECT min(at) AS at FROM results WHERE target_id = ?'),
    oldestSstpCheck: db.prepare<[number], { at: number | null }>('SELECT min(at) AS at FROM sstp_checks WHERE target_id = ?'),
    /** The newest transition is kept whatever its age: the oldest of the others. */
    oldestPrunableTransition: db.prepare<[number, number], { at: number | null }>(
      'SELECT min(at) AS at FROM state_transitions WHERE target_id = ? AND at < (SELECT max(at) FROM state_transitions WHERE target_id = ?)',
    ),
    pruneTransitions: db.prepare<[number, number, number]>(
      `DELETE FROM state_transitions WHERE target_id = ? AND at < ?
         AND at < (SELECT max(at) FROM state_transitions WHERE target_id = ?)`,
    ),
    /** The newest transition and maintenance window of each target of the JSON array of ids $1 that has either. */
    recordedStates: db.prepare<[string], SelectedRecordedState>(
      `SELECT j.value AS target_id, s.at, s.from_state, s.to_state, s.cause, s.message, m.until, m.reason
       FROM json_each(?) j
       LEFT JOIN maintenance m ON m.target_id = j.value
       LEFT JOIN state_transitions s ON s.target_id = j.value
         AND s.at = (SELECT n.at FROM state_transitions n WHERE n.target_id = j.value ORDER BY n.at DESC LIMIT 1)
       WHERE s.at IS NOT NULL OR m.target_id IS NOT NULL`,
    ),
    selectMaintenance: db.prepare<[number], { until: number; reason: string }>(
      'SELECT until, reason FROM maintenance WHERE target_id = ?',
    ),
    upsertMaintenance: db.prepare<[number, number, string, number]>(
      `INSERT INTO maintenance (target_id, until, reason, set_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (target_id) DO UPDATE SET until = excluded.until, reason = excluded.reason, set_at = excluded.set_at`,
    ),
    deleteMaintenance: db.prepare<[number]>('DELETE FROM maintenance WHERE target_id = ?'),
    selectMaintenanceWindows: db.prepare<[], { target_id: number; until: number; reason: string }>(
      'SELECT target_id, until, reason FROM maintenance',
    ),
    selectMarks: db.prepare<[], { name: string; at: number }>('SELECT name, at FROM housekeeping_marks'),
    upsertMark: db.prepare<[string, number]>(
      'INSERT INTO housekeeping_marks (name, at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET at = excluded.at',
    ),
    hours: prepareRollupStatements(db, 'rollups_hour'),
    minutes: {
      get: db.prepare<[number, number], { minutes: Buffer }>('SELECT minutes FROM rollups_minute WHERE target_id = ? AND hour = ?'),
      upsert: db.prepare<[number, number, Buffer]>(
        `INSERT INTO rollups_minute (target_id, hour, minutes) VALUES (?, ?, ?)
         ON CONFLICT (target_id, hour) DO UPDATE SET minutes = excluded.minutes`,
      ),
      /** Newest first; iterated until a page is full. */
      range: db.prepare<[number, number, number], { hour: number; minutes: Buffer }>(
        'SELECT hour, minutes FROM rollups_minute WHERE target_id = ? AND hour BETWEEN ? AND ? ORDER BY hour DESC',
      ),
      pruneBoundary: db.prepare<[number, number, number], { hour: number }>(
        'SELECT hour FROM rollups_minute WHERE target_id = ? AND hour < ? ORDER BY hour LIMIT 1 OFFSET ?',
      ),
      prune: db.prepare<[number, number]>('DELETE FROM rollups_minute WHERE target_id = ? AND hour < ?'),
      oldest: db.prepare<[number], { at: number | null }>('SELECT min(hour) AS at FROM rollups_minute WHERE target_id = ?'),
    },
  };
}

function prepareRollupStatements(db: Database.Database, table: 'rollups_hour') {
  return {
    upsert: db.prepare<[number, number, number, number, number, number, number, number, number]>(
      `INSERT INTO ${table} (target_id, bucket, probes, failures, counted, counted_failures, sum_us, max_us, p95_us)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (target_id, bucket) DO UPDATE SET probes = excluded.probes, failures = excluded.failures,
         counted = excluded.counted, counted_failures = excluded.counted_failures, sum_us = excluded.sum_us,
         max_us = excluded.max_us, p95_us = excluded.p95_us`,
    ),
    page: db.prepare<[number, number, number, number], SelectedHour>(
      `SELECT bucket, probes, failures, sum_us, max_us, p95_us FROM ${table}
       WHERE target_id = ? AND bucket BETWEEN ? AND ? ORDER BY bucket DESC LIMIT ?`,
    ),
    uptime: db.prepare<[number, number, number], { probes: number; failures: number }>(
      `SELECT coalesce(sum(counted), 0) AS probes, coalesce(sum(counted_failures), 0) AS failures FROM ${table}
       WHERE target_id = ? AND bucket >= ? AND bucket < ?`,
    ),
    pruneBoundary: db.prepare<[number, number, number], { bucket: number }>(
      `SELECT bucket FROM ${table} WHERE target_id = ? AND bucket < ? ORDER BY bucket LIMIT 1 OFFSET ?`,
    ),
    prune: db.prepare<[number, number]>(`DELETE FROM ${table} WHERE target_id = ? AND bucket < ?`),
    oldest: db.prepare<[number], { at: number | null }>(`SELECT min(bucket) AS at FROM ${table} WHERE target_id = ?`),
  };
}

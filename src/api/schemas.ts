import Type, { type Static, type TSchema } from 'typebox';
import { ERROR_KINDS, type ErrorKind } from '../probe/types.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'machine-readable: bad_request, not_found, unauthorized, not_ready, internal' }),
      message: Type.String(),
    }),
  },
  { $id: 'ErrorBody' },
);

export const TargetStateSchema = Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unknown'), Type.Literal('maintenance')]);
export const GroupStateSchema = Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down'), Type.Literal('unknown')]);
export const ErrorKindSchema = Type.Unsafe<ErrorKind>({ type: 'string', enum: [...ERROR_KINDS] });

export const ResultSchema = Type.Object({
  at: Timestamp,
  ok: Type.Boolean(),
  error_kind: ErrorKindSchema,
  message: Type.String(),
  status_code: Nullable(Type.Integer()),
  http_version: Nullable(Type.String()),
  duration_ms: Type.Number(),
  phases_ms: Type.Object({
    dns: Type.Optional(Type.Number()),
    connect: Type.Optional(Type.Number()),
    tls: Type.Optional(Type.Number()),
    processing: Type.Optional(Type.Number()),
  }),
  tls_version: Nullable(Type.String()),
  certificate_sha256: Nullable(Type.String()),
});

export const CertificateSchema = Type.Object({
  subject: Type.String(),
  issuer: Type.String(),
  san: Type.Array(Type.String()),
  not_before: Timestamp,
  not_after: Timestamp,
  days_left: Type.Number({ description: 'days until not_after, fractional, negative once expired' }),
  sha256: Type.String(),
  key_type: Type.String(),
  key_bits: Nullable(Type.Integer()),
});

export const MaintenanceSchema = Type.Object({ until: Timestamp, reason: Type.String() });

export const TargetStatusSchema = Type.Object({
  name: Type.String(),
  group: Type.String(),
  role: Type.Union([Type.Literal('server'), Type.Literal('vip')]),
  url: Type.String(),
  hostname: Type.String(),
  state: TargetStateSchema,
  since: Nullable(Timestamp),
  consecutive_failures: Type.Integer(),
  consecutive_successes: Type.Integer(),
  last_result: Nullable(ResultSchema),
  certificate: Nullable(CertificateSchema),
  maintenance: Nullable(MaintenanceSchema),
});

export const GroupStatusSchema = Type.Object({
  name: Type.String(),
  hostname: Type.String(),
  state: GroupStateSchema,
  servers_up: Type.Integer(),
  servers_total: Type.Integer(),
});

export const StatusSchema = Type.Object({
  generated_at: Timestamp,
  summary: Type.Object({
    targets: Type.Integer(),
    up: Type.Integer(),
    down: Type.Integer(),
    unknown: Type.Integer(),
    maintenance: Type.Integer(),
  }),
  groups: Type.Array(GroupStatusSchema),
  targets: Type.Array(TargetStatusSchema),
});

export const TargetParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

/** A time bound: ISO 8601 or Unix milliseconds. Parsed by the route, so the message can name the bad value. */
const TimeBound = Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 time or Unix milliseconds' });

export const HistoryQuerySchema = Type.Object(
  {
    from: Type.Optional(TimeBound),
    to: Type.Optional(TimeBound),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    resolution: Type.Union([Type.Literal('raw'), Type.Literal('1m'), Type.Literal('1h')], {
      default: 'raw',
      description: 'raw results, or minute/hour rollups (complete buckets only; `from`/`to` select by bucket start)',
    }),
  },
  { additionalProperties: false },
);

export const RollupSchema = Type.Object({
  at: Type.String({ format: 'date-time', description: 'start of the bucket' }),
  probes: Type.Integer(),
  failures: Type.Integer(),
  avg_ms: Type.Number({ description: 'mean duration of every probe in the bucket, ok or failed' }),
  max_ms: Type.Number(),
  p95_ms: Type.Number({ description: 'exact nearest-rank 95th percentile of the raw durations of the bucket' }),
});

export const HistorySchema = Type.Object({
  items: Type.Array(Type.Union([ResultSchema, RollupSchema]), { description: 'newest first: results (raw) or rollups (1m, 1h)' }),
  next_cursor: Nullable(Type.String()),
});

export const UptimeQuerySchema = Type.Object(
  {
    window: Type.Union([Type.Literal('1h'), Type.Literal('24h'), Type.Literal('7d'), Type.Literal('30d')], { default: '24h' }),
  },
  { additionalProperties: false },
);

export const UptimeSchema = Type.Object({
  window: Type.String(),
  ratio: Nullable(Type.Number({ description: '(probes - failures) / probes; null when no probe counted' })),
  probes: Type.Integer({ description: 'probes that count: not in maintenance, and with a verdict (state not unknown)' }),
  failures: Type.Integer(),
});

export const IncidentsQuerySchema = Type.Object(
  {
    from: Type.Optional(TimeBound),
    to: Type.Optional(TimeBound),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000, description: 'newest incidents first, at most this many' }),
  },
  { additionalProperties: false },
);

export const IncidentSchema = Type.Object({
  started_at: Timestamp,
  ended_at: Nullable(Timestamp),
  duration_s: Type.Number({ description: 'so far, while the incident is open' }),
  cause: Nullable(ErrorKindSchema),
  message: Nullable(Type.String()),
});

export const IncidentsSchema = Type.Object({ items: Type.Array(IncidentSchema) });

export const MaintenanceBodySchema = Type.Object(
  {
    until: Type.String({ minLength: 1, maxLength: 40, description: 'end of the window: ISO 8601 time or Unix milliseconds, in the future' }),
    reason: Type.String({ maxLength: 500, default: '' }),
  },
  { additionalProperties: false },
);

export const ReadinessSchema = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Object({
    database: Type.Object({ ok: Type.Boolean(), reason: Nullable(Type.String()), pending_results: Type.Integer() }),
    scheduler: Type.Object({ ok: Type.Boolean() }),
  }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});

export type ResultJson = Static<typeof ResultSchema>;
export type CertificateJson = Static<typeof CertificateSchema>;
export type TargetStatusJson = Static<typeof TargetStatusSchema>;
export type GroupStatusJson = Static<typeof GroupStatusSchema>;
export type StatusJson = Static<typeof StatusSchema>;
export type HistoryQueryJson = Static<typeof HistoryQuerySchema>;

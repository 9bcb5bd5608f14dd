import Type, { type Static, type TSchema } from 'typebox';
import { ERROR_KINDS, type ErrorKind } from '../probe/types.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'machine-readable: bad_request, not_found, unauthorized, not_ready, overloaded, internal' }),
      message: Type.String(),
    }),
  },
  { $id: 'ErrorBody' },
);

/**
 * A route's error response: a reference to ErrorBody, so the OpenAPI document declares the shape once, typed as that
 * shape, so a handler's replies stay checked against its responses (a bare Type.Ref has no static type and would let
 * any reply through).
 */
export const ErrorRef = Type.Unsafe<Static<typeof ErrorBody>>(Type.Ref('ErrorBody'));

export const TargetStateSchema = Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unknown'), Type.Literal('maintenance')]);
export const GroupStateSchema = Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down'), Type.Literal('unknown')]);
export const ErrorKindSchema = Type.Unsafe<ErrorKind>({ type: 'string', enum: [...ERROR_KINDS] });

/** How far a deep SSTP check got (results of `check: sstp` targets' deep checks only). */
export const SstpDetailsSchema = Type.Object({
  stage_reached: Type.Union(
    [Type.Literal('none'), Type.Literal('transport'), Type.Literal('http'), Type.Literal('call_reply'), Type.Literal('disconnect_ack')],
    { description: 'none, transport (TCP+TLS), http (200 to SSTP_DUPLEX_POST), call_reply (Call Connect answered), disconnect_ack' },
  ),
  reply: Nullable(Type.Union([Type.Literal('ack'), Type.Literal('nak'), Type.Literal('abort'), Type.Literal('disconnect')])),
  stages_ms: Type.Object({
    http: Type.Optional(Type.Number({ description: 'SSTP_DUPLEX_POST -> HTTP 200' })),
    call: Type.Optional(Type.Number({ description: 'Call Connect Request -> reply' })),
    disconnect: Type.Optional(Type.Number({ description: 'Call Disconnect -> Call Disconnect Ack' })),
  }),
  hash_bitmask: Nullable(Type.Integer({ description: 'Crypto Binding Request hash protocols: 1 SHA-1, 2 SHA-256' })),
  status: Nullable(Type.Object({ code: Type.Integer(), attribute_id: Type.Integer() }, { description: 'Status Info of a Nak, Abort or Disconnect' })),
  disconnect_sent: Type.Boolean(),
  disconnect_acked: Type.Boolean(),
  abort_sent: Type.Boolean({ description: "the probe sent Call Abort: answering the server's Call Abort, or an invalid message from it ([MS-SSTP] 3.1.5.1)" }),
  warning: Nullable(Type.String({ description: 'an accepted call with a weakness: the Crypto Binding Request offers SHA-1 only' })),
  correlation_id: Type.String({ description: 'the SSTPCORRELATIONID sent, to find the check in the server logs' }),
});

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
  sstp: Type.Optional(SstpDetailsSchema),
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

const CertificatePositionSchema = Type.Union([Type.Literal('leaf'), Type.Literal('intermediate'), Type.Literal('root')]);

/** One certificate of the chain a target presented (leaf first; the root from the trust store when found). */
export const ChainCertificateSchema = Type.Object({
  ...CertificateSchema.properties,
  position: CertificatePositionSchema,
  serial_number: Type.String({ description: 'uppercase hex' }),
  ekus: Nullable(Type.Array(Type.String(), { description: 'Extended Key Usages by name (serverAuth, clientAuth) or OID; null: no EKU extension' })),
  is_ca: Type.Boolean(),
  crl_urls: Type.Array(Type.String()),
  ocsp_urls: Type.Array(Type.String()),
});

/** What an SSTP client checks on the presented chain. */
export const CertificateChecksSchema = Type.Object({
  server_auth_eku: Type.Boolean({ description: 'the leaf has the Server Authentication EKU' }),
  name_matches_hostname: Type.Boolean({ description: "the leaf names the group's hostname (RFC 6125 wildcards)" }),
  chain_trusted: Type.Boolean({ description: 'the chain leads to a trusted root (validity dates aside)' }),
  chain_error: Nullable(Type.String({ description: "OpenSSL's code when chain_trusted is false" })),
  earliest_expiry: Type.Object({
    not_after: Timestamp,
    days_left: Type.Number(),
    position: CertificatePositionSchema,
    subject: Type.String(),
    sha256: Type.String(),
  }),
  revoked: Nullable(Type.Boolean({ description: 'a certificate of the chain (leaf or intermediate) is revoked by its CRL or OCSP responder; null: no answer for the leaf yet' })),
});

const SignatureStateSchema = Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('unverified')], {
  description: 'signed by the issuing CA of the chain (OCSP: or a responder it delegated to); unverified: the issuer is not in the chain',
});

/** One CRL distribution point or OCSP responder of the chain, and its last check. */
export const RevocationSourceSchema = Type.Object({
  url: Type.String(),
  kind: Type.Union([Type.Literal('crl'), Type.Literal('ocsp')]),
  certificate: CertificatePositionSchema,
  subject: Type.String(),
  serial_number: Type.String(),
  checked_at: Nullable(Timestamp),
  reachable: Nullable(Type.Boolean({ description: 'null: not fetched yet' })),
  error: Nullable(Type.String()),
  http_status: Nullable(Type.Integer()),
  signature: Nullable(SignatureStateSchema),
  signature_problem: Nullable(Type.String({ description: 'why the signature is invalid or was not checked' })),
  this_update: Nullable(Timestamp),
  next_update: Nullable(Timestamp),
  revoked: Nullable(Type.Boolean({ description: 'this certificate is listed in the CRL (or its delta CRL), or the OCSP responder answers revoked; null: no answer yet' })),
  ocsp_status: Nullable(Type.Union([Type.Literal('good'), Type.Literal('revoked'), Type.Literal('unknown')], { description: "OCSP only: the responder's answer" })),
  revoked_at: Nullable(Timestamp),
  delta_crl: Nullable(
    Type.Object(
      {
        url: Type.String(),
        reachable: Type.Boolean(),
        error: Nullable(Type.String()),
        signature: Nullable(SignatureStateSchema),
        this_update: Nullable(Timestamp),
        next_update: Nullable(Timestamp),
      },
      { description: 'CRL only: the delta CRL the base CRL names (FreshestCRL); null when none' },
    ),
  ),
});

export const FindingSchema = Type.Object({
  code: Type.String({ description: 'servers_certificate_mismatch, vip_certificate_mismatch, offload_hash_mismatch, no_server_auth_eku, name_mismatch, chain_untrusted, certificate_expired, certificate_expires_soon, certificate_revoked, crl_unreachable, crl_expired, crl_expires_soon, crl_signature_invalid, delta_crl_unreachable, ocsp_unreachable, ocsp_signature_invalid, ocsp_response_expired, ocsp_unknown, revocation_unverified, ...' }),
  severity: Type.Union([Type.Literal('critical'), Type.Literal('warning')]),
  targets: Type.Array(Type.String()),
  message: Type.String(),
  fix: Type.String(),
});

export const CertificateConsistencySchema = Type.Object({
  servers: Nullable(Type.Boolean({ description: 'every server presents the same leaf; null: fewer than two seen' })),
  vip: Nullable(Type.Boolean({ description: "the VIP presents the servers' leaf (TLS re-encryption)" })),
  offload_hash: Nullable(Type.Boolean({ description: "the VIP's leaf is the group's offload_cert_sha256" })),
});

export const MaintenanceSchema = Type.Object({ until: Timestamp, reason: Type.String() });

export const OccurrenceSchema = Type.Object({ window: Type.String({ description: 'the name in maintenance_windows' }), start: Timestamp, end: Timestamp });

export const ScheduledMaintenanceSchema = Type.Object(
  {
    current: Nullable(OccurrenceSchema),
    next: Nullable(OccurrenceSchema),
  },
  { description: 'the configured maintenance windows covering it: the occurrence in progress and the next one to start' },
);

const SiteName = Type.String({ maxLength: 100, description: 'a site (`site:` of the instances probing from there); `default` is the unnamed one' });

export const SiteResultSchema = Type.Object(
  {
    at: Timestamp,
    ok: Type.Boolean(),
    error_kind: ErrorKindSchema,
    status_code: Nullable(Type.Integer()),
    duration_ms: Type.Number(),
    message: Type.String(),
  },
  { description: "the last result from that site, in brief (the full result is in that site's history: ?site=)" },
);

export const TargetSiteSchema = Type.Object({
  site: SiteName,
  state: Type.Union([TargetStateSchema], { description: 'the state seen from this site; unknown while stale' }),
  since: Nullable(Timestamp),
  stale: Type.Boolean({ description: 'no news from this site for 3 probe intervals and 15 s: its instances stopped probing or writing' }),
  updated_at: Nullable(Type.String({ format: 'date-time', description: "when the site's state was last written (null: this instance's own live state)" })),
  last_result: Nullable(SiteResultSchema),
});

export const SiteFindingSchema = Type.Object({
  code: Type.Union([Type.Literal('sites_disagree'), Type.Literal('site_stale')]),
  severity: Type.Union([Type.Literal('critical'), Type.Literal('warning')]),
  sites: Type.Array(SiteName, { description: 'the sites it is about (sites_disagree: those the target does not answer from)' }),
  message: Type.String(),
  fix: Type.String(),
});

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
  /** Present for targets with check: sstp: their last deep SSTP check (null until one ran). */
  last_sstp_result: Type.Optional(Nullable(ResultSchema)),
  certificate: Nullable(CertificateSchema),
  maintenance: Nullable(MaintenanceSchema),
  /** Null: no configured window covers the target (absent: this app has no window calendar). */
  scheduled_maintenance: Type.Optional(Nullable(ScheduledMaintenanceSchema)),
  certificate_chain: Type.Optional(Type.Array(ChainCertificateSchema)),
  certificate_checks: Type.Optional(Nullable(CertificateChecksSchema)),
  revocation: Type.Optional(Type.Array(RevocationSourceSchema)),
  /**
   * Present when several sites probe the targets (or this instance names its site): the target from each site.
   * `state` is then the combined state: maintenance, else the worst over the sites that are not stale.
   */
  sites: Type.Optional(Type.Array(TargetSiteSchema)),
  site_findings: Type.Optional(Type.Array(SiteFindingSchema, { description: 'what the sites disagreeing tells; empty when they agree' })),
});

export const GroupStatusSchema = Type.Object({
  name: Type.String(),
  hostname: Type.String(),
  state: GroupStateSchema,
  servers_up: Type.Integer(),
  servers_total: Type.Integer(),
  /** Windows naming the group in `groups:`; null: none does. */
  scheduled_maintenance: Type.Optional(Nullable(ScheduledMaintenanceSchema)),
  certificate_consistency: Type.Optional(CertificateConsistencySchema),
  findings: Type.Optional(Type.Array(FindingSchema, { description: 'certificate and load-balancer findings, most severe first' })),
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
  targets: Type.Array(TargetStatusSchema, {
    description: 'each target without certificate_chain, certificate_checks and revocation (GET /api/v1/targets/:name has them)',
  }),
  next_cursor: Nullable(Type.String({ description: 'pass as cursor for the next page; null on the last page (always null without limit)' })),
});

export const StatusQuerySchema = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unknown'), Type.Literal('maintenance')], { description: 'only targets in this state' })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'only the targets of this group (and only this group under groups)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'at most this many targets, then next_cursor; absent: the whole list' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const TargetParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

/** A time bound: ISO 8601 or Unix milliseconds. Parsed by the route, so the message can name the bad value. */
const TimeBound = Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 time or Unix milliseconds' });

export const HistoryQuerySchema = Type.Object(
  {
    from: Type.Optional(TimeBound),
    to: Type.Optional(TimeBound),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    site: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the site whose history to read (default: this instance's; `default` is the unnamed site)" })),
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
    site: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the site whose history to read (default: this instance's; `default` is the unnamed site)" })),
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
    site: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the site whose history to read (default: this instance's; `default` is the unnamed site)" })),
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
    ownership: Type.Optional(
      Type.Object({
        ok: Type.Boolean(),
        site: Type.String(),
        shards_owned: Type.Integer(),
        shards_total: Type.Integer(),
        peers: Type.Integer(),
        housekeeper: Type.Boolean(),
      }),
    ),
  }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});

export type ScheduledMaintenanceJson = Static<typeof ScheduledMaintenanceSchema>;
export type ResultJson = Static<typeof ResultSchema>;
export type SstpDetailsJson = Static<typeof SstpDetailsSchema>;
export type CertificateJson = Static<typeof CertificateSchema>;
export type ChainCertificateJson = Static<typeof ChainCertificateSchema>;
export type CertificateChecksJson = Static<typeof CertificateChecksSchema>;
export type RevocationSourceJson = Static<typeof RevocationSourceSchema>;
export type FindingJson = Static<typeof FindingSchema>;
export type TargetStatusJson = Static<typeof TargetStatusSchema>;
export type GroupStatusJson = Static<typeof GroupStatusSchema>;
export type StatusJson = Static<typeof StatusSchema>;
export type StatusQueryJson = Static<typeof StatusQuerySchema>;
export type HistoryQueryJson = Static<typeof HistoryQuerySchema>;
export type TargetSiteJson = Static<typeof TargetSiteSchema>;
export type SiteFindingJson = Static<typeof SiteFindingSchema>;

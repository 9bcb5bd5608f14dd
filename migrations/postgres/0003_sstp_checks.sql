-- Results of the deep SSTP check, apart from `results`. Same columns and codes as migrations/0003_sstp_checks.sql.
CREATE TABLE sstp_checks (
  at               bigint   NOT NULL,
  target_id        integer  NOT NULL REFERENCES targets (target_id) ON DELETE CASCADE,
  duration_us      integer  NOT NULL,
  dns_us           integer,
  connect_us       integer,
  tls_us           integer,
  http_us          integer,
  call_us          integer,
  disconnect_us    integer,
  hash_bitmask     integer,
  sstp_status      integer,
  status_attribute integer,
  status_code      integer,
  error_kind       smallint NOT NULL,
  stage            smallint NOT NULL,
  reply            smallint,
  disconnect       smallint NOT NULL,
  tls_version      text,
  correlation_id   text,
  message          text,
  PRIMARY KEY (target_id, at)
);

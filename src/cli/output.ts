/** Where a command writes: the real process streams in main.ts, buffers in tests. */
export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage:
  sstpwatch [serve] [--config FILE] [--log-format text|json]
                                             run the service (default command)
  sstpwatch check URL [--hostname H] [--offload] [--ca FILE] [--insecure]
                      [--timeout 5s] [--path P] [--expect 401] [--json] [--sstp]
                      [--offload-hash SHA256] [--no-revocation]
                      [--config FILE] [--warn-days N] [--critical-days N] [--slow-threshold 1s]
                                             probe one SSTP endpoint now and explain the result,
                                             its certificate chain, CRL/OCSP reachability, and
                                             (--offload-hash) the TLS-offload hash RRAS was given;
                                             thresholds as the config applies them to this URL
  sstpwatch config check [--config FILE]     validate a config file (and connect to a PostgreSQL database)
  sstpwatch migrate-store --from FILE.db --to postgres://USER@HOST:PORT/DB [--password-file FILE]
                                             copy an SQLite history into an empty PostgreSQL database
                                             and verify the row counts (password: the file, else PGPASSWORD)
  sstpwatch version | --version              print the version
  check --sstp URL ...                       the deep SSTP check instead: SSTP_DUPLEX_POST, Call Connect
                                             Request, then Call Disconnect; explains each stage

The config file is --config, else $SSTPWATCH_CONFIG, else ./sstpwatch.yml.
Logs: text on a terminal, JSON otherwise (--log-format or log.format to choose);
the level is $SSTPWATCH_LOG_LEVEL, else log.level, else info.
Exit codes: 0 ok/up, 1 down/invalid, 2 usage error.`;

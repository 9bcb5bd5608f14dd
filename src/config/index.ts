// The config module's public API: read, validate and resolve sstpwatch.yml.

export type {
  AuthConfig,
  Config,
  ConfigIssue,
  GroupConfig,
  ListenConfig,
  ProbeSettings,
  RetentionConfig,
  ServerTlsConfig,
  TargetConfig,
  TargetRole,
  TlsSettings,
} from './types.js';
export { ConfigError } from './types.js';
export { DurationError, formatDuration, parseDuration, tryParseDuration } from './duration.js';
export { CONFIG_PATH_ENV, DEFAULT_CONFIG_PATH, loadConfigFile, parseConfig, resolveConfigPath } from './load.js';
export type { ParseOptions } from './load.js';
export { readAuthToken, type AuthToken } from './token.js';
export { builtInProbeSettings, SSTP_PATH } from './defaults.js';
export { isHostname } from './readers.js';
export { parseListen } from './schema.js';

export type { ConfigErrorCode } from './config-error.js'
export { CONFIG_ERROR_CODES, ConfigError, ConfigErrors } from './config-error.js'
export { DEFAULT_CONFIG } from './default-topology.js'
export type { LoadConfigOptions } from './load-config.js'
export {
  CLIENT_ENV_VARS,
  CONFIG_ENV_VARS,
  loadConfig,
  PORT_ENV_PREFIX,
  portEnvVar,
} from './load-config.js'
export type {
  ConfigFile,
  DataCenterConfig,
  DataCenterStatus,
  LedgerConfig,
  LogLevel,
  RootCredentialsConfig,
  S3Config,
  SovraConfig,
  WitnessConfig,
} from './schema.js'
export {
  configFileSchema,
  DATA_CENTER_ID_PATTERN,
  DATA_CENTER_STATUSES,
  dataCenterSchema,
  LEDGER_READ_MODES,
  LOG_LEVELS,
  sovraConfigSchema,
} from './schema.js'

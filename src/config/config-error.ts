import { SovraError } from '../core/index.js'

/** Every code a configuration error can carry; a retired code is never reused. */
export const CONFIG_ERROR_CODES = [
  'ConfigFileNotFound',
  'InvalidConfigFile',
  'UnknownConfigKey',
  'InvalidConfigValue',
  'UnknownEnvironmentVariable',
  'InvalidEnvironmentVariable',
] as const

/** A configuration error code. */
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number]

/** Raised when the configuration cannot be loaded or is invalid; Sovra refuses to start. */
export class ConfigError extends SovraError<ConfigErrorCode> {
  constructor(code: ConfigErrorCode, message: string, options: { cause?: unknown } = {}) {
    super('config', code, message, options)
  }
}

/** Factory table for configuration errors. */
export const ConfigErrors = {
  fileNotFound: (file: string, cause?: unknown) =>
    new ConfigError(
      'ConfigFileNotFound',
      `Cannot read configuration file "${file}": it does not exist`,
      { cause },
    ),
  invalidFile: (file: string, reason: string, cause?: unknown) =>
    new ConfigError('InvalidConfigFile', `Cannot read configuration file "${file}": ${reason}`, {
      cause,
    }),
  unknownKey: (key: string, source: string) =>
    new ConfigError('UnknownConfigKey', `Unknown configuration key "${key}" in "${source}"`),
  invalidValue: (key: string, source: string, reason: string) =>
    new ConfigError(
      'InvalidConfigValue',
      `Invalid configuration value "${key}" in "${source}": ${reason}`,
    ),
  unknownEnv: (name: string, hint: string) =>
    new ConfigError('UnknownEnvironmentVariable', `Unknown environment variable "${name}"${hint}`),
  invalidEnv: (name: string, value: string, reason: string) =>
    new ConfigError(
      'InvalidEnvironmentVariable',
      `Invalid environment variable "${name}": ${reason}, got "${value}"`,
    ),
} as const

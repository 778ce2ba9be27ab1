import { pino } from 'pino'

/** The structured logger every module receives; never imported as a global. */
export type Logger = pino.Logger

/** Paths redacted wherever they appear in a log record: secrets never reach the log. */
const REDACT = [
  'secret',
  'secretKey',
  'secretAccessKey',
  '*.secret',
  '*.secretKey',
  '*.secretAccessKey',
  'headers.authorization',
  'headers["x-amz-security-token"]',
  'headers["x-amz-server-side-encryption-customer-key"]',
  'query["X-Amz-Signature"]',
  'query["X-Amz-Credential"]',
  'query["X-Amz-Security-Token"]',
]

/** Builds the root logger; `destination` lets tests capture output. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } }
  return destination === undefined
    ? pino(options)
    : pino(options, destination as pino.DestinationStream)
}

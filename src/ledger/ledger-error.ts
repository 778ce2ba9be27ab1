import { SovraError } from '../core/index.js'

/** Codes a ledger raises. Append only: a retired code is never reused. */
export const LEDGER_ERROR_CODES = [
  'Pushback',
  'Closed',
  'Aborted',
  'OutOfRange',
  'NotFound',
  'Corrupt',
  'StorageFailed',
  'EntryTooLarge',
  'ConfigInvalid',
  'MalformedNote',
  'UnverifiedNote',
  'InvalidSignature',
  'AmbiguousKey',
  'InvalidKey',
] as const
/** One of `LEDGER_ERROR_CODES`. */
export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number]

/** The one error class of the ledger domain; `code` is one of `LEDGER_ERROR_CODES`. */
export class LedgerError extends SovraError<LedgerErrorCode> {
  constructor(
    code: LedgerErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('ledger', code, message, options)
  }
}

/** Factory table for every LedgerError. */
export const LedgerErrors = {
  pushback: (origin: string, pending: number, max: number) =>
    new LedgerError(
      'Pushback',
      `Cannot append to ledger "${origin}": ${pending} entries await integration (limit ${max})`,
      { details: { origin, pending: String(pending), max: String(max) } },
    ),
  closed: (origin: string) =>
    new LedgerError('Closed', `Cannot use ledger "${origin}": it is closed`, {
      details: { origin },
    }),
  aborted: (what: string, cause?: unknown) =>
    new LedgerError('Aborted', `Cannot ${what}: the operation was aborted`, { cause }),
  outOfRange: (what: string, state: string) =>
    new LedgerError('OutOfRange', `Cannot ${what}: ${state}`),
  notFound: (what: string) =>
    new LedgerError('NotFound', `Cannot read ${what}: it does not exist`, {
      details: { what },
    }),
  corrupt: (what: string, state: string, cause?: unknown) =>
    new LedgerError('Corrupt', `Cannot read ${what}: ${state}`, { cause, details: { what } }),
  storageFailed: (what: string, cause: unknown) =>
    new LedgerError('StorageFailed', `Cannot ${what}: ${describe(cause)}`, { cause }),
  entryTooLarge: (size: number) =>
    new LedgerError(
      'EntryTooLarge',
      `Cannot append entry: it is ${size} bytes, entry bundles hold at most 65535`,
      { details: { size: String(size) } },
    ),
  configInvalid: (what: string, state: string) =>
    new LedgerError('ConfigInvalid', `Cannot open ledger: ${what} ${state}`),
  malformedNote: (state: string) => new LedgerError('MalformedNote', `Cannot open note: ${state}`),
  unverifiedNote: (state: string) =>
    new LedgerError('UnverifiedNote', `Cannot open note: ${state}`),
  invalidSignature: (name: string, keyId: string) =>
    new LedgerError(
      'InvalidSignature',
      `Cannot open note: the signature by "${name}" (key "${keyId}") does not verify`,
      { details: { name, keyId } },
    ),
  ambiguousKey: (name: string, keyId: string) =>
    new LedgerError(
      'AmbiguousKey',
      `Cannot open note: key "${name}+${keyId}" is configured more than once`,
      { details: { name, keyId } },
    ),
  invalidKey: (state: string) => new LedgerError('InvalidKey', `Cannot parse key: ${state}`),
} as const

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

/** True when `err` is a LedgerError. */
export function isLedgerError(err: unknown): err is LedgerError {
  return err instanceof LedgerError
}

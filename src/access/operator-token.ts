import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { join } from 'node:path'
import { atomicWrite, readIfExists } from '../core/index.js'

/** Every generated operator token starts with this, so leaked ones are easy to scan for. */
export const OPERATOR_TOKEN_PREFIX = 'sovra_op_'

/** Where the first start keeps the operator token: `<dataDir>/keys/operator.token` (0600). */
export function operatorTokenPath(dataDir: string): string {
  return join(dataDir, 'keys', 'operator.token')
}

/** SHA-256 of a token, lowercase hex: the only form the directory stores. */
export function hashOperatorToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** The part of the directory that keeps the token's hash. */
export interface OperatorTokenStore {
  operatorTokenHash(): Promise<string | null>
  initOperatorTokenHash(sha256: string): Promise<string>
}

/** Checks presented tokens against the one in force, in constant time. */
export interface OperatorTokenCheck {
  /** True when `presented` is the operator token. */
  matches(presented: string): boolean
}

/** The outcome of `ensureOperatorToken`. */
export interface OperatorToken {
  readonly check: OperatorTokenCheck
  /** The token, on the start that created it (to print once); null otherwise. */
  readonly created: string | null
}

/**
 * Makes sure an operator token exists. A configured token (`SOVRA_OPERATOR_TOKEN`) is used as is
 * and nothing is stored. Otherwise the first start draws 256 random bits, writes the token to
 * `keys/operator.token` (mode 0600, atomically) and stores only its SHA-256 in the directory, so a
 * stolen `directory.sqlite` does not reveal it.
 */
export async function ensureOperatorToken(options: {
  readonly store: OperatorTokenStore
  readonly dataDir: string
  readonly configured?: string | undefined
}): Promise<OperatorToken> {
  if (options.configured !== undefined) {
    return { check: checkAgainst(hashOperatorToken(options.configured)), created: null }
  }
  const stored = await options.store.operatorTokenHash()
  if (stored !== null) return { check: checkAgainst(stored), created: null }
  const token = `${OPERATOR_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
  // The file first: a crash before the hash is stored only leaves a file the next start replaces.
  await atomicWrite(operatorTokenPath(options.dataDir), `${token}\n`, { dirMode: 0o700 })
  const inForce = await options.store.initOperatorTokenHash(hashOperatorToken(token))
  return {
    check: checkAgainst(inForce),
    created: inForce === hashOperatorToken(token) ? token : null,
  }
}

/** The token kept by the first start on this machine, or undefined when there is none. */
export async function readOperatorTokenFile(dataDir: string): Promise<string | undefined> {
  const text = await readIfExists(operatorTokenPath(dataDir))
  const token = text?.trim()
  return token === undefined || token === '' ? undefined : token
}

function checkAgainst(sha256Hex: string): OperatorTokenCheck {
  const expected = Buffer.from(sha256Hex, 'hex')
  return {
    matches(presented) {
      // Both sides are SHA-256 digests, so the comparison is fixed-length and constant-time.
      const actual = createHash('sha256').update(presented, 'utf8').digest()
      return actual.length === expected.length && timingSafeEqual(actual, expected)
    },
  }
}

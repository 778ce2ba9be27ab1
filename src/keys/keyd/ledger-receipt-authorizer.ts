import { timingSafeEqual } from 'node:crypto'
import type { UnwrapAuthorizer, UnwrapDecision, UnwrapRequest } from './unwrap-authorizer.js'

/**
 * Access events whose receipt opens a data key, and which field of the event names the bucket
 * whose key is unwrapped. A GET decrypts the object's bytes; a copy decrypts its source. A PUT,
 * a completed multipart upload or a HEAD never unwraps (writes wrap a fresh key; HEAD reads
 * metadata only), so their events open nothing: deny unless needed.
 */
export const UNWRAP_ACCESS_EVENTS = {
  'object.get': 'bucket',
  'object.copy': 'sourceBucket',
} as const satisfies Record<string, string>

/** What the injected verifier proved about a receipt. */
export interface VerifiedReceipt {
  /** The entry bytes the receipt proves are in the log (the event's canonical JSON). */
  readonly entry: Uint8Array
  /** Newest time a trusted witness cosigned the checkpoint, if it carries such a cosignature. */
  readonly cosignedAt: Date | undefined
}

/**
 * Verifies a receipt against a data center's ledger verifier key: the checkpoint's signature and
 * the entry's inclusion. Throws (any Error; its message becomes the refusal reason) otherwise.
 * Injected because keys/ may not import ledger/ (same layer): the CLI passes the ledger's
 * `openEntryReceipt`.
 */
export type ReceiptVerifier = (receipt: string, ledgerKey: string) => VerifiedReceipt

/** The customer's log-before-decrypt policy. */
export interface LedgerReceiptPolicy {
  /** Data center id → its ledger verifier key (`name+keyid+base64`). Others are refused. */
  readonly ledgerKeys: Readonly<Record<string, string>>
  /** The customer's ledger secret, to recompute the event's bucket commitment. */
  readonly tenantSecret: Uint8Array
  /** How old the access event (and a cosigned checkpoint) may be, in seconds. */
  readonly maxCheckpointAgeSeconds: number
}

/** What the authorizer needs besides its policy. */
export interface LedgerReceiptDeps {
  readonly verifyReceipt: ReceiptVerifier
  /** `HMAC-SHA256(secret, value)` in lowercase hex: the ledger's `commit`. */
  readonly commit: (secret: Uint8Array, value: string) => string
  readonly now?: () => Date
}

/** Clock skew tolerated for an event time ahead of keyd's clock. */
const MAX_FUTURE_SKEW_MS = 5_000

/**
 * Log-before-decrypt: an unwrap is allowed only with the ledger receipt of an access event that
 * needs the key. The receipt must verify against the calling data center's allow-listed ledger
 * key (signature and inclusion), its entry must be an `UNWRAP_ACCESS_EVENTS` event recorded by
 * that data center for the bucket in the key context (`commit(tenantSecret, bucket)`), and the
 * event (and the checkpoint's newest trusted cosignature, when it has one) must be at most
 * `maxCheckpointAgeSeconds` old. Every refusal names its reason.
 */
export function ledgerReceiptAuthorizer(
  policy: LedgerReceiptPolicy,
  deps: LedgerReceiptDeps,
): UnwrapAuthorizer {
  if (!(policy.maxCheckpointAgeSeconds > 0)) {
    throw new RangeError('maxCheckpointAgeSeconds must be a positive number of seconds')
  }
  if (policy.tenantSecret.byteLength < 16) {
    throw new RangeError('The tenant secret must be at least 16 bytes')
  }
  const keys = new Map(Object.entries(policy.ledgerKeys))
  const secret = Uint8Array.from(policy.tenantSecret)
  const now = deps.now ?? (() => new Date())
  const maxAgeMs = policy.maxCheckpointAgeSeconds * 1000
  const deny = (reason: string): UnwrapDecision => ({ allow: false, reason })

  return {
    authorizeUnwrap: async (request: UnwrapRequest) => {
      const { context } = request
      if (request.receipt === undefined || request.receipt === '') {
        return deny('log-before-decrypt: the request carries no ledger receipt (sovra_receipt)')
      }
      const ledgerKey = keys.get(context.dc)
      if (ledgerKey === undefined) {
        return deny(
          `log-before-decrypt: data center "${context.dc}" has no allow-listed ledger key`,
        )
      }
      let verified: VerifiedReceipt
      try {
        verified = deps.verifyReceipt(request.receipt, ledgerKey)
      } catch (err) {
        return deny(`log-before-decrypt: the ledger receipt does not verify: ${messageOf(err)}`)
      }
      const event = parseEvent(verified.entry)
      if (event === undefined) {
        return deny('log-before-decrypt: the receipt entry is not a ledger event')
      }
      const field = (UNWRAP_ACCESS_EVENTS as Record<string, 'bucket' | 'sourceBucket'>)[
        String(event.type)
      ]
      if (field === undefined) {
        return deny(
          `log-before-decrypt: event "${String(event.type)}" does not open a data key (only ${Object.keys(UNWRAP_ACCESS_EVENTS).join(', ')})`,
        )
      }
      if (event.dc !== context.dc) {
        return deny(
          `log-before-decrypt: the event was recorded by "${String(event.dc)}", not "${context.dc}"`,
        )
      }
      if (!sameCommitment(event[field], deps.commit(secret, context.bucket))) {
        return deny('log-before-decrypt: the event is for another bucket')
      }
      const at = typeof event.at === 'string' ? Date.parse(event.at) : Number.NaN
      if (Number.isNaN(at)) return deny('log-before-decrypt: the event has no valid time')
      const clock = now().getTime()
      if (at > clock + MAX_FUTURE_SKEW_MS) {
        return deny(`log-before-decrypt: the event time "${event.at}" is in the future`)
      }
      if (clock - at > maxAgeMs) {
        return deny(
          `log-before-decrypt: the event at "${event.at}" is older than ${policy.maxCheckpointAgeSeconds} s`,
        )
      }
      if (verified.cosignedAt !== undefined && clock - verified.cosignedAt.getTime() > maxAgeMs) {
        return deny(
          `log-before-decrypt: the checkpoint was last cosigned at "${verified.cosignedAt.toISOString()}", more than ${policy.maxCheckpointAgeSeconds} s ago`,
        )
      }
      return { allow: true }
    },
  }
}

function parseEvent(entry: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** Constant-time comparison of two hex commitments. */
function sameCommitment(actual: unknown, expected: string): boolean {
  if (typeof actual !== 'string' || actual.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(actual, 'utf8'), Buffer.from(expected, 'utf8'))
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

import type { KeyContext } from '../key-provider.js'

/** What keyd knows about a decrypt (unwrap) request when it asks the authorizer. */
export interface UnwrapRequest {
  /** keyd's id for the request, also in the audit log. */
  readonly requestId: string
  readonly keyName: string
  readonly keyVersion: number
  /** The data center and bucket the data key is bound to (decoded from Transit `context`). */
  readonly context: KeyContext
  /** The data center the calling token was issued to. */
  readonly clientDc: string
  /**
   * The ledger receipt sent with the request (body field `sovra_receipt`), if any. Log-before-
   * decrypt will require a C2SP tlog-proof here and verify it; today nothing sends it.
   */
  readonly receipt: string | undefined
}

/** The authorizer's answer: allow, or refuse with a reason written to the audit log. */
export type UnwrapDecision =
  | { readonly allow: true }
  | { readonly allow: false; readonly reason: string }

/**
 * The hook every unwrap passes before keyd decrypts: log-before-decrypt plugs in here (verify the
 * receipt of the access event against the data center's ledger key and a fresh checkpoint).
 */
export interface UnwrapAuthorizer {
  authorizeUnwrap(request: UnwrapRequest): Promise<UnwrapDecision>
}

/** The default until the ledger receipt check exists: the token and allow-list checks suffice. */
export const allowAllUnwraps: UnwrapAuthorizer = {
  authorizeUnwrap: async () => ({ allow: true }),
}

/** Who makes a request, as a bucket policy or an ACL sees it. */
export type Requester =
  /** No signature at all (a plain browser GET, `curl`). */
  | { readonly kind: 'anonymous' }
  /** A Sovra tenant: its id (`t-…`, the "account") and its 64-hex canonical user id. */
  | { readonly kind: 'tenant'; readonly id: string; readonly canonicalId: string }

/**
 * The request context condition keys read. Keys are looked up lower-case (`aws:sourceip`,
 * `s3:prefix`); a key the request does not have is `undefined`, and multi-valued keys give
 * several values.
 */
export type ConditionContext = (key: string) => readonly string[] | undefined

/** What a bucket policy is asked about one request. */
export interface PolicyRequest {
  readonly requester: Requester
  /** The `s3:` action the operation needs, e.g. `s3:GetObject`. */
  readonly action: string
  /** The ARN of the bucket (`arn:aws:s3:::b`) or of the object (`arn:aws:s3:::b/key`). */
  readonly resource: string
  readonly context: ConditionContext
}

/** A policy's verdict: an explicit `deny`, an `allow`, or `default` (no statement applies). */
export type PolicyDecision = 'allow' | 'deny' | 'default'

/** Who a statement's `Principal` (or `NotPrincipal`) names. */
export interface PrincipalSet {
  /** `"*"` or `{"AWS": "*"}`: everyone, anonymous included. */
  readonly everyone: boolean
  /** Tenant ids (`{"AWS": "t-…"}` or `arn:aws:iam::t-…:root`). */
  readonly tenantIds: ReadonlySet<string>
  /** Canonical user ids (`{"CanonicalUser": "<64 hex>"}`). */
  readonly canonicalIds: ReadonlySet<string>
}

/** A compiled condition: one operator on one key with its values. */
export interface CompiledCondition {
  /** The operator as written, e.g. `StringLikeIfExists`, `ForAnyValue:StringEquals`. */
  readonly operator: string
  /** The base operator (`StringLike`), without qualifier or `IfExists`. */
  readonly base: string
  /** The key as written in the policy. */
  readonly key: string
  readonly values: readonly string[]
  /** Whether the request's context satisfies this condition. */
  readonly test: (context: ConditionContext) => boolean
}

/** One statement of a parsed policy, compiled for evaluation. */
export interface CompiledStatement {
  readonly sid: string | null
  readonly effect: 'Allow' | 'Deny'
  /** Exactly one of `principal` / `notPrincipal` is set. */
  readonly principal: PrincipalSet | null
  readonly notPrincipal: PrincipalSet | null
  /** Exactly one of `actions` / `notActions` is set (as written, for the public check). */
  readonly actions: readonly string[] | null
  readonly notActions: readonly string[] | null
  readonly matchAction: (action: string) => boolean
  readonly resources: readonly string[] | null
  readonly notResources: readonly string[] | null
  readonly matchResource: (resource: string) => boolean
  readonly conditions: readonly CompiledCondition[]
}

/** A bucket policy parsed and validated once (when stored), ready to evaluate on every request. */
export interface BucketPolicy {
  /** The bucket it was validated for. */
  readonly bucket: string
  /** The document as the client sent it (what GetBucketPolicy returns). */
  readonly text: string
  readonly statements: readonly CompiledStatement[]
}

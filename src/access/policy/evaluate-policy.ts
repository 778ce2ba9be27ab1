import type {
  BucketPolicy,
  CompiledStatement,
  PolicyDecision,
  PolicyRequest,
  PrincipalSet,
  Requester,
} from './policy-types.js'

function names(set: PrincipalSet, requester: Requester): boolean {
  if (set.everyone) return true
  if (requester.kind === 'anonymous') return false
  return set.tenantIds.has(requester.id) || set.canonicalIds.has(requester.canonicalId)
}

function applies(s: CompiledStatement, request: PolicyRequest): boolean {
  if (s.principal !== null && !names(s.principal, request.requester)) return false
  if (s.notPrincipal !== null && names(s.notPrincipal, request.requester)) return false
  if (!s.matchAction(request.action)) return false
  if (!s.matchResource(request.resource)) return false
  for (const c of s.conditions) if (!c.test(request.context)) return false
  return true
}

/**
 * Evaluates a bucket policy for one request: `deny` when any Deny statement applies (an explicit
 * deny always wins), else `allow` when an Allow statement applies, else `default`.
 */
export function evaluatePolicy(policy: BucketPolicy, request: PolicyRequest): PolicyDecision {
  let decision: PolicyDecision = 'default'
  for (const s of policy.statements) {
    if (!applies(s, request)) continue
    if (s.effect === 'Deny') return 'deny'
    decision = 'allow'
  }
  return decision
}

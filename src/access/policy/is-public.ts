import { parseCidr } from './conditions.js'
import type { BucketPolicy, CompiledCondition, CompiledStatement } from './policy-types.js'
import { hasWildcard } from './wildcard.js'

/** Keys whose fixed values tie a statement to known callers, as AWS's "meaning of public" lists. */
const FIXING_KEYS = new Set([
  'aws:sourceip',
  'aws:principalaccount',
  'aws:userid',
  'aws:username',
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:principalorgid',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
])

const FIXING_OPERATORS = new Set([
  'StringEquals',
  'StringEqualsIgnoreCase',
  'ArnEquals',
  'IpAddress',
])

/** A condition that restricts the statement to fixed callers: equality on a fixing key, no wildcard. */
function fixes(c: CompiledCondition): boolean {
  if (!FIXING_KEYS.has(c.key.toLowerCase())) return false
  if (!FIXING_OPERATORS.has(c.base) || c.operator.includes(':') || /ifexists$/i.test(c.operator)) {
    return false
  }
  if (c.base === 'IpAddress') {
    // An IPv4 range wider than /8 (or IPv6 wider than /32) is open to the internet at large.
    return c.values.every((v) => {
      const cidr = parseCidr(v)
      return cidr !== null && cidr.prefix >= (cidr.family === 'ipv4' ? 8 : 32)
    })
  }
  return c.values.every((v) => !hasWildcard(v))
}

function statementIsPublic(s: CompiledStatement): boolean {
  if (s.effect !== 'Allow') return false
  const open = s.notPrincipal !== null || (s.principal?.everyone ?? false)
  if (!open) return false
  return !s.conditions.some(fixes)
}

/**
 * Whether a policy makes its bucket public, as GetBucketPolicyStatus reports and
 * BlockPublicPolicy / RestrictPublicBuckets judge: some Allow statement names everyone (`*`) or
 * uses NotPrincipal, and no condition pins it to fixed values of a key that identifies callers
 * (`aws:SourceIp` with a range of /8 or narrower, `aws:PrincipalAccount`, `aws:userid`, …).
 */
export function isPublicPolicy(policy: BucketPolicy): boolean {
  return policy.statements.some(statementIsPublic)
}

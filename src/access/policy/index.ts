export { evaluatePolicy } from './evaluate-policy.js'
export { isPublicPolicy } from './is-public.js'
export {
  MAX_POLICY_BYTES,
  type ParsedPolicy,
  type PolicyProblem,
  parseBucketPolicy,
} from './parse-policy.js'
export type {
  BucketPolicy,
  ConditionContext,
  PolicyDecision,
  PolicyRequest,
  Requester,
} from './policy-types.js'

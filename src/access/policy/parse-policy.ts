import { compileCondition, parseOperator } from './conditions.js'
import type {
  BucketPolicy,
  CompiledCondition,
  CompiledStatement,
  PrincipalSet,
} from './policy-types.js'
import { S3_ACTION_KINDS } from './s3-actions.js'
import { anyPattern, hasWildcard, wildcardRegExp } from './wildcard.js'

/** AWS's limit on a bucket policy: 20 KB, counted without insignificant whitespace. */
export const MAX_POLICY_BYTES = 20 * 1024

/** Why a policy was refused: the S3 code and AWS's message for it. */
export interface PolicyProblem {
  readonly code: 'MalformedPolicy' | 'PolicyTooLarge'
  readonly message: string
}

/** A parsed policy, or what is wrong with it. */
export type ParsedPolicy =
  | { readonly ok: true; readonly policy: BucketPolicy }
  | { readonly ok: false; readonly problem: PolicyProblem }

class Malformed extends Error {}

const malformed = (message: string): never => {
  throw new Malformed(message)
}

const TENANT_ID = /^t-[0-9a-f]{16}$/
const TENANT_ROOT_ARN = /^arn:aws:iam::(t-[0-9a-f]{16}):root$/
const CANONICAL_ID = /^[0-9a-f]{64}$/
const S3_ARN_PREFIX = 'arn:aws:s3:::'
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
])

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A string or a non-empty list of strings (IAM accepts either for most elements). */
function stringList(value: Json | undefined, field: string): string[] {
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) malformed(`Missing required field ${field} cannot be empty!`)
  return list.map((item) => {
    if (typeof item !== 'string')
      return malformed(`Syntax errors in policy: ${field} must be strings`)
    return item
  })
}

function parsePrincipal(value: Json | undefined): PrincipalSet {
  const everyone = { everyone: true, tenantIds: new Set<string>(), canonicalIds: new Set<string>() }
  if (value === '*') return everyone
  if (!isObject(value) || Object.keys(value).length === 0)
    return malformed('Invalid principal in policy')
  const tenantIds = new Set<string>()
  const canonicalIds = new Set<string>()
  let all = false
  for (const [type, names] of Object.entries(value)) {
    const list = Array.isArray(names) ? names : [names]
    if (list.length === 0) malformed('Invalid principal in policy')
    for (const name of list) {
      if (typeof name !== 'string') return malformed('Invalid principal in policy')
      if (type === 'AWS') {
        if (name === '*') all = true
        else if (TENANT_ID.test(name)) tenantIds.add(name)
        else {
          const arn = TENANT_ROOT_ARN.exec(name)
          if (arn === null) malformed('Invalid principal in policy')
          tenantIds.add(arn?.[1] as string)
        }
      } else if (type === 'CanonicalUser') {
        if (!CANONICAL_ID.test(name)) malformed('Invalid principal in policy')
        canonicalIds.add(name)
      } else {
        malformed('Invalid principal in policy')
      }
    }
  }
  return all ? everyone : { everyone: false, tenantIds, canonicalIds }
}

function parseActions(value: Json | undefined, field: string): string[] {
  const actions = stringList(value, field)
  for (const action of actions) {
    if (action === '*') continue
    const lower = action.toLowerCase()
    if (!/^s3:[a-z*?]+$/.test(lower)) malformed('Policy has invalid action')
    if (hasWildcard(lower)) {
      const r = wildcardRegExp(lower, { ignoreCase: true })
      if (![...S3_ACTION_KINDS.keys()].some((known) => r.test(known))) {
        malformed('Policy has invalid action')
      }
    } else if (!S3_ACTION_KINDS.has(lower)) malformed('Policy has invalid action')
  }
  return actions
}

/** A bucket policy names only its own bucket and its objects. */
function parseResources(value: Json | undefined, field: string, bucket: string): string[] {
  const resources = stringList(value, field)
  for (const resource of resources) {
    if (!resource.startsWith(S3_ARN_PREFIX)) malformed('Policy has invalid resource')
    const path = resource.slice(S3_ARN_PREFIX.length)
    const slash = path.indexOf('/')
    const bucketPart = slash === -1 ? path : path.slice(0, slash)
    if (bucketPart === '' || !wildcardRegExp(bucketPart, { ignoreCase: false }).test(bucket)) {
      malformed('Policy has invalid resource')
    }
  }
  return resources
}

/** Condition keys we know; others are refused as AWS refuses keys it does not know. */
const KNOWN_KEYS = new Set([
  'aws:securetransport',
  'aws:sourceip',
  'aws:currenttime',
  'aws:epochtime',
  'aws:principaltype',
  'aws:principalaccount',
  'aws:userid',
  'aws:username',
  'aws:referer',
  'aws:useragent',
  's3:prefix',
  's3:delimiter',
  's3:max-keys',
  's3:x-amz-acl',
  's3:signatureversion',
  's3:authtype',
  's3:x-amz-content-sha256',
  's3:x-amz-server-side-encryption',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  's3:x-amz-copy-source',
  's3:x-amz-metadata-directive',
  's3:versionid',
  's3:tlsversion',
])

function knownKey(key: string): boolean {
  const lower = key.toLowerCase()
  return (
    KNOWN_KEYS.has(lower) ||
    /^s3:(existingobjecttag|requestobjecttag)\/.+$/.test(lower) ||
    /^s3:x-amz-grant-(read|write|read-acp|write-acp|full-control)$/.test(lower)
  )
}

function parseConditions(value: Json | undefined): CompiledCondition[] {
  if (value === undefined) return []
  if (!isObject(value)) return malformed('Syntax errors in policy: Condition must be an object')
  const out: CompiledCondition[] = []
  for (const [operator, block] of Object.entries(value)) {
    if (parseOperator(operator) === null) malformed(`Invalid Condition type : ${operator}`)
    if (!isObject(block)) return malformed('Syntax errors in policy: a condition must be an object')
    for (const [key, raw] of Object.entries(block)) {
      if (!knownKey(key)) malformed('Policy has an invalid condition key')
      const list = Array.isArray(raw) ? raw : [raw]
      const values = list.map((v) =>
        typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : malformed('Syntax errors in policy: condition values must be strings'),
      )
      const compiled = compileCondition(operator, key, values)
      if (compiled === null) malformed(`Invalid Condition value for ${operator} on key ${key}`)
      out.push(compiled as CompiledCondition)
    }
  }
  return out
}

/** S3 refuses a statement whose actions act on none of its resources (ListBucket on objects only). */
function checkActionsApply(actions: readonly string[], resources: readonly string[]): void {
  const kinds = new Set(
    resources.map((r) => (r.slice(S3_ARN_PREFIX.length).includes('/') ? 'object' : 'bucket')),
  )
  for (const action of actions) {
    const r = wildcardRegExp(action.toLowerCase(), { ignoreCase: true })
    let applies = false
    for (const [name, kind] of S3_ACTION_KINDS) if (kinds.has(kind) && r.test(name)) applies = true
    if (!applies) malformed('Action does not apply to any resource(s) in statement')
  }
}

function only<T>(
  value: Json,
  field: string,
  parse: (v: Json | undefined, f: string) => T,
): T | null {
  return isObject(value) && value[field] !== undefined ? parse(value[field], field) : null
}

function parseStatement(value: Json, bucket: string): CompiledStatement {
  if (!isObject(value)) return malformed('Syntax errors in policy: a statement must be an object')
  for (const field of Object.keys(value)) {
    if (!STATEMENT_FIELDS.has(field)) malformed(`Unknown field ${field}`)
  }
  for (const name of ['Principal', 'Action', 'Resource']) {
    if (value[name] !== undefined && value[`Not${name}`] !== undefined) {
      malformed(`Statement/policy already has instance of ${name}`)
    }
  }
  const effect = value.Effect
  if (effect === undefined) malformed('Missing required field Effect')
  if (effect !== 'Allow' && effect !== 'Deny') {
    malformed(`Invalid effect: ${typeof effect === 'string' ? effect : JSON.stringify(effect)}`)
  }
  const sid = value.Sid
  if (sid !== undefined && typeof sid !== 'string')
    malformed('Syntax errors in policy: Sid must be a string')
  if (value.Principal === undefined && value.NotPrincipal === undefined) {
    malformed('Missing required field Principal')
  }
  if (value.Action === undefined && value.NotAction === undefined)
    malformed('Missing required field Action')
  if (value.Resource === undefined && value.NotResource === undefined) {
    malformed('Missing required field Resource')
  }
  const principal = only(value, 'Principal', parsePrincipal)
  const notPrincipal = only(value, 'NotPrincipal', parsePrincipal)
  const actions = only(value, 'Action', parseActions)
  const notActions = only(value, 'NotAction', parseActions)
  const resourcesOf = (v: Json | undefined, f: string) => parseResources(v, f, bucket)
  const resources = only(value, 'Resource', resourcesOf)
  const notResources = only(value, 'NotResource', resourcesOf)
  if (actions !== null && resources !== null) checkActionsApply(actions, resources)
  const actionMatch = anyPattern(actions ?? notActions ?? [], { ignoreCase: true })
  const resourceMatch = anyPattern(resources ?? notResources ?? [], { ignoreCase: false })
  return {
    sid: typeof sid === 'string' ? sid : null,
    effect: effect as 'Allow' | 'Deny',
    principal,
    notPrincipal,
    actions,
    notActions,
    matchAction: actions !== null ? actionMatch : (a) => !actionMatch(a),
    resources,
    notResources,
    matchResource: resources !== null ? resourceMatch : (r) => !resourceMatch(r),
    conditions: parseConditions(value.Condition),
  }
}

/**
 * Parses and validates a bucket policy for `bucket`: the JSON grammar of IAM policies, limited
 * to what a Sovra bucket policy can name (see docs/access-control.md). Refusals carry AWS's
 * `MalformedPolicy` messages; a document over 20 KB (without whitespace) is `PolicyTooLarge`.
 */
export function parseBucketPolicy(text: string, bucket: string): ParsedPolicy {
  let doc: Json
  try {
    doc = JSON.parse(text) as Json
  } catch {
    return {
      ok: false,
      problem: { code: 'MalformedPolicy', message: 'This policy contains invalid Json' },
    }
  }
  if (Buffer.byteLength(JSON.stringify(doc)) > MAX_POLICY_BYTES) {
    return {
      ok: false,
      problem: {
        code: 'PolicyTooLarge',
        message: 'Policy exceeds the maximum allowed document size.',
      },
    }
  }
  try {
    if (!isObject(doc)) return malformed('This policy contains invalid Json')
    for (const field of Object.keys(doc)) {
      if (field !== 'Version' && field !== 'Id' && field !== 'Statement')
        malformed(`Unknown field ${field}`)
    }
    const version = doc.Version
    if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') {
      malformed('The policy must contain a valid version string')
    }
    if (doc.Statement === undefined) malformed('Missing required field Statement')
    const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement as Json]
    if (list.length === 0) malformed('Could not parse the policy: Statement is empty!')
    const statements = list.map((s) => parseStatement(s, bucket))
    const sids = statements.map((s) => s.sid).filter((s) => s !== null)
    if (new Set(sids).size !== sids.length)
      malformed('Statement IDs (SID) in a single policy must be unique')
    return { ok: true, policy: { bucket, text, statements } }
  } catch (err) {
    if (err instanceof Malformed)
      return { ok: false, problem: { code: 'MalformedPolicy', message: err.message } }
    throw err
  }
}

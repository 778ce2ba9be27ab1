import { S3Error } from './s3-error.js'

/**
 * POST policies (browser uploads): the base64 JSON document a POST Object form carries, with an
 * `expiration` and the `conditions` every form field must meet. Checked as AWS documents it:
 * exact matches (`{"field": "v"}`, `["eq", "$field", "v"]`), `starts-with` (each comma-separated
 * value for Content-Type), `content-length-range`; every form field except `policy`,
 * `x-amz-signature`, `file` and `x-ignore-*` must be covered by a condition.
 */

/** One condition on a form field (lower-case name), or the file size range. */
export type PolicyCondition =
  | { readonly kind: 'eq'; readonly field: string; readonly value: string; readonly text: string }
  | {
      readonly kind: 'starts-with'
      readonly field: string
      readonly value: string
      readonly text: string
    }
  | { readonly kind: 'content-length-range'; readonly min: number; readonly max: number }

/** A decoded POST policy. */
export interface PostPolicy {
  /** ms since the epoch. */
  readonly expiration: number
  readonly conditions: readonly PolicyCondition[]
}

/** Fields no condition needs to cover (AWS's list, plus the `x-ignore-` prefix). */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'file'])

function invalidPolicy(reason: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${reason}`)
}

function denied(reason: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${reason}`)
}

function fieldName(raw: unknown, condition: string): string {
  if (typeof raw !== 'string' || !raw.startsWith('$') || raw.length < 2) {
    throw invalidPolicy(`Invalid Condition: ${condition}`)
  }
  return raw.slice(1).toLowerCase()
}

function sizeBound(raw: unknown, condition: string): number {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalidPolicy(`Invalid content-length-range: ${condition}`)
  }
  return n
}

function parseCondition(raw: unknown): PolicyCondition {
  const text = JSON.stringify(raw)
  if (Array.isArray(raw)) {
    const [op, a, b] = raw as unknown[]
    if (raw.length !== 3 || typeof op !== 'string') {
      throw invalidPolicy(`Invalid Condition: ${text}`)
    }
    switch (op.toLowerCase()) {
      case 'eq':
      case 'starts-with':
        if (typeof b !== 'string') throw invalidPolicy(`Invalid Condition: ${text}`)
        return {
          kind: op.toLowerCase() as 'eq' | 'starts-with',
          field: fieldName(a, text),
          value: b,
          text,
        }
      case 'content-length-range': {
        const min = sizeBound(a, text)
        const max = sizeBound(b, text)
        return { kind: 'content-length-range', min, max }
      }
      default:
        throw invalidPolicy(`Invalid Condition: ${text}`)
    }
  }
  if (raw !== null && typeof raw === 'object') {
    const entries = Object.entries(raw)
    const [entry] = entries
    if (entries.length !== 1 || entry === undefined || typeof entry[1] !== 'string') {
      throw invalidPolicy(`Invalid Condition: ${text}`)
    }
    return { kind: 'eq', field: entry[0].toLowerCase(), value: entry[1], text }
  }
  throw invalidPolicy(`Invalid Condition: ${text}`)
}

/**
 * Decodes the `policy` field (base64 of UTF-8 JSON): `InvalidPolicyDocument` when it is not
 * base64 JSON, has no valid `expiration` or `conditions`, or a condition of an unknown form.
 */
export function parsePostPolicy(base64: string): PostPolicy {
  const text = Buffer.from(base64, 'base64').toString('utf8')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw invalidPolicy('Invalid JSON.')
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw invalidPolicy('Invalid JSON.')
  }
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown }
  if (typeof expiration !== 'string') {
    throw invalidPolicy('Policy missing expiration.')
  }
  const expires = Date.parse(expiration)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(expiration) || Number.isNaN(expires)) {
    throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`)
  }
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.')
  return { expiration: expires, conditions: conditions.map(parseCondition) }
}

/** What the form asks for, as the policy sees it: fields by lower-case name, the bucket. */
export interface PolicySubject {
  readonly fields: ReadonlyMap<string, string>
  readonly bucket: string
  /** The object key after `${filename}` was replaced. */
  readonly key: string
}

function fieldValue(subject: PolicySubject, field: string): string | undefined {
  if (field === 'bucket') return subject.bucket
  if (field === 'key') return subject.key
  return subject.fields.get(field)
}

function holds(
  condition: PolicyCondition & { kind: 'eq' | 'starts-with' },
  value: string,
): boolean {
  if (condition.kind === 'eq') return value === condition.value
  if (condition.field === 'content-type') {
    // A Content-Type may list several types; each must start with the prefix.
    return value.split(',').every((v) => v.trim().startsWith(condition.value))
  }
  return value.startsWith(condition.value)
}

/**
 * Checks a form against its policy at `now` (ms): expiry, every condition, and that every field
 * is covered by one. Refusals are `AccessDenied` "Invalid according to Policy: …", as AWS words
 * them. Returns the allowed file size range (the content-length-range, if any).
 */
export function checkPostPolicy(
  policy: PostPolicy,
  subject: PolicySubject,
  now: number,
): { readonly min: number; readonly max: number } | null {
  if (now > policy.expiration) throw denied('Policy expired.')
  const covered = new Set<string>()
  let range: { min: number; max: number } | null = null
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      range = { min: condition.min, max: condition.max }
      continue
    }
    covered.add(condition.field)
    const value = fieldValue(subject, condition.field)
    if (value === undefined) {
      // An absent field matches only "anything" (starts-with "").
      if (condition.kind === 'starts-with' && condition.value === '') continue
      throw denied(`Policy Condition failed: ${condition.text}`)
    }
    if (!holds(condition, value)) throw denied(`Policy Condition failed: ${condition.text}`)
  }
  const extra = [...subject.fields.keys()].filter(
    (name) => !EXEMPT.has(name) && !name.startsWith('x-ignore-') && !covered.has(name),
  )
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`)
  return range
}

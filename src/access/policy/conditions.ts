import { isIPv4, isIPv6 } from 'node:net'
import type { CompiledCondition, ConditionContext } from './policy-types.js'
import { wildcardRegExp } from './wildcard.js'

/** A test of one context value against the policy's values. */
type ValueTest = (value: string) => boolean

interface OperatorSpec {
  /** Negated operators (`StringNotEquals`…) hold when no value matches, and when the key is absent. */
  readonly negated: boolean
  /** Builds the per-value test from the policy's values; null when a value is invalid. */
  readonly compile: (values: readonly string[]) => ValueTest | null
}

const stringEquals = (values: readonly string[]): ValueTest => {
  const set = new Set(values)
  return (v) => set.has(v)
}
const stringEqualsIgnoreCase = (values: readonly string[]): ValueTest => {
  const set = new Set(values.map((v) => v.toLowerCase()))
  return (v) => set.has(v.toLowerCase())
}
const stringLike = (values: readonly string[]): ValueTest => {
  const regexps = values.map((v) => wildcardRegExp(v, { ignoreCase: false }))
  return (v) => regexps.some((r) => r.test(v))
}

/** A number as IAM reads it (decimal, optional sign and exponent); undefined otherwise. */
export function parseNumber(text: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : undefined
}

/** An instant in ms: ISO 8601 (`2026-11-28`, `2026-11-28T10:00:00Z`) or epoch seconds. */
export function parseDate(text: string): number | undefined {
  const seconds = parseNumber(text)
  if (seconds !== undefined) return seconds * 1000
  if (
    !/^\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?$/i.test(text)
  ) {
    return undefined
  }
  // A date-time without a zone is UTC, as IAM reads it.
  const zoned = /T/.test(text) && !/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text) ? `${text}Z` : text
  const ms = Date.parse(zoned)
  return Number.isNaN(ms) ? undefined : ms
}

function ordered(
  parse: (text: string) => number | undefined,
  holds: (difference: number) => boolean,
): (values: readonly string[]) => ValueTest | null {
  return (values) => {
    const expected = values.map(parse)
    if (expected.some((e) => e === undefined)) return null
    return (v) => {
      const actual = parse(v)
      return actual !== undefined && expected.some((e) => holds(actual - (e as number)))
    }
  }
}

/** The bytes of an IPv4 (4) or IPv6 (16) address; null when it is neither. */
export function ipBytes(text: string): Uint8Array | null {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number))
  if (!isIPv6(text)) return null
  const zone = text.indexOf('%')
  let address = zone === -1 ? text : text.slice(0, zone)
  const out = new Uint8Array(16)
  // A trailing dotted quad (`::ffff:1.2.3.4`) is the last 32 bits.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  let tail: number[] = []
  if (dotted !== null) {
    tail = (dotted[1] as string).split('.').map(Number)
    address = `${address.slice(0, -(dotted[1] as string).length)}0:0`
  }
  const [head = '', rest] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = rest === undefined || rest === '' ? [] : rest.split(':')
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  groups.forEach((g, i) => {
    const v = Number.parseInt(g as string, 16)
    out[i * 2] = v >> 8
    out[i * 2 + 1] = v & 0xff
  })
  if (tail.length === 4) out.set(tail, 12)
  return out
}

/** A caller's address as a CIDR check reads it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is IPv4. */
function callerBytes(ip: string): Uint8Array | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  return ipBytes(mapped?.[1] ?? ip)
}

/** Parses `a.b.c.d/n`, `a:b::/n` or a bare address (a /32 or /128); null when invalid. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', bits, extra] = text.trim().split('/')
  if (extra !== undefined) return null
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null
  if (family === null) return null
  const max = family === 'ipv4' ? 32 : 128
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null
  const prefix = bits === undefined ? max : Number(bits)
  if (prefix > max) return null
  return { address, prefix, family }
}

/** Whether the first `prefix` bits of two addresses of the same length are equal. */
function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  let i = 0
  for (; (i + 1) * 8 <= prefix; i++) if (a[i] !== b[i]) return false
  const rest = prefix - i * 8
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return ((a[i] as number) & mask) === ((b[i] as number) & mask)
}

// Compared in plain code: node's BlockList costs microseconds per check, on every request.
const ipAddress = (values: readonly string[]): ValueTest | null => {
  const ranges: Array<{ bytes: Uint8Array; prefix: number }> = []
  for (const value of values) {
    const cidr = parseCidr(value)
    const bytes = cidr === null ? null : ipBytes(cidr.address)
    if (cidr === null || bytes === null) return null
    ranges.push({ bytes, prefix: cidr.prefix })
  }
  return (v) => {
    const ip = callerBytes(v)
    if (ip === null) return false
    return ranges.some((r) => r.bytes.length === ip.length && samePrefix(ip, r.bytes, r.prefix))
  }
}

const bool = (values: readonly string[]): ValueTest => {
  const set = new Set(values.map((v) => v.toLowerCase()))
  return (v) => set.has(v.toLowerCase())
}

const positive = (compile: OperatorSpec['compile']): OperatorSpec => ({ negated: false, compile })
const negated = (compile: OperatorSpec['compile']): OperatorSpec => ({ negated: true, compile })

/** Every condition operator we evaluate (IAM's names; `IfExists` and set qualifiers apply to all). */
const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map([
  ['StringEquals', positive(stringEquals)],
  ['StringNotEquals', negated(stringEquals)],
  ['StringEqualsIgnoreCase', positive(stringEqualsIgnoreCase)],
  ['StringNotEqualsIgnoreCase', negated(stringEqualsIgnoreCase)],
  ['StringLike', positive(stringLike)],
  ['StringNotLike', negated(stringLike)],
  ['NumericEquals', positive(ordered(parseNumber, (d) => d === 0))],
  ['NumericNotEquals', negated(ordered(parseNumber, (d) => d === 0))],
  ['NumericLessThan', positive(ordered(parseNumber, (d) => d < 0))],
  ['NumericLessThanEquals', positive(ordered(parseNumber, (d) => d <= 0))],
  ['NumericGreaterThan', positive(ordered(parseNumber, (d) => d > 0))],
  ['NumericGreaterThanEquals', positive(ordered(parseNumber, (d) => d >= 0))],
  ['DateEquals', positive(ordered(parseDate, (d) => d === 0))],
  ['DateNotEquals', negated(ordered(parseDate, (d) => d === 0))],
  ['DateLessThan', positive(ordered(parseDate, (d) => d < 0))],
  ['DateLessThanEquals', positive(ordered(parseDate, (d) => d <= 0))],
  ['DateGreaterThan', positive(ordered(parseDate, (d) => d > 0))],
  ['DateGreaterThanEquals', positive(ordered(parseDate, (d) => d >= 0))],
  ['Bool', positive(bool)],
  ['IpAddress', positive(ipAddress)],
  ['NotIpAddress', negated(ipAddress)],
  ['ArnEquals', positive(stringLike)],
  ['ArnLike', positive(stringLike)],
  ['ArnNotEquals', negated(stringLike)],
  ['ArnNotLike', negated(stringLike)],
])

const OPERATOR_BY_LOWER = new Map([...OPERATORS.keys()].map((name) => [name.toLowerCase(), name]))

/** An operator split into its parts, or null when IAM would not know it. */
export function parseOperator(
  text: string,
): { base: string; qualifier: 'ForAnyValue' | 'ForAllValues' | null; ifExists: boolean } | null {
  let rest = text
  let qualifier: 'ForAnyValue' | 'ForAllValues' | null = null
  const colon = text.indexOf(':')
  if (colon !== -1) {
    const prefix = text.slice(0, colon).toLowerCase()
    if (prefix === 'foranyvalue') qualifier = 'ForAnyValue'
    else if (prefix === 'forallvalues') qualifier = 'ForAllValues'
    else return null
    rest = text.slice(colon + 1)
  }
  const lower = rest.toLowerCase()
  if (lower === 'null')
    return qualifier === null ? { base: 'Null', qualifier, ifExists: false } : null
  let base = OPERATOR_BY_LOWER.get(lower)
  let ifExists = false
  if (base === undefined && lower.endsWith('ifexists')) {
    base = OPERATOR_BY_LOWER.get(lower.slice(0, -'ifexists'.length))
    ifExists = true
  }
  return base === undefined ? null : { base, qualifier, ifExists }
}

/**
 * Compiles one `"<operator>": { "<key>": <values> }` entry; null when a value is invalid for the
 * operator (a malformed CIDR, a date or number that does not parse). The operator must have been
 * accepted by `parseOperator`.
 */
export function compileCondition(
  operator: string,
  key: string,
  values: readonly string[],
): CompiledCondition | null {
  const parsed = parseOperator(operator)
  if (parsed === null) return null
  const lowerKey = key.toLowerCase()
  if (parsed.base === 'Null') {
    const wanted = values.map((v) => v.toLowerCase())
    if (wanted.some((v) => v !== 'true' && v !== 'false')) return null
    return {
      operator,
      base: 'Null',
      key,
      values,
      // "true": the key must be absent; "false": present. Several values: any may hold.
      test: (context) => {
        const present = (context(lowerKey)?.length ?? 0) > 0
        return wanted.some((w) => (w === 'true') !== present)
      },
    }
  }
  const spec = OPERATORS.get(parsed.base) as OperatorSpec
  const matches = spec.compile(values)
  if (matches === null) return null
  const holds = spec.negated ? (v: string) => !matches(v) : matches
  const { qualifier, ifExists } = parsed
  const test = (context: ConditionContext): boolean => {
    const actual = context(lowerKey)
    if (actual === undefined || actual.length === 0) {
      if (qualifier === 'ForAllValues') return true
      if (qualifier === 'ForAnyValue') return false
      return ifExists || spec.negated
    }
    if (qualifier === 'ForAllValues') return actual.every(holds)
    if (qualifier === 'ForAnyValue') return actual.some(holds)
    // A plain operator: positive ones hold when any value matches, negated ones when none does.
    return spec.negated ? actual.every(holds) : actual.some(holds)
  }
  return { operator, base: parsed.base, key, values, test }
}

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON value that Sovra signs
 * and hashes (ledger events, transfer instructions).
 *
 * - Object keys are sorted by their UTF-16 code units (JavaScript's default string order), with
 *   no whitespace anywhere.
 * - Numbers use ECMAScript's `Number.prototype.toString` (shortest round-trip form, `1e+30`,
 *   `-0` becomes `0`); `NaN` and `±Infinity` are rejected.
 * - Strings escape only `"`, `\` and the control characters below U+0020 (`\b \t \n \f \r`, the
 *   rest as lowercase `\u00xx`); everything else, including U+007F..U+FFFF, is written as is.
 *   A lone surrogate is rejected (RFC 8785 requires I-JSON, which forbids them).
 *
 * Accepted inputs are `null`, booleans, finite numbers, strings, arrays and plain objects.
 * Object properties whose value is `undefined` are omitted, as `JSON.stringify` does, so an
 * absent optional field and an `undefined` one canonicalize the same. Anything else (bigint,
 * functions, symbols, class instances such as `Date` or `Uint8Array`) throws a `TypeError`:
 * convert it to a string first, so the signed form is never a guess.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, [])
}

/**
 * Where the serializer is, as the keys and indexes from the root: kept as a stack and spelled out
 * (`$.a[0].b`) only for an error, since building the string per member cost more than the rest.
 */
type Trail = (string | number)[]

function pathOf(trail: Trail): string {
  let path = '$'
  for (const step of trail) path += typeof step === 'number' ? `[${step}]` : `.${step}`
  return path
}

function serialize(value: unknown, trail: Trail): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`Cannot canonicalize ${pathOf(trail)}: ${value} is not a finite number`)
      }
      // ECMAScript Number::toString is exactly RFC 8785 §3.2.2.3; JSON.stringify turns -0 into 0.
      return JSON.stringify(value)
    case 'string':
      return quote(value, trail)
    case 'object': {
      if (Array.isArray(value)) {
        let out = '['
        for (let i = 0; i < value.length; i++) {
          trail.push(i)
          out += i === 0 ? serialize(value[i], trail) : `,${serialize(value[i], trail)}`
          trail.pop()
        }
        return `${out}]`
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `Cannot canonicalize ${pathOf(trail)}: only plain objects and arrays are allowed`,
        )
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).sort()
      let out = '{'
      for (const key of keys) {
        const member = record[key]
        if (member === undefined) continue
        trail.push(key)
        const item = `${quote(key, trail)}:${serialize(member, trail)}`
        trail.pop()
        out += out.length === 1 ? item : `,${item}`
      }
      return `${out}}`
    }
    default:
      throw new TypeError(
        `Cannot canonicalize ${pathOf(trail)}: a ${typeof value} is not a JSON value`,
      )
  }
}

/** Any UTF-16 surrogate: strings without one (nearly all) need no pairing check. */
const SURROGATE = /[\ud800-\udfff]/

function quote(text: string, trail: Trail): string {
  if (!SURROGATE.test(text)) return JSON.stringify(text)
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
      throw new TypeError(`Cannot canonicalize ${pathOf(trail)}: the string has a lone surrogate`)
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      throw new TypeError(`Cannot canonicalize ${pathOf(trail)}: the string has a lone surrogate`)
    }
  }
  // With no lone surrogates, JSON.stringify's escaping is RFC 8785 §3.2.2.2 exactly.
  return JSON.stringify(text)
}

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
  return serialize(value, '$')
}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`Cannot canonicalize ${path}: ${value} is not a finite number`)
      }
      // ECMAScript Number::toString is exactly RFC 8785 §3.2.2.3; JSON.stringify turns -0 into 0.
      return JSON.stringify(value)
    case 'string':
      return quote(value, path)
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => serialize(item, `${path}[${i}]`)).join(',')}]`
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `Cannot canonicalize ${path}: only plain objects and arrays are allowed`,
        )
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).sort()
      const members: string[] = []
      for (const key of keys) {
        const member = record[key]
        if (member === undefined) continue
        members.push(`${quote(key, path)}:${serialize(member, `${path}.${key}`)}`)
      }
      return `{${members.join(',')}}`
    }
    default:
      throw new TypeError(`Cannot canonicalize ${path}: a ${typeof value} is not a JSON value`)
  }
}

function quote(text: string, path: string): string {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
      throw new TypeError(`Cannot canonicalize ${path}: the string has a lone surrogate`)
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      throw new TypeError(`Cannot canonicalize ${path}: the string has a lone surrogate`)
    }
  }
  // With no lone surrogates, JSON.stringify's escaping is RFC 8785 §3.2.2.2 exactly.
  return JSON.stringify(text)
}

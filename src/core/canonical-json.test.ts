import { describe, expect, it } from 'vitest'
import { canonicalize } from './canonical-json.js'

/** RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text. */
const NUMBERS: ReadonlyArray<readonly [string, string]> = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
]

function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0)
}

describe('canonicalize()', () => {
  it.each(NUMBERS)('serializes the IEEE-754 value %s as %s (RFC 8785 Appendix B)', (bits, want) => {
    expect(canonicalize(fromBits(bits))).toBe(want)
  })

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
  ])('rejects the non-finite value %s (%s)', (bits) => {
    expect(() => canonicalize(fromBits(bits))).toThrow(TypeError)
  })

  it('reproduces the RFC 8785 §3.2.2 example (numbers, string escaping, literals)', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    ) as unknown
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    )
  })

  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    }
    const out = canonicalize(input)
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    )
    // The RFC gives the UTF-8 bytes of the sorted keys' prefix.
    expect(Buffer.from(out, 'utf8').subarray(0, 8).toString('hex')).toBe('7b225c72223a2243')
  })

  it('escapes control characters with short forms or lowercase \\u00xx, and nothing else', () => {
    expect(canonicalize('\b\t\n\f\r\u0000\u001f\u007f\u2028')).toBe(
      '"\\b\\t\\n\\f\\r\\u0000\\u001f\u007f\u2028"',
    )
  })

  it('nests without whitespace and omits undefined properties', () => {
    expect(canonicalize({ b: [1, { d: 2, c: undefined }], a: 'x' })).toBe(
      '{"a":"x","b":[1,{"d":2}]}',
    )
  })

  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', 'a\udc00b'],
    ['a bigint', 1n],
    ['a Date', new Date(0)],
    ['a Uint8Array', new Uint8Array(1)],
    ['a function', () => 1],
  ])('rejects %s', (_label, value) => {
    expect(() => canonicalize(value)).toThrow(TypeError)
  })

  it.each([
    [{ a: [1, { b: Number.NaN }] }, '$.a[1].b'],
    [{ x: { y: ['ok', 'bad\udc00'] } }, '$.x.y[1]'],
    [[{ when: new Date(0) }], '$[0].when'],
    [{ k: () => 1 }, '$.k'],
  ])('names where the bad value is (%#)', (value, path) => {
    expect(() => canonicalize(value)).toThrow(`Cannot canonicalize ${path}:`)
  })
})

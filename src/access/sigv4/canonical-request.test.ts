import { describe, expect, it } from 'vitest'
import {
  canonicalHeaders,
  canonicalQueryString,
  percentDecodeBytes,
  splitQuery,
  splitTarget,
  uriEncode,
  uriEncodeBytes,
} from './canonical-request.js'

describe('uriEncode', () => {
  it('keeps unreserved characters and upper-cases every other byte', () => {
    expect(uriEncode("AZaz09-_.~ /+*!'()=&€")).toBe(
      'AZaz09-_.~%20%2F%2B%2A%21%27%28%29%3D%26%E2%82%AC',
    )
  })
})

describe('percentDecodeBytes', () => {
  it('decodes escapes in either case and leaves a stray percent literal', () => {
    expect(percentDecodeBytes('a%2fb%2Fc%zz%4').toString()).toBe('a/b/c%zz%4')
  })

  it('keeps plus as a literal plus', () => {
    expect(percentDecodeBytes('a+b').toString()).toBe('a+b')
  })

  it('round-trips raw UTF-8 characters', () => {
    expect(percentDecodeBytes('é%E2%82%AC😀').toString()).toBe('é€😀')
  })
})

describe('canonicalQueryString', () => {
  it('re-encodes, sorts by name then value, and gives bare names an empty value', () => {
    const params = splitQuery('prefix=J&max-keys=2&acl&b=2&b=1&&%7Ex=a+b%20c')
    expect(canonicalQueryString(params)).toBe('acl=&b=1&b=2&max-keys=2&prefix=J&~x=a%2Bb%20c')
  })

  it('sorts by encoded bytes, not locale', () => {
    expect(canonicalQueryString(splitQuery('a=1&B=2&_=3&Z=4'))).toBe('B=2&Z=4&_=3&a=1')
  })

  it('leaves out excluded raw names', () => {
    const params = splitQuery('X-Amz-Signature=abc&X-Amz-Date=1')
    expect(canonicalQueryString(params, new Set(['X-Amz-Signature']))).toBe('X-Amz-Date=1')
  })

  it('normalises what encodeURIComponent leaves alone', () => {
    expect(canonicalQueryString(splitQuery("k=(a)!*'"))).toBe('k=%28a%29%21%2A%27')
  })

  it('upper-cases escapes and encodes what was sent raw, as the decode-then-encode definition says', () => {
    const raw = ['X-Amz-Credential=AK%2f2013%2Fus-east-1', 'a=b c', 'é=€', 'p=a+b', 'q=%7e~']
    expect(canonicalQueryString(splitQuery(raw.join('&')))).toBe(
      '%C3%A9=%E2%82%AC&X-Amz-Credential=AK%2F2013%2Fus-east-1&a=b%20c&p=a%2Bb&q=~~',
    )
    for (const part of raw) {
      const [name, value] = part.split('=') as [string, string]
      const reference = `${uriEncodeBytes(percentDecodeBytes(name))}=${uriEncodeBytes(percentDecodeBytes(value))}`
      expect(canonicalQueryString(splitQuery(part))).toBe(reference)
    }
  })
})

describe('splitTarget', () => {
  it('splits path and query and drops a fragment', () => {
    expect(splitTarget('/b/k%20y?x=1&y#frag')).toEqual({ path: '/b/k%20y', query: 'x=1&y' })
  })

  it('gives an empty path as slash', () => {
    expect(splitTarget('?lifecycle')).toEqual({ path: '/', query: 'lifecycle' })
  })
})

describe('canonicalHeaders', () => {
  it('trims, collapses inner whitespace and joins repeated values with commas', () => {
    const headers = { 'x-amz-meta-a': '  one   two  ', 'x-amz-meta-b': [' x ', 'y  z'] }
    expect(canonicalHeaders(headers, ['x-amz-meta-a', 'x-amz-meta-b', 'missing'])).toBe(
      'x-amz-meta-a:one two\nx-amz-meta-b:x,y z\nmissing:\n',
    )
  })
})

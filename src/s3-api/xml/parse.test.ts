import { describe, expect, it } from 'vitest'
import { childList, childText, parseXml } from './parse.js'

describe('parseXml()', () => {
  it('decodes the predefined entities clients use in ETags', () => {
    const doc = parseXml(
      '<C><Part><ETag>&quot;abc&quot;</ETag></Part><Part><ETag>x&amp;y</ETag></Part></C>',
    )
    expect(childList(doc.C, 'Part').map((p) => childText(p, 'ETag'))).toEqual(['"abc"', 'x&y'])
  })

  it('decodes numeric character references as Go clients write them, in a single pass', () => {
    const doc = parseXml('<C><ETag>&#34;abc&#x22;</ETag><K>&amp;#34;</K><L>caf&#233;</L></C>')
    expect(childText(doc.C, 'ETag')).toBe('"abc"')
    expect(childText(doc.C, 'K')).toBe('&#34;')
    expect(childText(doc.C, 'L')).toBe('café')
  })

  it('refuses a DOCTYPE (no external entities, no billion laughs) with MalformedXML', () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>'
    expect(() => parseXml(xxe)).toThrow(expect.objectContaining({ code: 'MalformedXML' }))
    const laughs = '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
    expect(() => parseXml(laughs)).toThrow(expect.objectContaining({ code: 'MalformedXML' }))
  })

  it.each(['', '<a>', '<a></b>', 'not xml', '<a><b></a></b>'])(
    'refuses malformed document %j',
    (text) => {
      expect(() => parseXml(text)).toThrow(expect.objectContaining({ code: 'MalformedXML' }))
    },
  )
})

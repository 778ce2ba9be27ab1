import { describe, expect, it } from 'vitest'
import { DATA_CENTER_ID_PATTERN, isKnownJurisdiction, JURISDICTIONS } from './jurisdictions.js'

describe('JURISDICTIONS', () => {
  it('holds the 249 assigned ISO 3166-1 alpha-2 codes, sorted and unique', () => {
    expect(JURISDICTIONS).toHaveLength(249)
    expect(new Set(JURISDICTIONS).size).toBe(249)
    expect([...JURISDICTIONS].sort()).toEqual(JURISDICTIONS)
  })

  it('names only codes the runtime knows as regions', () => {
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' })
    const unnamed = JURISDICTIONS.filter((code) => names.of(code) === code)
    expect(unnamed).toEqual([])
  })

  it('isKnownJurisdiction() accepts the default topology and refuses reserved or lower-case codes', () => {
    for (const code of ['CN', 'US', 'SG', 'JP', 'IN', 'AE', 'CH', 'DE']) {
      expect(isKnownJurisdiction(code)).toBe(true)
    }
    for (const code of ['EU', 'UN', 'XK', 'ZZ', 'XX', 'us', 'USA', '']) {
      expect(isKnownJurisdiction(code)).toBe(false)
    }
  })

  it('DATA_CENTER_ID_PATTERN accepts region-like ids only', () => {
    expect(DATA_CENTER_ID_PATTERN.test('us-west-1')).toBe(true)
    expect(DATA_CENTER_ID_PATTERN.test('cn-hangzhou')).toBe(true)
    for (const bad of ['US-west-1', 'uswest', 'u-west', 'us_west_1', 'us-west-', '../etc']) {
      expect(DATA_CENTER_ID_PATTERN.test(bad)).toBe(false)
    }
  })
})

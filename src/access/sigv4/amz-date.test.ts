import { describe, expect, it } from 'vitest'
import { formatAmzDate, parseAmzDate } from './amz-date.js'

describe('parseAmzDate', () => {
  it('reads the ISO 8601 basic format SigV4 uses', () => {
    expect(parseAmzDate('20130524T000000Z')).toBe(Date.UTC(2013, 4, 24))
    expect(parseAmzDate('20261128T235959Z')).toBe(Date.UTC(2026, 10, 28, 23, 59, 59))
  })

  it('accepts 29 February only in leap years', () => {
    expect(parseAmzDate('20240229T120000Z')).toBe(Date.UTC(2024, 1, 29, 12))
    expect(parseAmzDate('20000229T000000Z')).toBe(Date.UTC(2000, 1, 29))
    expect(parseAmzDate('20230229T000000Z')).toBeUndefined()
    expect(parseAmzDate('19000229T000000Z')).toBeUndefined()
  })

  it('refuses dates and times that would roll over', () => {
    for (const bad of [
      '20130231T000000Z',
      '20130431T000000Z',
      '20131301T000000Z',
      '20130001T000000Z',
      '20130100T000000Z',
      '20130101T240000Z',
      '20130101T006000Z',
      '20130101T000060Z',
    ]) {
      expect(parseAmzDate(bad), bad).toBeUndefined()
    }
  })

  it('refuses other shapes', () => {
    for (const bad of ['2013-05-24T00:00:00Z', '20130524T000000', '20130524T000000z', '', 'x']) {
      expect(parseAmzDate(bad), bad).toBeUndefined()
    }
  })

  it('is the inverse of formatAmzDate for every day of a leap and a common year', () => {
    for (const year of [2023, 2024]) {
      for (
        let t = Date.UTC(year, 0, 1);
        t < Date.UTC(year + 1, 0, 1);
        t += 86_400_000 + 3_723_000
      ) {
        const ms = t - (t % 1000)
        expect(parseAmzDate(formatAmzDate(ms))).toBe(ms)
      }
    }
  })
})

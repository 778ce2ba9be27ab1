import { describe, expect, it } from 'vitest'
import type { LifecycleFilter, LifecycleRule } from '../../meta/index.js'
import {
  abortingRule,
  dueAt,
  expiringRule,
  matchesFilter,
  scanPrefix,
  scheduledExpiration,
  type VersionFacts,
  versionAction,
} from './rules.js'

const DAY = 86_400_000
const NONE: LifecycleFilter = {
  form: 'empty',
  prefix: null,
  tags: [],
  objectSizeGreaterThan: null,
  objectSizeLessThan: null,
}
const filter = (f: Partial<LifecycleFilter>): LifecycleFilter => ({ ...NONE, form: 'and', ...f })
const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({
  id: 'r',
  status: 'Enabled',
  filter: NONE,
  expiration: null,
  noncurrentVersionExpiration: null,
  abortIncompleteMultipartUploadDays: null,
  ...r,
})
const days = (n: number) => ({ days: n, date: null, expiredObjectDeleteMarker: null })

describe('matchesFilter()', () => {
  const object = {
    key: 'logs/2030/a.txt',
    size: 100,
    tags: [
      { key: 'class', value: 'tmp' },
      { key: 'team', value: 'ops' },
    ],
  }
  it.each<[string, Partial<LifecycleFilter>, boolean]>([
    ['an empty filter', {}, true],
    ['its prefix', { prefix: 'logs/' }, true],
    ['an empty prefix', { prefix: '' }, true],
    ['another prefix', { prefix: 'img/' }, false],
    ['a tag it has', { tags: [{ key: 'class', value: 'tmp' }] }, true],
    ['a tag with another value', { tags: [{ key: 'class', value: 'keep' }] }, false],
    ['a tag key it lacks', { tags: [{ key: 'owner', value: '' }] }, false],
    [
      'all of two tags',
      {
        tags: [
          { key: 'class', value: 'tmp' },
          { key: 'team', value: 'ops' },
        ],
      },
      true,
    ],
    [
      'two tags, one missing',
      {
        tags: [
          { key: 'class', value: 'tmp' },
          { key: 'team', value: 'dev' },
        ],
      },
      false,
    ],
    ['size above 99', { objectSizeGreaterThan: 99 }, true],
    ['size above 100 (strict)', { objectSizeGreaterThan: 100 }, false],
    ['size below 101', { objectSizeLessThan: 101 }, true],
    ['size below 100 (strict)', { objectSizeLessThan: 100 }, false],
    [
      'prefix, tag and size together',
      { prefix: 'logs/', tags: [{ key: 'team', value: 'ops' }], objectSizeGreaterThan: 10 },
      true,
    ],
    ['prefix and a size it fails', { prefix: 'logs/', objectSizeLessThan: 50 }, false],
  ])('%s → %s', (_name, f, want) => {
    expect(matchesFilter(filter(f), object)).toBe(want)
  })
})

describe('dueAt()', () => {
  it('adds the days and rounds up to the next midnight UTC, as AWS does', () => {
    // AWS's own example: created 2014-01-15 10:30 UTC, 3 days → 2014-01-19 00:00 UTC.
    expect(new Date(dueAt(Date.UTC(2014, 0, 15, 10, 30), 3, DAY)).toISOString()).toBe(
      '2014-01-19T00:00:00.000Z',
    )
    expect(dueAt(Date.UTC(2014, 0, 15), 1, DAY)).toBe(Date.UTC(2014, 0, 16))
  })
  it('scales with an accelerated day', () => {
    expect(dueAt(1_050, 1, 200)).toBe(1_400)
    expect(dueAt(1_000, 2, 200)).toBe(1_400)
  })
})

describe('expiringRule()', () => {
  const lastModified = Date.UTC(2030, 0, 1, 12)
  const object = { key: 'tmp/a', size: 10, tags: [], lastModified }
  const due = Date.UTC(2030, 0, 3)
  it.each<[string, LifecycleRule[], number, string | null]>([
    ['Days: not before the rounded time', [rule({ expiration: days(1) })], due - 1, null],
    ['Days: at the rounded time', [rule({ expiration: days(1) })], due, 'r'],
    ['a Disabled rule never', [rule({ status: 'Disabled', expiration: days(1) })], due, null],
    [
      'a rule whose filter does not match',
      [rule({ expiration: days(1), filter: filter({ prefix: 'logs/' }) })],
      due,
      null,
    ],
    [
      'Date in the past expires whatever its age',
      [
        rule({
          expiration: {
            days: null,
            date: '2030-01-01T00:00:00.000Z',
            expiredObjectDeleteMarker: null,
          },
        }),
      ],
      lastModified + 1,
      'r',
    ],
    [
      'Date still ahead',
      [
        rule({
          expiration: {
            days: null,
            date: '2031-01-01T00:00:00.000Z',
            expiredObjectDeleteMarker: null,
          },
        }),
      ],
      due,
      null,
    ],
    [
      'ExpiredObjectDeleteMarker alone does not expire objects',
      [rule({ expiration: { days: null, date: null, expiredObjectDeleteMarker: true } })],
      due * 2,
      null,
    ],
    [
      'the first rule that fires',
      [rule({ id: 'late', expiration: days(30) }), rule({ id: 'soon', expiration: days(1) })],
      due,
      'soon',
    ],
  ])('%s', (_name, rules, now, want) => {
    expect(expiringRule(rules, object, now, DAY)?.id ?? null).toBe(want)
  })
})

describe('scheduledExpiration()', () => {
  const lastModified = Date.UTC(2030, 0, 1, 12)
  const object = { key: 'tmp/a', size: 10, tags: [{ key: 'class', value: 'tmp' }], lastModified }
  const on = (date: string) => ({ days: null, date, expiredObjectDeleteMarker: null })
  it.each<[string, LifecycleRule[], { at: number; ruleId: string } | null]>([
    ['no rule', [], null],
    [
      'Days: rounded up to midnight UTC',
      [rule({ expiration: days(1) })],
      {
        at: Date.UTC(2030, 0, 3),
        ruleId: 'r',
      },
    ],
    [
      'Date: that instant',
      [rule({ expiration: on('2030-06-01T00:00:00.000Z') })],
      {
        at: Date.UTC(2030, 5, 1),
        ruleId: 'r',
      },
    ],
    ['a Disabled rule is not reported', [rule({ status: 'Disabled', expiration: days(1) })], null],
    [
      'a rule whose filter does not match is not reported',
      [rule({ expiration: days(1), filter: filter({ tags: [{ key: 'class', value: 'keep' }] }) })],
      null,
    ],
    [
      'ExpiredObjectDeleteMarker alone schedules nothing',
      [rule({ expiration: { days: null, date: null, expiredObjectDeleteMarker: true } })],
      null,
    ],
    [
      'the earliest of several rules, whatever their order',
      [
        rule({ id: 'late', expiration: days(30) }),
        rule({ id: 'soon', expiration: on('2030-01-02T00:00:00.000Z') }),
        rule({ id: 'mid', expiration: days(5), filter: filter({ prefix: 'tmp/' }) }),
      ],
      { at: Date.UTC(2030, 0, 2), ruleId: 'soon' },
    ],
  ])('%s', (_name, rules, want) => {
    expect(scheduledExpiration(rules, object, DAY)).toEqual(want)
  })
})

describe('abortingRule()', () => {
  const upload = { key: 'up/big.bin', initiated: 1_000 }
  const rules = [rule({ filter: filter({ prefix: 'up/' }), abortIncompleteMultipartUploadDays: 2 })]
  it('aborts uploads under the prefix once DaysAfterInitiation have passed', () => {
    expect(abortingRule(rules, upload, 1_399, 200)).toBeNull()
    expect(abortingRule(rules, upload, 1_400, 200)?.id).toBe('r')
    expect(abortingRule(rules, { ...upload, key: 'other' }, 9_999, 200)).toBeNull()
    expect(
      abortingRule([{ ...rules[0], status: 'Disabled' } as LifecycleRule], upload, 9_999, 200),
    ).toBeNull()
  })
})

describe('versionAction()', () => {
  const base: VersionFacts = {
    key: 'a',
    size: 1,
    tags: [],
    lastModified: 0,
    isLatest: true,
    isDeleteMarker: false,
    noncurrentSince: null,
    newerNoncurrentVersions: 0,
    noncurrentVersionCount: 0,
  }
  const nve = rule({
    noncurrentVersionExpiration: { noncurrentDays: 2, newerNoncurrentVersions: 1 },
  })
  const marker = rule({ expiration: { days: null, date: null, expiredObjectDeleteMarker: true } })
  it.each<[string, LifecycleRule, Partial<VersionFacts>, number, string | null]>([
    ['a current version past Days', rule({ expiration: days(1) }), {}, 200, 'expire-current'],
    ['a current version before Days', rule({ expiration: days(1) }), {}, 199, null],
    [
      'a noncurrent version past NoncurrentDays, with one newer noncurrent kept',
      nve,
      { isLatest: false, noncurrentSince: 0, newerNoncurrentVersions: 1 },
      400,
      'delete-noncurrent',
    ],
    [
      'the newest noncurrent version (kept by NewerNoncurrentVersions)',
      nve,
      { isLatest: false, noncurrentSince: 0, newerNoncurrentVersions: 0 },
      10_000,
      null,
    ],
    [
      'a noncurrent version not yet old enough',
      nve,
      { isLatest: false, noncurrentSince: 0, newerNoncurrentVersions: 3 },
      399,
      null,
    ],
    [
      'a lone latest delete marker',
      marker,
      { isDeleteMarker: true, noncurrentVersionCount: 0 },
      0,
      'remove-delete-marker',
    ],
    [
      'a delete marker with noncurrent versions behind it',
      marker,
      { isDeleteMarker: true, noncurrentVersionCount: 2 },
      0,
      null,
    ],
    [
      'a delete marker without the flag',
      rule({ expiration: days(1) }),
      { isDeleteMarker: true },
      10_000,
      null,
    ],
  ])('%s', (_name, r, facts, now, want) => {
    expect(versionAction([r], { ...base, ...facts }, now, 200)?.kind ?? null).toBe(want)
  })
})

describe('scanPrefix()', () => {
  it('is the common prefix of the expiring rules, empty when one has none', () => {
    const r = (prefix: string | null) => rule({ expiration: days(1), filter: filter({ prefix }) })
    expect(scanPrefix([r('logs/2030/'), r('logs/2031/')])).toBe('logs/203')
    expect(scanPrefix([r('logs/'), r(null)])).toBe('')
    expect(scanPrefix([r('tmp/')])).toBe('tmp/')
    expect(scanPrefix([r('a\u{1F600}x'), r('a\u{1F600}y')])).toBe('a\u{1F600}')
    expect(scanPrefix([r('a\u{1F600}'), r('a\u{1F601}')])).toBe('a')
  })
})

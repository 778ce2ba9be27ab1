import { randomBytes } from 'node:crypto'
import type {
  LifecycleConfiguration,
  LifecycleExpiration,
  LifecycleFilter,
  LifecycleRule,
  LifecycleTag,
  NoncurrentVersionExpiration,
} from '../meta/index.js'
import { S3Error, S3Errors } from './s3-error.js'
import { childList, parseXml, type XmlNode } from './xml/parse.js'
import type { XmlValue } from './xml/render.js'

/** Most rules in one configuration (AWS). */
const MAX_RULES = 1000

/** Longest rule `ID` (AWS). */
const MAX_ID = 255

/** The header naming the default minimum size of transitions, and its values. */
export const TRANSITION_MINIMUM_HEADER = 'x-amz-transition-default-minimum-object-size'
const TRANSITION_MINIMUMS = ['all_storage_classes_128K', 'varies_by_storage_class'] as const

/** Elements a `Rule` may hold; anything else does not validate against the schema. */
const RULE_ELEMENTS = new Set([
  'ID',
  'Status',
  'Filter',
  'Prefix',
  'Expiration',
  'NoncurrentVersionExpiration',
  'AbortIncompleteMultipartUpload',
  'Transition',
  'NoncurrentVersionTransition',
])

const DAY_MS = 86_400_000

/** ISO 8601 as AWS accepts it for `Date`: a day, optionally a time and an offset. */
const ISO_DATE =
  /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/

const invalidArgument = (message: string) => new S3Error('InvalidArgument', message)
const invalidRequest = (message: string) => new S3Error('InvalidRequest', message)

/** The one child `name` of `node` (undefined if absent); a repeated one does not validate. */
function one(node: XmlNode, name: string): XmlNode | undefined {
  const list = childList(node, name)
  if (list.length > 1) throw S3Errors.malformedXml()
  return list[0]
}

/** The text of the one child `name`; an element where text belongs does not validate. */
function text(node: XmlNode, name: string): string | undefined {
  const child = one(node, name)
  if (child === undefined) return undefined
  if (typeof child !== 'string') throw S3Errors.malformedXml()
  return child
}

/** An element that holds elements: an empty one (`<Filter/>`) is an empty object. */
function element(node: XmlNode): Readonly<Record<string, XmlNode | readonly XmlNode[]>> {
  if (typeof node === 'string') {
    if (node !== '') throw S3Errors.malformedXml()
    return {}
  }
  return node as Readonly<Record<string, XmlNode | readonly XmlNode[]>>
}

/** An integer element: not a number at all does not validate; the range is the caller's. */
function integer(value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw S3Errors.malformedXml()
  return Number(value)
}

function positive(value: string | undefined, message: string): number | null {
  if (value === undefined) return null
  const n = integer(value)
  if (n <= 0) throw invalidArgument(message)
  return n
}

function tagOf(node: XmlNode): LifecycleTag {
  const key = text(node, 'Key')
  if (typeof node === 'string' || key === undefined) throw S3Errors.malformedXml()
  const value = text(node, 'Value') ?? ''
  if (key.length > 128) {
    throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: key })
  }
  if (value.length > 256) {
    throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', {
      TagKey: key,
      TagValue: value,
    })
  }
  return { key, value }
}

/** The size bounds of a filter (or its `And`), checked as AWS does. */
function sizes(
  node: XmlNode,
): Pick<LifecycleFilter, 'objectSizeGreaterThan' | 'objectSizeLessThan'> {
  const gtText = text(node, 'ObjectSizeGreaterThan')
  const ltText = text(node, 'ObjectSizeLessThan')
  const gt = gtText === undefined ? null : integer(gtText)
  const lt = ltText === undefined ? null : integer(ltText)
  if (gt !== null && gt < 0) {
    throw invalidArgument("'ObjectSizeGreaterThan' must be a non-negative integer")
  }
  if (lt !== null && lt <= 0)
    throw invalidArgument("'ObjectSizeLessThan' must be a positive integer")
  if (gt !== null && lt !== null && gt >= lt) {
    throw invalidArgument("'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'")
  }
  return { objectSizeGreaterThan: gt, objectSizeLessThan: lt }
}

/**
 * A rule's `Filter` (exactly one of `Prefix`, `Tag`, `ObjectSizeGreaterThan`,
 * `ObjectSizeLessThan`, `And`, or none at all), or its legacy top-level `Prefix`: exactly one
 * of the two must be there.
 */
function filterOf(rule: XmlNode): LifecycleFilter {
  const legacy = text(rule, 'Prefix')
  const filterNode = one(rule, 'Filter')
  if ((legacy === undefined) === (filterNode === undefined)) throw S3Errors.malformedXml()
  const none = { prefix: null, tags: [], objectSizeGreaterThan: null, objectSizeLessThan: null }
  if (legacy !== undefined) return { ...none, form: 'legacy-prefix', prefix: legacy }
  const filter = element(filterNode as XmlNode)
  const present = Object.keys(filter)
  if (present.length === 0) return { ...none, form: 'empty' }
  if (present.length > 1) throw S3Errors.malformedXml()
  const node = filterNode as XmlNode
  switch (present[0]) {
    case 'Prefix':
      return { ...none, form: 'prefix', prefix: text(node, 'Prefix') ?? '' }
    case 'Tag':
      return { ...none, form: 'tag', tags: [tagOf(one(node, 'Tag') as XmlNode)] }
    case 'ObjectSizeGreaterThan':
      return { ...none, form: 'size-greater-than', ...sizes(node) }
    case 'ObjectSizeLessThan':
      return { ...none, form: 'size-less-than', ...sizes(node) }
    case 'And': {
      const and = one(node, 'And') as XmlNode
      const inside = Object.keys(element(and))
      if (inside.length === 0 || inside.some((n) => !AND_ELEMENTS.has(n))) {
        throw S3Errors.malformedXml()
      }
      const tags = childList(and, 'Tag').map(tagOf)
      const keys = new Set(tags.map((t) => t.key))
      if (keys.size !== tags.length) throw invalidRequest('Duplicate Tag Keys are not allowed.')
      return { ...none, form: 'and', prefix: text(and, 'Prefix') ?? null, tags, ...sizes(and) }
    }
    default:
      throw S3Errors.malformedXml()
  }
}

const AND_ELEMENTS = new Set(['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'])

/** Parses a lifecycle `Date`: ISO 8601 (else `MalformedXML`), at midnight UTC (else `InvalidArgument`). */
function dateOf(value: string): string {
  const m = ISO_DATE.exec(value.trim())
  if (m === null) throw S3Errors.malformedXml()
  const [, day, time, zone] = m
  const iso = time === undefined ? `${day}T00:00:00Z` : `${day}T${time}${zone ?? 'Z'}`
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw S3Errors.malformedXml()
  if (ms % DAY_MS !== 0) throw invalidArgument("'Date' must be at midnight GMT")
  return new Date(ms).toISOString()
}

function expirationOf(node: XmlNode | undefined): LifecycleExpiration | null {
  if (node === undefined) return null
  element(node)
  const daysText = text(node, 'Days')
  const dateText = text(node, 'Date')
  const markerText = text(node, 'ExpiredObjectDeleteMarker')
  const given = [daysText, dateText, markerText].filter((v) => v !== undefined).length
  if (given !== 1) throw S3Errors.malformedXml()
  if (markerText !== undefined && markerText !== 'true' && markerText !== 'false') {
    throw S3Errors.malformedXml()
  }
  return {
    days: positive(daysText, "'Days' for Expiration action must be a positive integer"),
    date: dateText === undefined ? null : dateOf(dateText),
    expiredObjectDeleteMarker: markerText === undefined ? null : markerText === 'true',
  }
}

function noncurrentOf(node: XmlNode | undefined): NoncurrentVersionExpiration | null {
  if (node === undefined) return null
  element(node)
  const days = positive(
    text(node, 'NoncurrentDays'),
    "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
  )
  if (days === null) throw S3Errors.malformedXml()
  const newerText = text(node, 'NewerNoncurrentVersions')
  const newer = newerText === undefined ? null : integer(newerText)
  if (newer !== null && (newer < 1 || newer > 100)) {
    throw invalidArgument(
      "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100",
    )
  }
  return { noncurrentDays: days, newerNoncurrentVersions: newer }
}

function abortDaysOf(node: XmlNode | undefined): number | null {
  if (node === undefined) return null
  element(node)
  const days = positive(
    text(node, 'DaysAfterInitiation'),
    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
  )
  if (days === null) throw S3Errors.malformedXml()
  return days
}

/** A rule ID for a rule sent without one (AWS also makes one up). */
function generatedId(): string {
  return randomBytes(24).toString('base64')
}

function ruleOf(node: XmlNode, ids: Set<string>): LifecycleRule {
  const names = Object.keys(element(node))
  if (names.some((n) => !RULE_ELEMENTS.has(n))) throw S3Errors.malformedXml()
  const status = text(node, 'Status')
  if (status !== 'Enabled' && status !== 'Disabled') throw S3Errors.malformedXml()
  const givenId = text(node, 'ID')
  if (givenId !== undefined && givenId.length > MAX_ID) {
    throw invalidArgument('ID length should not exceed allowed limit of 255')
  }
  const id = givenId === undefined || givenId === '' ? generatedId() : givenId
  if (ids.has(id)) {
    throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule')
  }
  ids.add(id)
  const filter = filterOf(node)
  // Sovra has one storage class: a transition cannot be honoured, so it is refused, not ignored.
  if (childList(node, 'Transition').length > 0) {
    throw S3Errors.notImplemented('lifecycle Transition (Sovra has no storage classes)')
  }
  if (childList(node, 'NoncurrentVersionTransition').length > 0) {
    throw S3Errors.notImplemented(
      'lifecycle NoncurrentVersionTransition (Sovra has no storage classes)',
    )
  }
  const expiration = expirationOf(one(node, 'Expiration'))
  const noncurrentVersionExpiration = noncurrentOf(one(node, 'NoncurrentVersionExpiration'))
  const abortIncompleteMultipartUploadDays = abortDaysOf(
    one(node, 'AbortIncompleteMultipartUpload'),
  )
  if (
    expiration === null &&
    noncurrentVersionExpiration === null &&
    abortIncompleteMultipartUploadDays === null
  ) {
    throw invalidRequest('At least one action needs to be specified in a rule')
  }
  const byTagsOrSize =
    filter.tags.length > 0 ||
    filter.objectSizeGreaterThan !== null ||
    filter.objectSizeLessThan !== null
  if (abortIncompleteMultipartUploadDays !== null && byTagsOrSize) {
    throw invalidRequest(
      'AbortIncompleteMultipartUpload cannot be specified with Tags or object size filters.',
    )
  }
  if (expiration?.expiredObjectDeleteMarker != null && filter.tags.length > 0) {
    throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with Tags.')
  }
  return {
    id,
    status,
    filter,
    expiration,
    noncurrentVersionExpiration,
    abortIncompleteMultipartUploadDays,
  }
}

/**
 * Parses and checks a `LifecycleConfiguration` document as AWS does: 1–1000 `Rule`s (else
 * `MalformedXML`), each with `Status` `Enabled` or `Disabled` (`MalformedXML`), an `ID` of at
 * most 255 characters unique in the document (`InvalidArgument`; generated when absent), exactly
 * one of `Filter` or legacy `Prefix` and at most one predicate in the filter (`MalformedXML`),
 * at least one action (`InvalidRequest`), positive `Days`, `NoncurrentDays` and
 * `DaysAfterInitiation` and a `Date` at midnight UTC (`InvalidArgument`). `Transition` and
 * `NoncurrentVersionTransition` get `NotImplemented`: Sovra has no storage classes.
 */
export function parseLifecycleXml(
  body: Buffer,
  transitionMinimum: string | undefined,
): LifecycleConfiguration {
  if (body.length === 0) {
    throw new S3Error('MissingRequestBodyError', 'Request Body is empty')
  }
  const root = parseXml(body).LifecycleConfiguration
  if (root === undefined || typeof root === 'string') throw S3Errors.malformedXml()
  const names = Object.keys(root)
  if (names.some((n) => n !== 'Rule')) throw S3Errors.malformedXml()
  const rules = childList(root, 'Rule')
  if (rules.length === 0 || rules.length > MAX_RULES) throw S3Errors.malformedXml()
  const ids = new Set<string>()
  const parsed = rules.map((r) => ruleOf(r, ids))
  const minimum = transitionMinimum ?? 'all_storage_classes_128K'
  if (!(TRANSITION_MINIMUMS as readonly string[]).includes(minimum)) {
    throw S3Errors.invalidArgument(
      `Invalid value for ${TRANSITION_MINIMUM_HEADER}`,
      TRANSITION_MINIMUM_HEADER,
      minimum,
    )
  }
  return {
    rules: parsed,
    transitionDefaultMinimumObjectSize:
      minimum as LifecycleConfiguration['transitionDefaultMinimumObjectSize'],
  }
}

function tagXml(t: LifecycleTag): XmlValue {
  return { Key: t.key, Value: t.value }
}

function filterXml(f: LifecycleFilter): { readonly [name: string]: XmlValue } {
  switch (f.form) {
    case 'legacy-prefix':
      return { Prefix: f.prefix ?? '' }
    case 'empty':
      return { Filter: {} }
    case 'prefix':
      return { Filter: { Prefix: f.prefix ?? '' } }
    case 'tag':
      return { Filter: { Tag: f.tags.map(tagXml) } }
    case 'size-greater-than':
      return { Filter: { ObjectSizeGreaterThan: f.objectSizeGreaterThan } }
    case 'size-less-than':
      return { Filter: { ObjectSizeLessThan: f.objectSizeLessThan } }
    case 'and':
      return {
        Filter: {
          And: {
            ObjectSizeGreaterThan: f.objectSizeGreaterThan,
            ObjectSizeLessThan: f.objectSizeLessThan,
            Prefix: f.prefix,
            Tag: f.tags.map(tagXml),
          },
        },
      }
  }
}

/** A `LifecycleConfiguration` response body (GetBucketLifecycleConfiguration), in AWS's order. */
export function lifecycleXml(config: LifecycleConfiguration): {
  readonly [name: string]: XmlValue
} {
  return {
    Rule: config.rules.map((r) => ({
      Expiration:
        r.expiration === null
          ? undefined
          : {
              Date: r.expiration.date,
              Days: r.expiration.days,
              ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker,
            },
      ID: r.id,
      ...filterXml(r.filter),
      Status: r.status,
      NoncurrentVersionExpiration:
        r.noncurrentVersionExpiration === null
          ? undefined
          : {
              NewerNoncurrentVersions: r.noncurrentVersionExpiration.newerNoncurrentVersions,
              NoncurrentDays: r.noncurrentVersionExpiration.noncurrentDays,
            },
      AbortIncompleteMultipartUpload:
        r.abortIncompleteMultipartUploadDays === null
          ? undefined
          : { DaysAfterInitiation: r.abortIncompleteMultipartUploadDays },
    })),
  }
}

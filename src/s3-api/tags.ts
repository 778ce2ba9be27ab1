import { canonicalize } from '../core/index.js'
import type { Tag } from '../meta/index.js'
import { S3Error, S3Errors } from './s3-error.js'
import { childList, childText, parseXml } from './xml/parse.js'
import type { XmlValue } from './xml/render.js'

/** What carries the tags: objects allow 10, buckets 50 (AWS limits). */
export type TagScope = 'object' | 'bucket'

const LIMITS: Record<TagScope, { readonly count: number; readonly message: string }> = {
  object: { count: 10, message: 'Object tags cannot be greater than 10' },
  bucket: { count: 50, message: 'Bucket tag count cannot be greater than 50' },
}

/** Letters, numbers, spaces (Unicode separators) and `_ . : / = + - @`, as AWS allows. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u
const MAX_KEY = 128
const MAX_VALUE = 256

const HEADER_MESSAGE =
  "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."

function invalidTag(message: string, details: Record<string, string>): S3Error {
  return new S3Error('InvalidTag', message, details)
}

/**
 * Checks a tag set as AWS does, tag by tag in order (the first bad tag is reported), then the
 * count: keys 1–128 and values 0–256 characters (UTF-16 units) of letters, numbers, spaces and
 * `_ . : / = + - @`, no `aws:` prefix, no key twice (`InvalidTag`); at most 10 tags on an object
 * and 50 on a bucket (`BadRequest`).
 */
export function validateTags(tags: readonly Tag[], scope: TagScope): void {
  const seen = new Set<string>()
  for (const { key, value } of tags) {
    if (key.length < 1 || key.length > MAX_KEY || !TAG_TEXT.test(key)) {
      throw invalidTag('The TagKey you have provided is invalid', { TagKey: key })
    }
    if (value.length > MAX_VALUE || !TAG_TEXT.test(value)) {
      throw invalidTag('The TagValue you have provided is invalid', {
        TagKey: key,
        TagValue: value,
      })
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw invalidTag('System tags cannot be added/updated by requester', { TagKey: key })
    }
    if (seen.has(key)) {
      throw invalidTag('Cannot provide multiple Tags with the same key', { TagKey: key })
    }
    seen.add(key)
  }
  const limit = LIMITS[scope]
  if (tags.length > limit.count) throw new S3Error('BadRequest', limit.message)
}

/** Parses and checks a `Tagging` document (PutObjectTagging, PutBucketTagging). */
export function parseTaggingXml(body: Buffer, scope: TagScope): Tag[] {
  if (body.length === 0) {
    throw new S3Error('MissingRequestBodyError', 'Request Body is empty')
  }
  const root = parseXml(body).Tagging
  if (root === undefined || typeof root === 'string') throw S3Errors.malformedXml()
  const sets = childList(root, 'TagSet')
  if (sets.length !== 1) throw S3Errors.malformedXml()
  const tags = childList(sets[0], 'Tag').map((tag) => {
    const key = childText(tag, 'Key')
    const value = childText(tag, 'Value')
    if (typeof tag === 'string' || key === undefined || value === undefined) {
      throw S3Errors.malformedXml()
    }
    return { key, value }
  })
  validateTags(tags, scope)
  return tags
}

function invalidHeader(value: string): S3Error {
  return S3Errors.invalidArgument(HEADER_MESSAGE, 'x-amz-tagging', value)
}

function decodeQueryPart(text: string, header: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    throw invalidHeader(header)
  }
}

/**
 * Parses `x-amz-tagging` (URL query form, `k1=v1&k2=v2`, UTF-8 then percent-encoded): bad
 * encodings, empty keys and repeated keys get `InvalidArgument`; then the tags are checked like
 * a `Tagging` document. An absent header is no tags.
 */
export function parseTaggingHeader(header: string | undefined): Tag[] {
  if (header === undefined || header === '') return []
  const tags: Tag[] = []
  const seen = new Set<string>()
  for (const part of header.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const key = decodeQueryPart(eq === -1 ? part : part.slice(0, eq), header)
    const value = eq === -1 ? '' : decodeQueryPart(part.slice(eq + 1), header)
    if (key === '' || seen.has(key)) throw invalidHeader(header)
    seen.add(key)
    tags.push({ key, value })
  }
  validateTags(tags, 'object')
  return tags
}

/** The `x-amz-tagging` header of a request, parsed and checked. */
export function taggingOf(headers: { readonly [name: string]: unknown }): Tag[] {
  const header = headers['x-amz-tagging']
  return parseTaggingHeader(typeof header === 'string' ? header : undefined)
}

/** A `Tagging` response body (GetObjectTagging, GetBucketTagging). */
export function tagSetXml(tags: readonly Tag[]): { readonly [name: string]: XmlValue } {
  return { TagSet: { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } }
}

/**
 * The text a tag set's ledger commitment covers: the canonical JSON of its `[key, value]` pairs
 * in order. Tags are customer data; only this commitment is ever logged.
 */
export function tagsCanonical(tags: readonly Tag[]): string {
  return canonicalize(tags.map((t) => [t.key, t.value]))
}

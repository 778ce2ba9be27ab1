import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { ChecksumAlgorithm } from '../../meta/index.js'
import { objectAclForWrite } from '../access-control.js'
import { MAX_SINGLE_UPLOAD } from '../body.js'
import { assertChecksumValue, checksumHeaders } from '../checksums.js'
import type { RequestContext } from '../context.js'
import { sseResponseHeaders, writeEncryptionOf } from '../encryption.js'
import { quoteEtag, storedHeadersOf, userMetadataOf, validateKey } from '../object-headers.js'
import { checksumRequestOf, contentMd5Of, Digest, storeBytes } from '../object-writer.js'
import { checkPostPolicy, parsePostPolicy } from '../post-policy.js'
import { sendEmpty, sendXml } from '../response.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { parseTaggingXml } from '../tags.js'
import { writeVersionOf } from '../versioning.js'
import { objectPutEvent } from './put-object.js'
import { commitObject } from './store-object.js'

/**
 * PostObject (browser uploads, `POST /<bucket>` with `multipart/form-data`). The S3 handler has
 * read the form up to its file and authenticated the policy's signature; this checks the policy
 * (expiry, conditions, coverage), then streams the file into the same write path as PutObject:
 * encrypted, digested, size-checked as it arrives (`content-length-range`), committed with its
 * `object.put` ledger event. Nothing is written when any check fails.
 */

/** The form variable a `key` field may hold, replaced by the file's name (S3's own syntax). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal form variable, not a template
export const FILENAME_VARIABLE = '${filename}'

/** Canned ACLs that mean what a private, single-owner bucket already is (as for PutObject). */
/** Form fields naming features Sovra does not have; silently dropping them would mislead. */
const UNSUPPORTED_FIELDS = [
  'x-amz-server-side-encryption-context',
  'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date',
  'x-amz-object-lock-legal-hold',
  'x-amz-website-redirect-location',
  'x-amz-security-token',
]

/** The form fields that play the part PutObject's headers play. */
function headersOf(fields: ReadonlyMap<string, string>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {}
  for (const [name, value] of fields) {
    // A form has no trailers: `x-amz-trailer` would name a checksum that never comes.
    if (name === 'policy' || name === 'key' || name === 'x-amz-trailer') continue
    headers[name] = value
  }
  return headers
}

function checkUnsupported(fields: ReadonlyMap<string, string>): void {
  for (const name of UNSUPPORTED_FIELDS) {
    if (fields.has(name)) throw S3Errors.notImplemented(`"${name}"`)
  }
  const storageClass = fields.get('x-amz-storage-class')
  if (storageClass !== undefined && storageClass !== 'STANDARD') {
    throw S3Errors.notImplemented(`"x-amz-storage-class: ${storageClass}"`)
  }
}

function tooLarge(size: number, max: number): S3Error {
  return new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
    ProposedSize: String(size),
    MaxSizeAllowed: String(max),
  })
}

/** The file's bytes, failing with `EntityTooLarge` as soon as they pass `max`. */
function bounded(source: Readable, max: number): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    let size = 0
    for await (const chunk of source) {
      size += (chunk as Buffer).length
      if (size > max) throw tooLarge(size, max)
      yield chunk as Buffer
    }
  }
  return Readable.from(bytes(), { objectMode: false })
}

/** The object's URL as the client addressed the bucket (path or virtual-hosted style). */
function locationOf(ctx: RequestContext, bucket: string, key: string): string {
  const host = String(ctx.req.headers.host ?? '')
  const proto = ctx.req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'
  const encodedKey = key.split('/').map(encodeURIComponent).join('/')
  const path = (ctx.req.url ?? '/').split('?')[0] ?? '/'
  const virtual = path === '/' || path === ''
  return virtual
    ? `${proto}://${host}/${encodedKey}`
    : `${proto}://${host}/${encodeURIComponent(bucket)}/${encodedKey}`
}

/** A success_action_redirect target AWS would follow: an absolute http(s) URL. */
function redirectTarget(value: string | undefined): URL | null {
  if (value === undefined || value === '') return null
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null
  } catch {
    return null
  }
}

/** Verifies what the form asked of the bytes: Content-MD5 and x-amz-checksum-* fields. */
function verifyDigest(
  digest: { md5: Buffer; checksums: Partial<Record<ChecksumAlgorithm, string>> },
  expectedMd5: Buffer | null,
  expected: Partial<Record<ChecksumAlgorithm, string>>,
): void {
  if (expectedMd5 !== null && !expectedMd5.equals(digest.md5)) {
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.')
  }
  for (const [algorithm, value] of Object.entries(expected) as Array<[ChecksumAlgorithm, string]>) {
    assertChecksumValue(algorithm, value)
    if (digest.checksums[algorithm] !== value) {
      throw new S3Error(
        'BadDigest',
        `The ${algorithm} you specified did not match the calculated checksum.`,
      )
    }
  }
}

/** PostObject: policy checks, then the file streamed into the PutObject write path. */
export async function postObject(ctx: RequestContext): Promise<void> {
  const form = ctx.postForm
  if (form === undefined) {
    // Header- or query-signed: a POST Object is authenticated by its form's policy only.
    throw S3Errors.notImplemented(
      '"POST Object signed by an Authorization header or presigned URL"',
    )
  }
  const { fields } = form
  const bucket = ctx.s3.bucket as string
  const rawKey = fields.get('key')
  if (rawKey === undefined) {
    throw S3Errors.invalidArgument(
      "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
      'key',
      '',
    )
  }
  const key = rawKey.replaceAll(FILENAME_VARIABLE, form.file.filename)
  if (key === '')
    throw S3Errors.invalidArgument('User key must have a length greater than 0.', 'key', '')
  validateKey(key)
  const policy = parsePostPolicy(fields.get('policy') ?? '')
  const range = checkPostPolicy(policy, { fields, bucket, key }, ctx.deps.now())
  checkUnsupported(fields)
  const headers = headersOf(fields)
  const stored = storedHeadersOf(headers)
  const userMetadata = userMetadataOf(headers)
  const tagging = fields.get('tagging')
  const tags = tagging === undefined ? [] : parseTaggingXml(Buffer.from(tagging, 'utf8'), 'object')
  // The form's `acl` field is the canned ACL (`x-amz-acl` of a PUT).
  const cannedField = fields.get('acl')
  const acl = await objectAclForWrite(ctx, {
    ...headers,
    ...(cannedField === undefined ? {} : { 'x-amz-acl': cannedField }),
  })
  const wanted = checksumRequestOf(headers)
  const md5Expected = contentMd5Of(headers)
  const sse = await writeEncryptionOf(ctx, headers)
  const max = Math.min(range?.max ?? MAX_SINGLE_UPLOAD, MAX_SINGLE_UPLOAD)
  // The request's length bounds the file's: small forms stay in memory like small PUTs.
  const declared = Number(ctx.req.headers['content-length'] ?? Number.NaN)
  const bound = Number.isSafeInteger(declared) ? Math.min(declared, max) : max
  const digest = new Digest(wanted.algorithms)
  const data = await storeBytes(ctx, bounded(form.file.stream, max), {
    length: bound + 1,
    digest,
    inline: bound < ctx.deps.settings.inlineMaxBytes,
    seal: { identity: { bucket, key, versionId: null }, provider: sse.provider },
  })
  let md5: string
  let checksums: Partial<Record<ChecksumAlgorithm, string>>
  try {
    if (range !== null && digest.size < range.min) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed size',
        { ProposedSize: String(digest.size), MinSizeAllowed: String(range.min) },
      )
    }
    const done = digest.finish()
    verifyDigest(done, md5Expected, wanted.expected)
    md5 = done.md5.toString('hex')
    checksums = done.checksums
  } catch (err) {
    if (data.kind === 'pending') await data.pending.discard()
    throw err
  }
  ctx.deps.metrics.bytesIn.inc({ dc: ctx.deps.cell.dc.id, op: ctx.s3.op }, digest.size)
  const received = { data, size: digest.size, md5, checksums }
  const version = await writeVersionOf(ctx, bucket)
  const event = await objectPutEvent(ctx, {
    key,
    size: received.size,
    md5,
    userMetadata,
    tags,
    versionId: version.versionId,
  })
  const record = await commitObject(
    ctx,
    received,
    {
      bucket,
      key,
      versionId: version.versionId,
      etag: md5,
      lastModified: ctx.deps.now(),
      headers: stored,
      userMetadata,
      checksums,
      checksumType: Object.keys(checksums).length > 0 ? 'FULL_OBJECT' : null,
      partsCount: null,
      partSizes: null,
      encryption: sse.encryption,
      tags,
      ...(acl === undefined ? {} : { acl }),
    },
    undefined,
    event,
  )
  const etag = quoteEtag(record.etag)
  const location = locationOf(ctx, bucket, key)
  const out: Record<string, string> = {
    etag,
    location,
    ...checksumHeaders(record.checksums),
    ...sseResponseHeaders(sse.encryption, sse.customerKey),
    ...version.header,
  }
  const redirect = redirectTarget(fields.get('success_action_redirect') ?? fields.get('redirect'))
  if (redirect !== null) {
    redirect.searchParams.set('bucket', bucket)
    redirect.searchParams.set('key', key)
    redirect.searchParams.set('etag', etag)
    sendEmpty(ctx.res, 303, { ...out, location: redirect.toString() })
    return
  }
  const status = fields.get('success_action_status')
  if (status === '201') {
    sendXml(
      ctx.res,
      201,
      'PostResponse',
      { Location: location, Bucket: bucket, Key: key, ETag: etag },
      out,
    )
    return
  }
  sendEmpty(ctx.res, status === '200' ? 200 : 204, out)
}

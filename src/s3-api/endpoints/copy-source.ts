import type { Readable } from 'node:stream'
import { decryptingRead } from '../../cell/index.js'
import type { SseCKey } from '../../keys/index.js'
import { isVersionId, type ObjectRecord } from '../../meta/index.js'
import { commitment, readAccess } from '../audit.js'
import { actionOf, mayAccess } from '../authorize.js'
import type { RequestContext } from '../context.js'
import { customerKeyForRead } from '../encryption.js'
import { S3Error, S3Errors } from '../s3-error.js'
import { type ByteRange, evaluateConditions } from './read-object.js'

/** A resolved copy source: the record (with inline bytes), here or, through the gate, elsewhere. */
export interface CopySource {
  readonly bucket: string
  readonly key: string
  /** The `versionId` the copy source named, if any. */
  readonly versionId?: string
  readonly record: ObjectRecord
  /** The source's SSE-C key (`x-amz-copy-source-server-side-encryption-customer-*`), if any. */
  readonly customerKey: SseCKey | null
  /** Reads the plaintext of a source in another data center, through the transfer gate. */
  readonly read?: (range: ByteRange | null) => Promise<Readable>
}

/** The header naming the submitted transfer instruction a cross-data-center copy runs under. */
export const TRANSFER_INSTRUCTION_HEADER = 'x-sovra-transfer-instruction'

function parseCopySource(header: string): {
  bucket: string
  key: string
  versionId: string | null
} {
  const [path = '', query = ''] = header.split('?', 2)
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    throw S3Errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', header)
  }
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded
  const slash = trimmed.indexOf('/')
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw S3Errors.invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      header,
    )
  }
  const versionId = new URLSearchParams(query).get('versionId')
  return { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1), versionId }
}

/**
 * Resolves `x-amz-copy-source`. A source bucket in another data center is refused: copying
 * across data centers is the transfer gate's job, with the customer's signed instruction.
 */
export async function resolveCopySource(ctx: RequestContext): Promise<CopySource> {
  const header = String(ctx.req.headers['x-amz-copy-source'] ?? '')
  const src = parseCopySource(header)
  const versionId = src.versionId ?? undefined
  if (versionId !== undefined && !isVersionId(versionId)) {
    throw S3Errors.invalidArgument('Invalid version id specified', 'x-amz-copy-source', header)
  }
  const bucket = await ctx.deps.directory.getBucket(src.bucket)
  if (bucket === null) throw S3Errors.noSuchBucket(src.bucket)
  if (bucket.dcId !== ctx.deps.cell.dc.id) {
    // Across data centers only the source's owner copies, through the gate, which copies
    // current versions only.
    if (ctx.requester.kind !== 'tenant' || bucket.tenantId !== ctx.requester.tenant.id) {
      throw S3Errors.accessDenied()
    }
    if (versionId !== undefined)
      throw S3Errors.notImplemented('"versionId" in a copy source in another data center')
    return throughGate(ctx, src, bucket.dcId)
  }
  await authorizeSourceRead(ctx, src.bucket, src.key, bucket.tenantId, versionId !== undefined)
  const found = await ctx.deps.cell.meta.getVersion(src.bucket, src.key, {
    withData: true,
    ...(versionId === undefined ? {} : { versionId }),
  })
  if (found?.kind === 'deleteMarker' && versionId !== undefined) {
    throw new S3Error(
      'InvalidRequest',
      'The source of a copy request may not specifically refer to a delete marker by version id.',
    )
  }
  if (found?.kind !== 'object') {
    throw versionId === undefined
      ? S3Errors.noSuchKey(src.key)
      : S3Errors.noSuchVersion(src.key, versionId)
  }
  const record = found.record
  const customerKey = customerKeyForRead(ctx, record.encryption, true)
  checkCopyConditions(ctx, record)
  return {
    bucket: src.bucket,
    key: src.key,
    ...(versionId === undefined ? {} : { versionId }),
    record,
    customerKey,
  }
}

/**
 * The requester must be allowed to read the source as if it sent a GetObject for it: the source
 * bucket's policy and ACLs decide (the same authorizer as every request).
 */
async function authorizeSourceRead(
  ctx: RequestContext,
  bucket: string,
  key: string,
  ownerId: string,
  namesVersion: boolean,
): Promise<void> {
  const owner = await ctx.deps.directory.getTenant(ownerId)
  const record = await ctx.deps.cell.meta.getBucket(bucket)
  if (owner === null || record === null) throw S3Errors.noSuchBucket(bucket)
  const access = {
    deps: ctx.deps,
    req: ctx.req,
    auth: ctx.auth,
    requester: ctx.requester,
    owner,
    record,
    query: new URLSearchParams(),
  }
  const action = actionOf('GetObject', namesVersion)
  if (!(await mayAccess(access, 'GetObject', key, action))) throw S3Errors.accessDenied()
}

/**
 * A source bucket in another data center: refused unless the request names a submitted transfer
 * instruction of this tenant that covers exactly this copy; then the gate hands over the bytes.
 */
async function throughGate(
  ctx: RequestContext,
  src: { bucket: string; key: string },
  sourceDc: string,
): Promise<CopySource> {
  const here = ctx.deps.cell.dc.id
  const named = ctx.req.headers[TRANSFER_INSTRUCTION_HEADER]
  if (typeof named !== 'string' || named.trim() === '' || ctx.deps.transfers === undefined) {
    throw S3Errors.accessDenied(
      `Copying from bucket "${src.bucket}" in data center "${sourceDc}" to "${here}" needs a transfer instruction: the request names none. Data crosses data centers only through the transfer gate: submit an instruction signed by the customer that covers this copy and name its id in the "${TRANSFER_INSTRUCTION_HEADER}" header`,
    )
  }
  const covered = await ctx.deps.transfers.openCoveredSource({
    tenantId: ctx.tenant.id,
    transferId: named.trim(),
    source: { dc: sourceDc, bucket: src.bucket, key: src.key },
    destination: { dc: here, bucket: ctx.s3.bucket as string, key: ctx.s3.key as string },
    accept: (record) => checkCopyConditions(ctx, record),
  })
  if (covered === null) throw S3Errors.noSuchKey(src.key)
  return {
    bucket: src.bucket,
    key: src.key,
    record: covered.record,
    read: covered.read,
    customerKey: null,
  }
}

/** CopyObject's source conditions: the GET rules, where "not modified" is a 412 too. */
function checkCopyConditions(ctx: RequestContext, record: ObjectRecord): void {
  const prefix = 'x-amz-copy-source-'
  if (evaluateConditions(ctx.req.headers, record, prefix) === 'not-modified') {
    const name =
      ctx.req.headers[`${prefix}if-none-match`] === undefined
        ? 'If-Modified-Since'
        : 'If-None-Match'
    throw S3Errors.preconditionFailed(`${prefix}${name}`)
  }
}

/**
 * The source's plaintext bytes `range` (decrypted segment by segment, or through the gate). The
 * copy is logged by its own event (`object.copy`, or the upload's completion); when a customer
 * key service with log-before-decrypt must unwrap the source's data key, an `object.get` of the
 * source is logged first and its receipt sent with the unwrap.
 */
export async function sourceBytes(
  ctx: RequestContext,
  source: CopySource,
  range: ByteRange | null,
): Promise<Readable> {
  if (source.read !== undefined) return source.read(range)
  const bytes = range === null ? source.record.size : range.end - range.start + 1
  const access = readAccess(
    ctx,
    { type: 'object.get', key: await commitment(ctx, source.key), bytes },
    source.bucket,
  )
  return decryptingRead(ctx.deps.cell, source.record, {
    range,
    customerKey: source.customerKey,
    receipt: access.receipt,
  })
}

/** Parses `x-amz-copy-source-range: bytes=a-b`, which must lie inside the source. */
export function copyRangeOf(ctx: RequestContext, size: number): ByteRange | null {
  const header = ctx.req.headers['x-amz-copy-source-range']
  if (header === undefined) return null
  const m = /^bytes=(\d+)-(\d+)$/.exec(String(header).trim())
  if (m === null) {
    throw S3Errors.invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      String(header),
    )
  }
  const start = Number(m[1])
  const end = Number(m[2])
  if (end < start || end >= size) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', {
      ActualObjectSize: String(size),
    })
  }
  return { start, end }
}

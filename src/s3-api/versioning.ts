import { isVersionId, newVersionId, type VersionLookup } from '../meta/index.js'
import { findBucketRecord } from './access-control.js'
import type { RequestContext } from './context.js'
import { httpDate } from './object-headers.js'
import { S3Error, S3Errors } from './s3-error.js'

/**
 * The `versionId` a request names: absent, `null`, or a Sovra version id. Anything else is
 * S3's `InvalidArgument` "Invalid version id specified".
 */
export function versionIdParam(ctx: RequestContext): string | undefined {
  const versionId = ctx.s3.query.get('versionId')
  if (versionId === null) return undefined
  return checkVersionId(versionId)
}

/** Refuses a malformed version id (`InvalidArgument`); returns it. */
export function checkVersionId(versionId: string): string {
  if (!isVersionId(versionId)) throw S3Errors.invalidVersionId(versionId)
  return versionId
}

/** What a write in this bucket does with versions, read from the cell's store. */
export interface WriteVersion {
  /** The new version's id: fresh when versioning is enabled, else null (the `null` version). */
  readonly versionId: string | null
  /** `x-amz-version-id` for the response: absent in a bucket that was never versioned. */
  readonly header: Record<string, string>
}

/** The version id a write gets in the request's bucket (Enabled: a new one; else `null`). */
export async function writeVersionOf(ctx: RequestContext, bucket: string): Promise<WriteVersion> {
  const record = await findBucketRecord(ctx, bucket)
  const status = record?.versioning ?? null
  if (status === 'Enabled') {
    const versionId = newVersionId(ctx.deps.now())
    return { versionId, header: { 'x-amz-version-id': versionId } }
  }
  return { versionId: null, header: status === null ? {} : { 'x-amz-version-id': 'null' } }
}

/** `x-amz-version-id` of a version read: its id, or `null` when the request named it. */
export function versionHeader(
  versionId: string | null,
  requested: string | undefined,
): Record<string, string> {
  if (versionId !== null) return { 'x-amz-version-id': versionId }
  return requested === undefined ? {} : { 'x-amz-version-id': 'null' }
}

/** The ledger event's `versionId`: present when the version has an id. */
export function eventVersion(versionId: string | null): { versionId?: string } {
  return versionId === null ? {} : { versionId }
}

/**
 * The object version a read names, as S3 answers for what is not one: a current delete marker
 * is `NoSuchKey` 404 and a named one `MethodNotAllowed` 405, both with `x-amz-delete-marker:
 * true`; an unknown version `NoSuchVersion`, no object at all `NoSuchKey`.
 */
export function objectOrError(
  found: VersionLookup | null,
  key: string,
  requested: string | undefined,
  method: string,
): Extract<VersionLookup, { kind: 'object' }>['record'] {
  if (found?.kind === 'object') return found.record
  if (found === null) {
    throw requested === undefined ? S3Errors.noSuchKey(key) : S3Errors.noSuchVersion(key, requested)
  }
  const headers = { deleteMarker: 'true', versionId: found.versionId ?? 'null' }
  if (requested === undefined) {
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key, ...headers })
  }
  throw new S3Error(
    'MethodNotAllowed',
    'The specified method is not allowed against this resource.',
    {
      Method: method,
      ResourceType: 'DeleteMarker',
      ...headers,
      lastModified: httpDate(found.lastModified),
    },
  )
}

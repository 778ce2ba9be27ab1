import { SovraError } from '../core/index.js'
import type { MetaErrorCode } from './meta-store.js'

/** The one error class a MetaStore raises; `code` is one of `META_ERROR_CODES`. */
export class MetaError extends SovraError<MetaErrorCode> {
  constructor(
    code: MetaErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('meta', code, message, options)
  }
}

/** Why a conditional write failed: the key exists, is missing, or has another etag. */
export type PreconditionReason = 'exists' | 'missing' | 'etag-mismatch'

/** Factory table for every MetaError, so messages and details stay uniform. */
export const MetaErrors = {
  bucketAlreadyExists: (bucket: string) =>
    new MetaError('BucketAlreadyExists', `Cannot create bucket "${bucket}": it already exists`, {
      details: { bucket },
    }),
  noSuchBucket: (bucket: string) =>
    new MetaError('NoSuchBucket', `Cannot find bucket "${bucket}": it does not exist`, {
      details: { bucket },
    }),
  bucketNotEmpty: (bucket: string) =>
    new MetaError('BucketNotEmpty', `Cannot delete bucket "${bucket}": it still holds objects`, {
      details: { bucket },
    }),
  noSuchUpload: (uploadId: string) =>
    new MetaError('NoSuchUpload', `Cannot find upload "${uploadId}": it does not exist`, {
      details: { uploadId },
    }),
  noSuchKey: (bucket: string, key: string) =>
    new MetaError(
      'NoSuchKey',
      `Cannot find object "${key}" in bucket "${bucket}": it does not exist`,
      {
        details: { bucket, key },
      },
    ),
  noSuchVersion: (bucket: string, key: string, versionId: string) =>
    new MetaError(
      'NoSuchVersion',
      `Cannot find version "${versionId}" of object "${key}" in bucket "${bucket}": it does not exist`,
      { details: { bucket, key, versionId } },
    ),
  objectLocked: (bucket: string, key: string, versionId: string, why: string) =>
    new MetaError(
      'ObjectLocked',
      `Cannot change version "${versionId}" of object "${key}" in bucket "${bucket}": ${why}`,
      { details: { bucket, key, versionId } },
    ),
  preconditionFailed: (bucket: string, key: string, reason: PreconditionReason) =>
    new MetaError(
      'PreconditionFailed',
      `Cannot write object "${key}" in bucket "${bucket}": ${PRECONDITION_STATES[reason]}`,
      { details: { bucket, key, reason } },
    ),
  conditionalRequestConflict: (bucket: string, key: string) =>
    new MetaError(
      'ConditionalRequestConflict',
      `Cannot write object "${key}" in bucket "${bucket}": a concurrent write conflicts`,
      { details: { bucket, key } },
    ),
  storeClosed: () => new MetaError('StoreClosed', 'Cannot use the metadata store: it is closed'),
} as const

const PRECONDITION_STATES: Record<PreconditionReason, string> = {
  exists: 'the object already exists',
  missing: 'the object does not exist',
  'etag-mismatch': 'the object has another etag',
}

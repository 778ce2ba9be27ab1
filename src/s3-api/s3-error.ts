import { SovraError } from '../core/index.js'

/** S3 protocol errors raised by the S3 face itself; `code` is the S3 error code. */
export const S3_PROTOCOL_CODES = [
  'AccessControlListNotSupported',
  'AccessDenied',
  'AccessForbidden',
  'BadDigest',
  'BadRequest',
  'BucketAlreadyExists',
  'BucketAlreadyOwnedByYou',
  'EntityTooLarge',
  'EntityTooSmall',
  'IllegalLocationConstraintException',
  'IncompleteBody',
  'IncorrectNumberOfFilesInPostRequest',
  'InvalidArgument',
  'InvalidBucketAclWithObjectOwnership',
  'InvalidBucketName',
  'InvalidBucketState',
  'InvalidDigest',
  'InvalidPart',
  'InvalidPartNumber',
  'InvalidPartOrder',
  'InvalidPolicyDocument',
  'InvalidRange',
  'InvalidRequest',
  'InvalidTag',
  'InvalidURI',
  'KeyTooLongError',
  'MalformedACLError',
  'MalformedPolicy',
  'MalformedPOSTRequest',
  'MalformedXML',
  'MaxPostPreDataLengthExceeded',
  'MetadataTooLarge',
  'MethodNotAllowed',
  'MissingContentLength',
  'MissingRequestBodyError',
  'NoSuchBucket',
  'NoSuchBucketPolicy',
  'NoSuchCORSConfiguration',
  'NoSuchKey',
  'NoSuchLifecycleConfiguration',
  'NoSuchObjectLockConfiguration',
  'NoSuchPublicAccessBlockConfiguration',
  'NoSuchTagSet',
  'NoSuchUpload',
  'NoSuchVersion',
  'NotImplemented',
  'ObjectLockConfigurationNotFoundError',
  'OwnershipControlsNotFoundError',
  'PolicyTooLarge',
  'PreconditionFailed',
  'RequestHeaderSectionTooLarge',
  'UnexpectedContent',
  'UnresolvableGrantByEmailAddress',
  'InternalError',
  'SlowDown',
] as const
export type S3ProtocolCode = (typeof S3_PROTOCOL_CODES)[number]

/** An error the S3 face raises directly; mapped to its status in `errors.ts`. */
export class S3Error extends SovraError<S3ProtocolCode> {
  constructor(code: S3ProtocolCode, message: string, details?: Record<string, string>) {
    super('s3', code, message, details === undefined ? {} : { details })
  }
}

/** Factory table for the errors raised most often. */
export const S3Errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', message),
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string) =>
    new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key }),
  noSuchVersion: (key: string, versionId: string) =>
    new S3Error('NoSuchVersion', 'The specified version does not exist.', {
      Key: key,
      VersionId: versionId,
    }),
  invalidVersionId: (versionId: string) =>
    new S3Error('InvalidArgument', 'Invalid version id specified', {
      ArgumentName: 'versionId',
      ArgumentValue: versionId,
    }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(
      'InvalidArgument',
      message,
      name === undefined ? undefined : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  malformedXml: () =>
    new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  notImplemented: (what: string) =>
    new S3Error(
      'NotImplemented',
      `A header or query you provided implies functionality that is not implemented: ${what}`,
    ),
  preconditionFailed: (condition: string) =>
    new S3Error(
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      {
        Condition: condition,
      },
    ),
} as const

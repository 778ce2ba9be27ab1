import type { IncomingMessage } from 'node:http'
import { S3Error } from './s3-error.js'

/** Every S3 operation this server recognises (supported or answered NotImplemented). */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'PutBucketEncryption'
  | 'GetBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'PutBucketTagging'
  | 'GetBucketTagging'
  | 'DeleteBucketTagging'
  | 'PutBucketCors'
  | 'GetBucketCors'
  | 'DeleteBucketCors'
  | 'PutBucketLifecycleConfiguration'
  | 'GetBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycle'
  | 'GetBucketRequestPayment'
  | 'PutBucketRequestPayment'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'PutObject'
  | 'PostObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'PutObjectTagging'
  | 'GetObjectTagging'
  | 'DeleteObjectTagging'
  | 'GetObjectAttributes'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'PutBucketPolicy'
  | 'GetBucketPolicy'
  | 'DeleteBucketPolicy'
  | 'GetBucketPolicyStatus'
  | 'PutBucketAcl'
  | 'GetBucketAcl'
  | 'PutObjectAcl'
  | 'GetObjectAcl'
  | 'PutBucketOwnershipControls'
  | 'GetBucketOwnershipControls'
  | 'DeleteBucketOwnershipControls'
  | 'PutPublicAccessBlock'
  | 'GetPublicAccessBlock'
  | 'DeletePublicAccessBlock'
  | 'PutObjectLockConfiguration'
  | 'GetObjectLockConfiguration'
  | 'PutObjectRetention'
  | 'GetObjectRetention'
  | 'PutObjectLegalHold'
  | 'GetObjectLegalHold'

/** What the router made of a request: the operation, its bucket and key, and its query. */
export type S3Request =
  | {
      readonly op: 'ListBuckets'
      readonly bucket: null
      readonly key: null
      readonly query: URLSearchParams
    }
  | {
      readonly op: Exclude<S3Operation, 'ListBuckets'>
      readonly bucket: string
      readonly key: string | null
      readonly query: URLSearchParams
    }

/** The permission each operation needs; authorization checks it once, before any handler. */
export const PERMISSIONS: Record<S3Operation, string> = {
  ListBuckets: 's3:ListAllMyBuckets',
  CreateBucket: 's3:CreateBucket',
  HeadBucket: 's3:ListBucket',
  DeleteBucket: 's3:DeleteBucket',
  GetBucketLocation: 's3:GetBucketLocation',
  GetBucketVersioning: 's3:GetBucketVersioning',
  PutBucketVersioning: 's3:PutBucketVersioning',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  PutBucketTagging: 's3:PutBucketTagging',
  GetBucketTagging: 's3:GetBucketTagging',
  DeleteBucketTagging: 's3:PutBucketTagging',
  PutBucketCors: 's3:PutBucketCORS',
  GetBucketCors: 's3:GetBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  GetBucketRequestPayment: 's3:GetBucketRequestPayment',
  PutBucketRequestPayment: 's3:PutBucketRequestPayment',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  DeleteObjects: 's3:DeleteObject',
  PutObject: 's3:PutObject',
  PostObject: 's3:PutObject',
  CopyObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
  PutObjectTagging: 's3:PutObjectTagging',
  GetObjectTagging: 's3:GetObjectTagging',
  DeleteObjectTagging: 's3:DeleteObjectTagging',
  GetObjectAttributes: 's3:GetObjectAttributes',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  UploadPartCopy: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
  PutBucketPolicy: 's3:PutBucketPolicy',
  GetBucketPolicy: 's3:GetBucketPolicy',
  DeleteBucketPolicy: 's3:DeleteBucketPolicy',
  GetBucketPolicyStatus: 's3:GetBucketPolicyStatus',
  PutBucketAcl: 's3:PutBucketAcl',
  GetBucketAcl: 's3:GetBucketAcl',
  PutObjectAcl: 's3:PutObjectAcl',
  GetObjectAcl: 's3:GetObjectAcl',
  PutBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  GetBucketOwnershipControls: 's3:GetBucketOwnershipControls',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  PutObjectRetention: 's3:PutObjectRetention',
  GetObjectRetention: 's3:GetObjectRetention',
  PutObjectLegalHold: 's3:PutObjectLegalHold',
  GetObjectLegalHold: 's3:GetObjectLegalHold',
}

/**
 * Query parameters the supported operations understand. Any other parameter names an S3 feature
 * we do not implement (a subresource such as `?acl`, `?website`, `?metadataConfiguration`) and is
 * answered `NotImplemented`, so an unsupported request never falls through to a real handler.
 */
const KNOWN_PARAMS = new Set([
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'list-type',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'versionId',
  'versions',
  'key-marker',
  'version-id-marker',
  'uploads',
  'uploadId',
  'upload-id-marker',
  'max-uploads',
  'partNumber',
  'max-parts',
  'part-number-marker',
  'delete',
  'location',
  'versioning',
  'encryption',
  'tagging',
  'cors',
  'lifecycle',
  'requestPayment',
  'attributes',
  'acl',
  'policy',
  'policyStatus',
  'ownershipControls',
  'publicAccessBlock',
  'object-lock',
  'retention',
  'legal-hold',
  'max-buckets',
  'bucket-region',
  'x-id',
])

/**
 * Subresources that exist only on some resources and methods: `?cors` and `?lifecycle` on a
 * bucket, `?attributes` on GET of an object. Anywhere else they would fall through to a real
 * handler (a `PUT /bucket/key?cors` would overwrite the object), so they are answered
 * `NotImplemented`.
 */
function checkSubresourceScope(query: URLSearchParams, key: string | null, method: string): void {
  if (query.has('lifecycle') && method === 'POST') throw notImplemented('lifecycle with POST')
  if (key !== null) {
    for (const name of BUCKET_ONLY_SUBRESOURCES) {
      if (query.has(name)) throw notImplemented(`${name} on an object`)
    }
  }
  for (const name of ['retention', 'legal-hold']) {
    if (query.has(name) && (key === null || (method !== 'GET' && method !== 'PUT'))) {
      throw notImplemented(`${name} with ${method}${key === null ? ' on a bucket' : ''}`)
    }
  }
  if (query.has('object-lock') && method !== 'GET' && method !== 'PUT') {
    throw notImplemented(`object-lock with ${method}`)
  }
  if (query.has('attributes') && (key === null || method !== 'GET')) {
    throw notImplemented(`attributes with ${method}${key === null ? ' on a bucket' : ''}`)
  }
}

/** Subresources that exist only on a bucket. */
const BUCKET_ONLY_SUBRESOURCES = [
  'cors',
  'lifecycle',
  'requestPayment',
  'policy',
  'policyStatus',
  'ownershipControls',
  'publicAccessBlock',
  'object-lock',
]

/** Operations named by the SDKs' `x-id` parameter that we do not serve. */
const UNSUPPORTED_X_IDS = new Set(['ListDirectoryBuckets', 'CreateSession', 'RenameObject'])

function checkParams(query: URLSearchParams): void {
  for (const name of query.keys()) {
    if (
      KNOWN_PARAMS.has(name) ||
      name.startsWith('response-') ||
      name.toLowerCase().startsWith('x-amz-')
    )
      continue
    throw notImplemented(name)
  }
  const xid = query.get('x-id')
  if (xid !== null && UNSUPPORTED_X_IDS.has(xid)) throw notImplemented(`x-id=${xid}`)
}

/** Addressing: the endpoint's own host names, so `bucket.<host>` means virtual-hosted style. */
export interface RouterOptions {
  readonly virtualHostSuffixes: readonly string[]
}

function splitHost(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/** Decodes a percent-encoded path segment; malformed encodings get `InvalidURI`. */
function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI: "${raw}"`)
  }
}

/** Finds the bucket and key: from the Host header (virtual-hosted style) or the first path segment. */
export function addressOf(
  req: Pick<IncomingMessage, 'url' | 'headers'>,
  options: RouterOptions,
): { bucket: string | null; key: string | null; query: URLSearchParams } {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const rawPath = q === -1 ? url : url.slice(0, q)
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
  const host = splitHost(String(req.headers.host ?? '')).toLowerCase()
  for (const suffix of options.virtualHostSuffixes) {
    if (host.length > suffix.length + 1 && host.endsWith(`.${suffix}`)) {
      const bucket = host.slice(0, host.length - suffix.length - 1)
      const key = rawPath.length > 1 ? decodePath(rawPath.slice(1)) : null
      return { bucket, key, query }
    }
  }
  if (rawPath === '/' || rawPath === '') return { bucket: null, key: null, query }
  const slash = rawPath.indexOf('/', 1)
  if (slash === -1) return { bucket: decodePath(rawPath.slice(1)), key: null, query }
  const bucket = decodePath(rawPath.slice(1, slash))
  const rawKey = rawPath.slice(slash + 1)
  return { bucket, key: rawKey === '' ? null : decodePath(rawKey), query }
}

function notImplemented(what: string): S3Error {
  return new S3Error(
    'NotImplemented',
    `A header or query you provided implies functionality that is not implemented: "${what}"`,
  )
}

const UNSUPPORTED_HEADERS = [
  'x-amz-server-side-encryption-context',
  'x-amz-website-redirect-location',
]

/** Object Lock headers on a new version (PutObject, CopyObject, CreateMultipartUpload). */
const LOCK_HEADERS = [
  'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date',
  'x-amz-object-lock-legal-hold',
]

/** Operations that apply `x-amz-object-lock-*`; anywhere else they are `NotImplemented`. */
const LOCK_HEADER_OPS = new Set<S3Operation>(['PutObject', 'CopyObject', 'CreateMultipartUpload'])

function checkLockHeaders(request: S3Request, headers: IncomingMessage['headers']): S3Request {
  if (!LOCK_HEADER_OPS.has(request.op)) {
    for (const name of LOCK_HEADERS) if (headers[name] !== undefined) throw notImplemented(name)
  }
  if (request.op !== 'CreateBucket' && headers['x-amz-bucket-object-lock-enabled'] !== undefined) {
    throw notImplemented('x-amz-bucket-object-lock-enabled')
  }
  return request
}

/**
 * Refuses headers asking for features we do not have yet (KMS encryption context, website):
 * silently dropping them would store something other than what the client asked for.
 */
function checkHeaders(headers: IncomingMessage['headers']): void {
  for (const name of UNSUPPORTED_HEADERS)
    if (headers[name] !== undefined) throw notImplemented(name)
  const storageClass = headers['x-amz-storage-class']
  if (typeof storageClass === 'string' && storageClass !== 'STANDARD') {
    throw notImplemented(`x-amz-storage-class: ${storageClass}`)
  }
}

/** Turns a raw request into a typed S3Request; unknown operations get `NotImplemented` or `MethodNotAllowed`. */
export function route(
  req: Pick<IncomingMessage, 'url' | 'headers' | 'method'>,
  options: RouterOptions,
): S3Request {
  return checkLockHeaders(routeOf(req, options), req.headers)
}

function routeOf(
  req: Pick<IncomingMessage, 'url' | 'headers' | 'method'>,
  options: RouterOptions,
): S3Request {
  const { bucket, key, query } = addressOf(req, options)
  const method = (req.method ?? 'GET').toUpperCase()
  checkParams(query)
  checkSubresourceScope(query, key, method)
  checkHeaders(req.headers)
  if (bucket === null) {
    if (method === 'GET') return { op: 'ListBuckets', bucket: null, key: null, query }
    throw new S3Error(
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
    )
  }
  const r = <Op extends Exclude<S3Operation, 'ListBuckets'>>(op: Op) =>
    ({ op, bucket, key, query }) as const
  if (key === null) {
    switch (method) {
      case 'PUT':
        if (query.has('versioning')) return r('PutBucketVersioning')
        if (query.has('encryption')) return r('PutBucketEncryption')
        if (query.has('tagging')) return r('PutBucketTagging')
        if (query.has('cors')) return r('PutBucketCors')
        if (query.has('lifecycle')) return r('PutBucketLifecycleConfiguration')
        if (query.has('requestPayment')) return r('PutBucketRequestPayment')
        if (query.has('policy')) return r('PutBucketPolicy')
        if (query.has('acl')) return r('PutBucketAcl')
        if (query.has('ownershipControls')) return r('PutBucketOwnershipControls')
        if (query.has('publicAccessBlock')) return r('PutPublicAccessBlock')
        if (query.has('object-lock')) return r('PutObjectLockConfiguration')
        return r('CreateBucket')
      case 'HEAD':
        return r('HeadBucket')
      case 'DELETE':
        if (query.has('encryption')) return r('DeleteBucketEncryption')
        if (query.has('tagging')) return r('DeleteBucketTagging')
        if (query.has('cors')) return r('DeleteBucketCors')
        if (query.has('lifecycle')) return r('DeleteBucketLifecycle')
        if (query.has('policy')) return r('DeleteBucketPolicy')
        if (query.has('ownershipControls')) return r('DeleteBucketOwnershipControls')
        if (query.has('publicAccessBlock')) return r('DeletePublicAccessBlock')
        return r('DeleteBucket')
      case 'POST':
        if (query.has('delete')) return r('DeleteObjects')
        return r('PostObject')
      case 'GET':
        if (query.has('location')) return r('GetBucketLocation')
        if (query.has('versioning')) return r('GetBucketVersioning')
        if (query.has('encryption')) return r('GetBucketEncryption')
        if (query.has('tagging')) return r('GetBucketTagging')
        if (query.has('cors')) return r('GetBucketCors')
        if (query.has('lifecycle')) return r('GetBucketLifecycleConfiguration')
        if (query.has('requestPayment')) return r('GetBucketRequestPayment')
        if (query.has('policy')) return r('GetBucketPolicy')
        if (query.has('policyStatus')) return r('GetBucketPolicyStatus')
        if (query.has('acl')) return r('GetBucketAcl')
        if (query.has('ownershipControls')) return r('GetBucketOwnershipControls')
        if (query.has('publicAccessBlock')) return r('GetPublicAccessBlock')
        if (query.has('object-lock')) return r('GetObjectLockConfiguration')
        if (query.has('versions')) return r('ListObjectVersions')
        if (query.has('uploads')) return r('ListMultipartUploads')
        if (query.get('list-type') === '2') return r('ListObjectsV2')
        return r('ListObjects')
      default:
        throw new S3Error(
          'MethodNotAllowed',
          'The specified method is not allowed against this resource.',
        )
    }
  }
  switch (method) {
    case 'PUT':
      if (query.has('tagging')) return r('PutObjectTagging')
      if (query.has('acl')) return r('PutObjectAcl')
      if (query.has('retention')) return r('PutObjectRetention')
      if (query.has('legal-hold')) return r('PutObjectLegalHold')
      if (query.has('uploadId') || query.has('partNumber')) {
        return r(req.headers['x-amz-copy-source'] === undefined ? 'UploadPart' : 'UploadPartCopy')
      }
      return r(req.headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject')
    case 'GET':
      if (query.has('tagging')) return r('GetObjectTagging')
      if (query.has('acl')) return r('GetObjectAcl')
      if (query.has('retention')) return r('GetObjectRetention')
      if (query.has('legal-hold')) return r('GetObjectLegalHold')
      if (query.has('attributes')) return r('GetObjectAttributes')
      return r(query.has('uploadId') ? 'ListParts' : 'GetObject')
    case 'HEAD':
      return r('HeadObject')
    case 'DELETE':
      if (query.has('tagging')) return r('DeleteObjectTagging')
      return r(query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject')
    case 'POST':
      if (query.has('uploads')) return r('CreateMultipartUpload')
      if (query.has('uploadId')) return r('CompleteMultipartUpload')
      throw new S3Error(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
      )
    default:
      throw new S3Error(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
      )
  }
}

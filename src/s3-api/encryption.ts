import type { IncomingHttpHeaders } from 'node:http'
import type { KeyProvider, SseCKey } from '../keys/index.js'
import {
  checkSseCForRead,
  KeyErrors,
  kmsKeyArn,
  parseSseCHeaders,
  resolveKmsKeyId,
  sseCFingerprint,
} from '../keys/index.js'
import type { BucketEncryption, ObjectEncryption } from '../meta/index.js'
import { bucketRecordOf } from './access-control.js'
import type { RequestContext } from './context.js'
import { S3Errors } from './s3-error.js'

/**
 * The S3 side of encryption at rest: which encryption a write asks for (headers, else the
 * bucket's default), which customer key a read brings, and the `x-amz-server-side-encryption*`
 * headers responses carry. Every object is encrypted whatever the request says; the headers only
 * choose who holds the key-encryption key and what S3 reports.
 *
 * SSE-C over plain HTTP: AWS refuses it, because the customer key would cross the network in
 * clear. Sovra's S3 endpoints listen on plain HTTP behind the operator's TLS terminator (or on
 * 127.0.0.1 in development), so the server cannot tell; it accepts SSE-C on every connection
 * and docs/keys.md tells operators to expose the endpoints over HTTPS only.
 */

const SSE = 'x-amz-server-side-encryption'
const SSE_KMS_KEY = 'x-amz-server-side-encryption-aws-kms-key-id'

/** What a write will store: its encryption record and the provider that wraps its data keys. */
export interface WriteEncryption {
  readonly encryption: ObjectEncryption
  readonly customerKey: SseCKey | null
  readonly provider: KeyProvider
}

/**
 * An SSE-C key sent with the request (or, with `copySource`, for the copy source); `headers`
 * are the request's unless given (a POST Object form's fields).
 */
export function customerKeyOf(
  ctx: RequestContext,
  copySource = false,
  headers: IncomingHttpHeaders = ctx.req.headers,
): SseCKey | null {
  // See the module comment: the transport is TLS-terminated in front of Sovra.
  return parseSseCHeaders(headers, { secure: true, copySource }) ?? null
}

/** Parses `x-amz-server-side-encryption` (and its KMS key id) of a write; null when absent. */
function requestedSse(headers: IncomingHttpHeaders): BucketEncryption | null {
  const value = headers[SSE]
  const keyId = headers[SSE_KMS_KEY]
  if (value === undefined) {
    if (keyId !== undefined) {
      throw S3Errors.invalidArgument(
        'Specifying a KMS key id requires x-amz-server-side-encryption: aws:kms',
        SSE_KMS_KEY,
        String(keyId),
      )
    }
    return null
  }
  return checkedEncryption(
    String(value),
    keyId === undefined ? null : String(keyId),
    SSE,
    SSE_KMS_KEY,
  )
}

/** Longest KMS key id accepted (AWS's limit for a key id, ARN or alias). */
const MAX_KMS_KEY_ID = 2_048

/**
 * Validates an encryption choice. `aws:kms` without a key id wraps data keys with the data
 * center's key, as `AES256` does; with a key id, with the tenant's registered customer key of
 * that id (or ARN). As AWS, the key id is not looked up here: PutBucketEncryption stores any id,
 * and a write naming an unknown key fails with `KMS.NotFoundException` (see `kmsKeyOf`).
 */
export function checkedEncryption(
  algorithm: string,
  kmsKeyId: string | null,
  algorithmName: string,
  keyIdName: string,
): BucketEncryption {
  if (algorithm === 'aws:kms:dsse')
    throw S3Errors.notImplemented(`"${algorithmName}: ${algorithm}"`)
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms') {
    throw S3Errors.invalidArgument(
      'The encryption method specified is not supported',
      algorithmName,
      algorithm,
    )
  }
  if (kmsKeyId !== null && kmsKeyId !== '') {
    if (algorithm !== 'aws:kms') {
      throw S3Errors.invalidArgument('A KMS key id is only valid with aws:kms', keyIdName, kmsKeyId)
    }
    if (kmsKeyId.length > MAX_KMS_KEY_ID || !/^[\x21-\x7e]+$/.test(kmsKeyId)) {
      throw S3Errors.invalidArgument('The KMS key id is not valid', keyIdName, kmsKeyId)
    }
    return { algorithm, kmsKeyId, bucketKeyEnabled: false }
  }
  return { algorithm, kmsKeyId: null, bucketKeyEnabled: false }
}

/**
 * The ARN of the registered key a write names (`aws:kms` with a key id), for a bucket of the
 * requesting tenant; null for the data center's key. A key id that is neither a Sovra key id
 * nor an ARN of this tenant's is `KMS.NotFoundException`, as AWS answers for a key that does
 * not exist; whether the key is registered is checked when it is resolved.
 */
export function kmsKeyOf(ctx: RequestContext, chosen: BucketEncryption | null): string | null {
  if (chosen?.algorithm !== 'aws:kms' || chosen.kmsKeyId === null) return null
  const ref = resolveKmsKeyId(chosen.kmsKeyId, ctx.tenant.id)
  if (ref === undefined || ref.tenantId !== ctx.tenant.id) {
    throw KeyErrors.notFound('vault-transit', chosen.kmsKeyId)
  }
  return kmsKeyArn(ref)
}

/**
 * The encryption of a new object or upload: SSE-C, else the request's SSE header, else the
 * bucket default. `headers` are the request's unless given (a POST Object form's fields).
 */
export async function writeEncryptionOf(
  ctx: RequestContext,
  headers: IncomingHttpHeaders = ctx.req.headers,
): Promise<WriteEncryption> {
  const customerKey = customerKeyOf(ctx, false, headers)
  const requested = requestedSse(headers)
  const cell = ctx.deps.cell
  if (customerKey !== null) {
    if (requested !== null) {
      throw S3Errors.invalidArgument(
        'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
        SSE,
        requested.algorithm,
      )
    }
    return {
      encryption: {
        algorithm: 'AES256',
        kmsKeyId: null,
        customerKeyFingerprint: sseCFingerprint(customerKey),
      },
      customerKey,
      provider: await cell.keys.wrapperFor({
        bucket: ctx.s3.bucket as string,
        kmsKeyArn: null,
        customerKey,
      }),
    }
  }
  const bucket = await bucketRecordOf(ctx)
  const chosen = requested ?? bucket.encryption ?? null
  const arn = kmsKeyOf(ctx, chosen)
  return {
    encryption: {
      algorithm: chosen?.algorithm ?? 'AES256',
      kmsKeyId: arn,
      customerKeyFingerprint: null,
    },
    customerKey: null,
    provider: await cell.keys.wrapperFor({
      bucket: bucket.name,
      kmsKeyArn: arn,
      customerKey: null,
    }),
  }
}

/**
 * The customer key a read of an object with `encryption` must bring (or null): throws
 * SseCKeyMissing (400), SseCKeyMismatch (403) or SseCNotApplicable (400).
 */
export function customerKeyForRead(
  ctx: RequestContext,
  encryption: ObjectEncryption | null,
  copySource = false,
): SseCKey | null {
  const presented = customerKeyOf(ctx, copySource)
  checkSseCForRead(encryption?.customerKeyFingerprint ?? undefined, presented ?? undefined)
  return presented
}

/** The `x-amz-server-side-encryption*` response headers, as AWS sends them. */
export function sseResponseHeaders(
  encryption: ObjectEncryption | null,
  customerKey: SseCKey | null,
): Record<string, string> {
  if (encryption === null) return {}
  if (encryption.customerKeyFingerprint !== null) {
    return customerKey === null
      ? {}
      : {
          'x-amz-server-side-encryption-customer-algorithm': 'AES256',
          'x-amz-server-side-encryption-customer-key-md5': customerKey.keyMd5,
        }
  }
  return {
    [SSE]: encryption.algorithm,
    ...(encryption.kmsKeyId === null ? {} : { [SSE_KMS_KEY]: encryption.kmsKeyId }),
  }
}

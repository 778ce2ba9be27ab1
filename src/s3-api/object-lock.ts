import type { IncomingHttpHeaders } from 'node:http'
import type {
  BucketRecord,
  ObjectLockConfiguration,
  ObjectRecord,
  ObjectRetention,
} from '../meta/index.js'
import { accessOf, mayAccess } from './authorize.js'
import type { RequestContext } from './context.js'
import { S3Error, S3Errors } from './s3-error.js'
import { childText, parseXml, type XmlNode } from './xml/parse.js'
import type { XmlValue } from './xml/render.js'

const DAY_MS = 24 * 60 * 60 * 1000

/** AWS's answer to an Object Lock request on a bucket without Object Lock. */
export function missingLockConfiguration(): S3Error {
  return new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration')
}

/** The bucket's Object Lock configuration, or `InvalidRequest` when Object Lock is off. */
export function requireObjectLock(record: BucketRecord): ObjectLockConfiguration {
  if (record.objectLock == null) throw missingLockConfiguration()
  return record.objectLock
}

function isMode(value: string | undefined): value is ObjectRetention['mode'] {
  return value === 'GOVERNANCE' || value === 'COMPLIANCE'
}

/** A positive whole number of days or years, as `DefaultRetention` takes them. */
function periodOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^-?\d+$/.test(text.trim())) throw S3Errors.malformedXml()
  const n = Number(text.trim())
  if (n <= 0 || !Number.isSafeInteger(n)) {
    throw S3Errors.invalidArgument('Default retention period must be a positive integer value.')
  }
  return n
}

/**
 * Parses PutObjectLockConfiguration's body: `ObjectLockEnabled` `Enabled` and an optional
 * `Rule` whose `DefaultRetention` has a `Mode` and exactly one of `Days` and `Years`.
 */
export function parseLockConfigurationXml(body: Buffer): ObjectLockConfiguration {
  const root = parseXml(body).ObjectLockConfiguration
  if (root === undefined || typeof root === 'string') throw S3Errors.malformedXml()
  if (childText(root, 'ObjectLockEnabled') !== 'Enabled') throw S3Errors.malformedXml()
  const rule = (root as Record<string, XmlNode>).Rule
  if (rule === undefined) return {}
  if (typeof rule === 'string' || Array.isArray(rule)) throw S3Errors.malformedXml()
  const retention = (rule as Record<string, XmlNode>).DefaultRetention
  if (retention === undefined || typeof retention === 'string' || Array.isArray(retention)) {
    throw S3Errors.malformedXml()
  }
  const mode = childText(retention, 'Mode')
  if (!isMode(mode)) throw S3Errors.malformedXml()
  const days = periodOf(childText(retention, 'Days'))
  const years = periodOf(childText(retention, 'Years'))
  if ((days === undefined) === (years === undefined)) throw S3Errors.malformedXml()
  return {
    defaultRetention: {
      mode,
      ...(days === undefined ? {} : { days }),
      ...(years === undefined ? {} : { years }),
    },
  }
}

/** The `ObjectLockConfiguration` document GetObjectLockConfiguration answers. */
export function lockConfigurationXml(config: ObjectLockConfiguration): {
  readonly [name: string]: XmlValue
} {
  const d = config.defaultRetention
  return {
    ObjectLockEnabled: 'Enabled',
    ...(d === undefined
      ? {}
      : {
          Rule: {
            DefaultRetention: {
              Mode: d.mode,
              ...(d.days === undefined ? {} : { Days: String(d.days) }),
              ...(d.years === undefined ? {} : { Years: String(d.years) }),
            },
          },
        }),
  }
}

/** A retain-until date: ISO 8601, strictly after `now`. */
function retainUntilOf(text: string, now: number, bad: () => S3Error): number {
  const ms = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) throw bad()
  if (ms <= now) throw S3Errors.invalidArgument('The retain until date must be in the future!')
  return ms
}

/**
 * Parses PutObjectRetention's `Retention`: a `Mode` and a future `RetainUntilDate`, or neither
 * (null: remove the retention, which only a GOVERNANCE lock with the bypass allows).
 */
export function parseRetentionXml(body: Buffer, now: number): ObjectRetention | null {
  const root = parseXml(body).Retention
  if (root === undefined) throw S3Errors.malformedXml()
  const mode = childText(root, 'Mode')
  const until = childText(root, 'RetainUntilDate')
  if (mode === undefined && until === undefined) return null
  if (!isMode(mode) || until === undefined) throw S3Errors.malformedXml()
  return { mode, retainUntil: retainUntilOf(until, now, () => S3Errors.malformedXml()) }
}

/** Parses PutObjectLegalHold's `LegalHold` `Status`: `ON` or `OFF`. */
export function parseLegalHoldXml(body: Buffer): boolean {
  const root = parseXml(body).LegalHold
  if (root === undefined) throw S3Errors.malformedXml()
  const status = childText(root, 'Status')
  if (status !== 'ON' && status !== 'OFF') throw S3Errors.malformedXml()
  return status === 'ON'
}

/** The lock a new version gets: from its headers, else the bucket's default retention. */
export interface WriteLock {
  readonly retention?: ObjectRetention
  readonly legalHold?: boolean
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return v === undefined ? undefined : String(v)
}

/** Whether the request carries an integrity check AWS accepts for a locked upload. */
function hasIntegrityCheck(headers: IncomingHttpHeaders): boolean {
  if (headers['content-md5'] !== undefined || headers['x-amz-trailer'] !== undefined) return true
  return Object.keys(headers).some(
    (n) => n.startsWith('x-amz-checksum-') && n !== 'x-amz-checksum-type',
  )
}

/**
 * The lock of a version written by PutObject, CopyObject or CreateMultipartUpload: `x-amz-object-lock-mode` with
 * `x-amz-object-lock-retain-until-date` (both or neither, `InvalidArgument`), and
 * `x-amz-object-lock-legal-hold` `ON|OFF`; without explicit retention, the bucket's default
 * (`days`/`years` from `now`). Lock headers on a bucket without Object Lock are `InvalidRequest`.
 * A PutObject that ends up with retention needs Content-MD5 or an `x-amz-checksum-*`
 * (`InvalidRequest`), as AWS requires.
 */
export function writeLockOf(
  headers: IncomingHttpHeaders,
  record: BucketRecord,
  now: number,
  options: {
    readonly requireIntegrity: boolean
    /** Whether the bucket's default retention applies (not when the version is written later). */
    readonly withDefault?: boolean
  },
): WriteLock {
  const mode = header(headers, 'x-amz-object-lock-mode')
  const until = header(headers, 'x-amz-object-lock-retain-until-date')
  const hold = header(headers, 'x-amz-object-lock-legal-hold')
  const explicit = mode !== undefined || until !== undefined || hold !== undefined
  if (explicit && record.objectLock == null) {
    throw new S3Error('InvalidRequest', 'Bucket is missing ObjectLockConfiguration')
  }
  if ((mode === undefined) !== (until === undefined)) {
    throw S3Errors.invalidArgument(
      'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
    )
  }
  if (mode !== undefined && !isMode(mode)) {
    throw S3Errors.invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', mode)
  }
  if (hold !== undefined && hold !== 'ON' && hold !== 'OFF') {
    throw S3Errors.invalidArgument(
      "Legal Hold must be either of 'ON' or 'OFF'",
      'x-amz-object-lock-legal-hold',
      hold,
    )
  }
  let retention: ObjectRetention | undefined
  if (mode !== undefined && until !== undefined && isMode(mode)) {
    const bad = () =>
      S3Errors.invalidArgument(
        'The retain until date must be provided in ISO 8601 format',
        'x-amz-object-lock-retain-until-date',
        until,
      )
    retention = { mode, retainUntil: retainUntilOf(until, now, bad) }
  } else {
    const d = options.withDefault === false ? undefined : record.objectLock?.defaultRetention
    if (d !== undefined) {
      const retainUntil =
        d.days !== undefined
          ? now + d.days * DAY_MS
          : new Date(now).setUTCFullYear(new Date(now).getUTCFullYear() + (d.years ?? 0))
      retention = { mode: d.mode, retainUntil }
    }
  }
  if (options.requireIntegrity && (explicit || retention !== undefined)) {
    if (!hasIntegrityCheck(headers)) {
      throw new S3Error(
        'InvalidRequest',
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
      )
    }
  }
  return {
    ...(retention === undefined ? {} : { retention }),
    ...(hold === undefined ? {} : { legalHold: hold === 'ON' }),
  }
}

/** `x-amz-object-lock-*` response headers of a version (GET, HEAD). */
export function lockResponseHeaders(record: ObjectRecord): Record<string, string> {
  const out: Record<string, string> = {}
  if (record.retention != null) {
    out['x-amz-object-lock-mode'] = record.retention.mode
    out['x-amz-object-lock-retain-until-date'] = new Date(
      record.retention.retainUntil,
    ).toISOString()
  }
  if (record.legalHold !== undefined) {
    out['x-amz-object-lock-legal-hold'] = record.legalHold ? 'ON' : 'OFF'
  }
  return out
}

/**
 * `x-amz-bypass-governance-retention: true`, honoured only for a requester with
 * `s3:BypassGovernanceRetention` (the owner has it unless the bucket policy denies it; anyone
 * else only through a policy `Allow`, never an ACL);
 * without the permission the request is refused (`AccessDenied`).
 */
export async function bypassGovernanceOf(
  ctx: RequestContext,
  record: BucketRecord,
  key: string | null,
): Promise<boolean> {
  const value = ctx.req.headers['x-amz-bypass-governance-retention']
  if (value === undefined || String(value).toLowerCase() !== 'true') return false
  // Judged as a policy-only operation: an ACL's WRITE never grants the bypass.
  const access = accessOf(ctx, record)
  if (!(await mayAccess(access, 'PutObjectRetention', key, 's3:BypassGovernanceRetention'))) {
    throw S3Errors.accessDenied()
  }
  return true
}

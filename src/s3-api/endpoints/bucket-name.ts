import { S3Error } from '../s3-error.js'

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-']
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/** Validates a bucket name with S3's general-purpose bucket rules; `InvalidBucketName` otherwise. */
export function validateBucketName(name: string): void {
  const bad = (why: string) =>
    new S3Error('InvalidBucketName', `The specified bucket is not valid: ${why}`, {
      BucketName: name,
    })
  if (name.length < 3 || name.length > 63) throw bad('it must be between 3 and 63 characters long')
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    throw bad(
      'it may hold only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit',
    )
  }
  if (name.includes('..')) throw bad('it must not contain two adjacent periods')
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name))
    throw bad('it must not be formatted as an IP address')
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p)))
    throw bad('it begins with a reserved prefix')
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) throw bad('it ends with a reserved suffix')
}

import { S3Errors } from '../s3-error.js'

/** Parses `max-keys` (and its kin): default 1000, capped at 1000, negatives and junk refused. */
export function maxParam(query: URLSearchParams, name: string, fallback = 1000): number {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^-?\d+$/.test(raw))
    throw S3Errors.invalidArgument(
      `Provided ${name} not an integer or within integer range`,
      name,
      raw,
    )
  const n = Number(raw)
  if (n < 0)
    throw S3Errors.invalidArgument(
      `Argument ${name} must be an integer between 0 and 2147483647`,
      name,
      raw,
    )
  return Math.min(n, fallback)
}

/** Reads `encoding-type`; only `url` is valid. */
export function encodingOf(query: URLSearchParams): ((s: string) => string) | null {
  const value = query.get('encoding-type')
  if (value === null) return null
  if (value.toLowerCase() !== 'url')
    throw S3Errors.invalidArgument(
      'Invalid Encoding Method specified in Request',
      'encoding-type',
      value,
    )
  return (s) => encodeURIComponent(s).replace(/%2F/g, '/')
}

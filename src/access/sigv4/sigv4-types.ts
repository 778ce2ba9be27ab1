import type { IncomingHttpHeaders } from 'node:http'
import type { Transform } from 'node:stream'

/** What authentication needs of a request: nothing is read from the body. */
export interface SignedRequest {
  readonly method: string
  /** The request target exactly as received: raw path plus `?query` (still percent-encoded). */
  readonly url: string
  readonly headers: IncomingHttpHeaders
}

/** Resolves an access key id to its secret; `null` when unknown or revoked. */
export type SecretLookup = (
  accessKeyId: string,
) => Promise<{ readonly secretAccessKey: string } | null>

/** What `authenticate` needs besides the request: key lookup, accepted regions, clock, skew. */
export interface AuthenticateOptions {
  readonly lookup: SecretLookup
  /** Regions a signature may name (the endpoint's DC id, and `us-east-1`). The first is "expected" in errors. */
  readonly regions: readonly string[]
  /** Now, in ms since the epoch (injectable clock). */
  readonly now: number
  /** Allowed clock skew for header auth (AWS: 15 minutes). */
  readonly maxSkewMs: number
  /** Where derived signing keys come from; defaults to a module-wide bounded cache. */
  readonly signingKeys?: SigningKeySource
}

/** Derives (and may cache) SigV4 signing keys; `SigningKeyCache` is the stock implementation. */
export interface SigningKeySource {
  get(secretAccessKey: string, date: string, region: string, service: string): Buffer
}

/** How the body must be checked and decoded. */
export type PayloadMode =
  | { readonly kind: 'unsigned' }
  /** `x-amz-content-sha256` is the hex SHA-256 of the body. */
  | { readonly kind: 'sha256'; readonly expected: string }
  /** aws-chunked with per-chunk signatures (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`). */
  | {
      readonly kind: 'streaming-signed'
      readonly trailer: boolean
      readonly seedSignature: string
      readonly signingKey: Buffer
      readonly amzDate: string
      readonly scope: string
    }
  /** aws-chunked without signatures, trailing checksum (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`). */
  | { readonly kind: 'streaming-unsigned'; readonly trailer: true }

/** Who signed the request (or nobody), and how its body must be checked. */
export type AuthResult =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'signed'
      readonly accessKeyId: string
      readonly region: string
      /** Presigned URL (query auth) rather than an Authorization header. */
      readonly presigned: boolean
      readonly payload: PayloadMode
    }

/** A Transform that turns the raw body into the object's bytes, verifying as it goes. */
export interface PayloadDecoder extends Transform {
  /** Trailing headers (lower-case names) once the stream has ended, e.g. `x-amz-checksum-crc32`. */
  readonly trailers: Readonly<Record<string, string>>
}

/** Codes SigV4 verification raises; the S3 face maps each to its S3 error. */
export const SIGV4_ERROR_CODES = [
  'AccessDenied',
  'AuthorizationHeaderMalformed',
  'AuthorizationQueryParametersError',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'RequestTimeTooSkewed',
  'RequestExpired',
  'MissingSecurityHeader',
  'XAmzContentSHA256Mismatch',
  'InvalidRequest',
  'IncompleteBody',
  'InvalidChunkSizeError',
  'MalformedTrailerError',
  'InvalidArgument',
] as const
/** One of `SIGV4_ERROR_CODES`. */
export type SigV4ErrorCode = (typeof SIGV4_ERROR_CODES)[number]

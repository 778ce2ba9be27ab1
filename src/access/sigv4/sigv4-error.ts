import { SovraError } from '../../core/index.js'
import type { SigV4ErrorCode } from './sigv4-types.js'

/** The one error class SigV4 verification raises; `code` is one of `SIGV4_ERROR_CODES`. */
export class SigV4Error extends SovraError<SigV4ErrorCode> {
  constructor(
    code: SigV4ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super('sigv4', code, message, options)
  }
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided: check your key and signing method'

/** Factory table for every SigV4Error, so messages (modelled on AWS's) and details stay uniform. */
export const SigV4Errors = {
  unsupportedAuthorization: (scheme: string) =>
    new SigV4Error(
      'InvalidRequest',
      `The authorization mechanism '${scheme}' is not supported: use AWS4-HMAC-SHA256`,
      { details: { scheme } },
    ),
  multipleAuth: () =>
    new SigV4Error(
      'InvalidArgument',
      'Only one auth mechanism allowed: send either the Authorization header or the X-Amz-Algorithm query parameters',
    ),
  headerMalformed: (reason: string, details: Record<string, string> = {}) =>
    new SigV4Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; ${reason}`,
      {
        details,
      },
    ),
  wrongRegion: (region: string, expected: string) =>
    new SigV4Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${region}' is wrong; expecting '${expected}'`,
      { details: { region: expected } },
    ),
  queryMalformed: (reason: string, details: Record<string, string> = {}) =>
    new SigV4Error('AuthorizationQueryParametersError', reason, { details }),
  queryWrongRegion: (region: string, expected: string) =>
    new SigV4Error(
      'AuthorizationQueryParametersError',
      `Error parsing the X-Amz-Credential parameter; the region '${region}' is wrong; expecting '${expected}'`,
      { details: { region: expected } },
    ),
  missingDate: () =>
    new SigV4Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header'),
  missingContentSha256: () =>
    new SigV4Error(
      'InvalidRequest',
      "Missing required header for this request: 'x-amz-content-sha256'",
    ),
  invalidContentSha256: (value: string) =>
    new SigV4Error(
      'InvalidArgument',
      `Invalid x-amz-content-sha256 '${value}': must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value`,
      { details: { argumentName: 'x-amz-content-sha256', argumentValue: value } },
    ),
  timeTooSkewed: (requestTime: string, serverTime: string, maxSkewMs: number) =>
    new SigV4Error(
      'RequestTimeTooSkewed',
      `The difference between the request time '${requestTime}' and the server time '${serverTime}' is too large`,
      {
        details: {
          requestTime,
          serverTime,
          maxAllowedSkewMilliseconds: String(maxSkewMs),
        },
      },
    ),
  expired: (expires: string, serverTime: string) =>
    new SigV4Error('AccessDenied', 'Request has expired', { details: { expires, serverTime } }),
  notYetValid: (requestTime: string, serverTime: string) =>
    new SigV4Error(
      'AccessDenied',
      `Request is not valid yet: it is dated '${requestTime}' and the server time is '${serverTime}'`,
      { details: { requestTime, serverTime } },
    ),
  headersNotSigned: (names: readonly string[]) =>
    new SigV4Error(
      'AccessDenied',
      `There were headers present in the request which were not signed: '${names.join("', '")}'`,
      { details: { headersNotSigned: names.join(', ') } },
    ),
  invalidAccessKeyId: (accessKeyId: string) =>
    new SigV4Error(
      'InvalidAccessKeyId',
      `The AWS access key id '${accessKeyId}' does not exist in our records`,
      { details: { accessKeyId } },
    ),
  signatureDoesNotMatch: (details: Record<string, string> = {}) =>
    new SigV4Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH, { details }),
  chunkSignatureDoesNotMatch: (chunkIndex: number) =>
    new SigV4Error(
      'SignatureDoesNotMatch',
      `${SIGNATURE_MISMATCH}: chunk '${chunkIndex}' has a wrong or missing chunk-signature`,
      { details: { chunk: String(chunkIndex) } },
    ),
  trailerSignatureDoesNotMatch: () =>
    new SigV4Error(
      'SignatureDoesNotMatch',
      `${SIGNATURE_MISMATCH}: the trailer signature is wrong`,
    ),
  contentSha256Mismatch: (expected: string, actual: string) =>
    new SigV4Error(
      'XAmzContentSHA256Mismatch',
      `The provided 'x-amz-content-sha256' header '${expected}' does not match what was computed '${actual}'`,
      { details: { clientComputedContentSHA256: expected, s3ComputedContentSHA256: actual } },
    ),
  incompleteBody: (reason: string) =>
    new SigV4Error('IncompleteBody', `The request body is incomplete or malformed: ${reason}`),
  decodedLengthMismatch: (expected: number, actual: number) =>
    new SigV4Error(
      'IncompleteBody',
      `The request body does not match x-amz-decoded-content-length '${expected}': it decoded to '${actual}' bytes`,
      { details: { expected: String(expected), actual: String(actual) } },
    ),
  invalidChunkSize: (reason: string) =>
    new SigV4Error('InvalidChunkSizeError', `The chunk size is invalid: ${reason}`),
  malformedTrailer: (reason: string) =>
    new SigV4Error(
      'MalformedTrailerError',
      `The request contained trailing data that was not well-formed: ${reason}`,
    ),
} as const

import { formatAmzDate, parseAmzDate } from './amz-date.js'
import {
  ALGORITHM,
  canonicalQueryString,
  credentialScope,
  queryParam,
  type RawQueryParam,
  splitTarget,
  UNSIGNED_PAYLOAD,
} from './canonical-request.js'
import { type Credential, parseCredential } from './credential.js'
import { SigV4Errors } from './sigv4-error.js'
import type {
  AuthenticateOptions,
  AuthResult,
  SignedRequest,
  SigningKeySource,
} from './sigv4-types.js'
import {
  checkPayloadHash,
  headerString,
  payloadModeOf,
  requireAmzHeadersSigned,
  SERVICE,
  verifySignature,
} from './verify-signature.js'

/** The longest a presigned URL may live, in seconds (7 days). */
export const MAX_PRESIGNED_EXPIRES = 604_800

const REQUIRED = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const
const EXCLUDED = new Set(['X-Amz-Signature'])

function checkQueryScope(credential: Credential, regions: readonly string[]): void {
  if (credential.terminal !== 'aws4_request') {
    throw SigV4Errors.queryMalformed(
      `Error parsing the X-Amz-Credential parameter; incorrect terminal '${credential.terminal}'; this endpoint uses 'aws4_request'`,
    )
  }
  if (credential.service !== SERVICE) {
    throw SigV4Errors.queryMalformed(
      `Error parsing the X-Amz-Credential parameter; incorrect service '${credential.service}'; this endpoint belongs to '${SERVICE}'`,
    )
  }
  if (!regions.includes(credential.region)) {
    throw SigV4Errors.queryWrongRegion(credential.region, regions[0] ?? '')
  }
}

/** Verify a presigned (query-string authenticated) request. */
export async function authenticatePresigned(
  req: SignedRequest,
  params: readonly RawQueryParam[],
  options: AuthenticateOptions,
  keys: SigningKeySource,
): Promise<AuthResult> {
  const values = new Map<string, string>()
  for (const name of REQUIRED) {
    const value = queryParam(params, name)
    if (value === undefined) {
      throw SigV4Errors.queryMalformed(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters',
        { missing: name },
      )
    }
    values.set(name, value)
  }
  const get = (name: (typeof REQUIRED)[number]): string => values.get(name) ?? ''

  if (get('X-Amz-Algorithm') !== ALGORITHM) {
    throw SigV4Errors.queryMalformed(
      `X-Amz-Algorithm '${get('X-Amz-Algorithm')}' is not supported: only '${ALGORITHM}' is`,
    )
  }
  const credential = parseCredential(get('X-Amz-Credential'))
  if (credential === undefined) {
    throw SigV4Errors.queryMalformed(
      "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting '<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request'",
    )
  }
  checkQueryScope(credential, options.regions)

  const amzDate = get('X-Amz-Date')
  const requestMs = parseAmzDate(amzDate)
  if (requestMs === undefined) {
    throw SigV4Errors.queryMalformed(
      `X-Amz-Date '${amzDate}' must be in the ISO8601 long format 'yyyyMMddTHHmmssZ'`,
    )
  }
  if (amzDate.slice(0, 8) !== credential.date) {
    throw SigV4Errors.queryMalformed(
      `Invalid credential date '${credential.date}': it is not the same as X-Amz-Date '${amzDate}'`,
    )
  }
  const rawExpires = get('X-Amz-Expires')
  const expires = /^\d{1,7}$/.test(rawExpires) ? Number(rawExpires) : Number.NaN
  if (!(expires >= 1 && expires <= MAX_PRESIGNED_EXPIRES)) {
    throw SigV4Errors.queryMalformed(
      `X-Amz-Expires '${rawExpires}' must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES}`,
    )
  }
  if (requestMs - options.now > options.maxSkewMs) {
    throw SigV4Errors.notYetValid(amzDate, formatAmzDate(options.now))
  }
  if (options.now > requestMs + expires * 1000) {
    throw SigV4Errors.expired(formatAmzDate(requestMs + expires * 1000), formatAmzDate(options.now))
  }

  const signedHeaders = get('X-Amz-SignedHeaders')
    .split(';')
    .map((h) => h.trim().toLowerCase())
  if (!signedHeaders.includes('host')) {
    throw SigV4Errors.queryMalformed(
      `X-Amz-SignedHeaders '${get('X-Amz-SignedHeaders')}' must include 'host'`,
    )
  }
  const signedSet = new Set(signedHeaders)
  // An unsigned x-amz-content-sha256 header is ignored (the payload is then unsigned), not refused.
  requireAmzHeadersSigned(req.headers, signedSet, new Set(['x-amz-content-sha256']))

  const payloadHash =
    queryParam(params, 'X-Amz-Content-Sha256') ??
    (signedSet.has('x-amz-content-sha256')
      ? (headerString(req.headers, 'x-amz-content-sha256') ?? UNSIGNED_PAYLOAD)
      : UNSIGNED_PAYLOAD)
  checkPayloadHash(payloadHash)

  const signature = get('X-Amz-Signature')
  const signingKey = await verifySignature(
    {
      method: req.method,
      path: splitTarget(req.url).path,
      canonicalQuery: canonicalQueryString(params, EXCLUDED),
      headers: req.headers,
      signedHeaders,
      payloadHash,
      amzDate,
      credential,
      signature,
    },
    options,
    keys,
  )
  return {
    kind: 'signed',
    accessKeyId: credential.accessKeyId,
    region: credential.region,
    presigned: true,
    payload: payloadModeOf(payloadHash, {
      signature,
      signingKey,
      amzDate,
      scope: credentialScope(credential.date, credential.region, SERVICE),
    }),
  }
}

import { formatAmzDate, parseAmzDate } from './amz-date.js'
import {
  ALGORITHM,
  canonicalQueryString,
  credentialScope,
  splitQuery,
  splitTarget,
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

/** The three parts of an `AWS4-HMAC-SHA256` Authorization header. */
export interface AuthorizationHeader {
  readonly credential: Credential
  readonly signedHeaders: readonly string[]
  readonly signature: string
}

const CREDENTIAL_SHAPE =
  "the Credential is mal-formed; expecting '<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request'"

// Tolerates the spacing and comma variants clients send; throws AuthorizationHeaderMalformed, or
// InvalidRequest for other schemes.
/** Parse `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export function parseAuthorizationHeader(value: string): AuthorizationHeader {
  const trimmed = value.trim()
  const space = trimmed.search(/\s/)
  const scheme = space === -1 ? trimmed : trimmed.slice(0, space)
  if (scheme !== ALGORITHM) {
    if (scheme === '') throw SigV4Errors.headerMalformed('it is empty')
    throw SigV4Errors.unsupportedAuthorization(scheme)
  }
  const fields = new Map<string, string>()
  for (const part of trimmed.slice(scheme.length).split(/[\s,]+/)) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0)
      throw SigV4Errors.headerMalformed(`the component '${part}' is not of the form key=value`)
    const key = part.slice(0, eq).toLowerCase()
    if (fields.has(key))
      throw SigV4Errors.headerMalformed(`the component '${part.slice(0, eq)}' is repeated`)
    fields.set(key, part.slice(eq + 1))
  }
  const rawCredential = fields.get('credential')
  const rawSigned = fields.get('signedheaders')
  const signature = fields.get('signature')
  if (rawCredential === undefined || rawSigned === undefined || signature === undefined) {
    throw SigV4Errors.headerMalformed('it must contain Credential, SignedHeaders and Signature')
  }
  const credential = parseCredential(rawCredential)
  if (credential === undefined) throw SigV4Errors.headerMalformed(CREDENTIAL_SHAPE)
  const signedHeaders = rawSigned.split(';').map((h) => h.trim().toLowerCase())
  if (signedHeaders.some((h) => h === '')) {
    throw SigV4Errors.headerMalformed(`the SignedHeaders '${rawSigned}' contain an empty name`)
  }
  return { credential, signedHeaders, signature }
}

/** Throw the header-auth error for a scope that names another region, service or terminal. */
export function checkHeaderScope(credential: Credential, regions: readonly string[]): void {
  if (credential.terminal !== 'aws4_request') {
    throw SigV4Errors.headerMalformed(
      `incorrect terminal '${credential.terminal}'; this endpoint uses 'aws4_request'`,
    )
  }
  if (credential.service !== SERVICE) {
    throw SigV4Errors.headerMalformed(
      `incorrect service '${credential.service}'; this endpoint belongs to '${SERVICE}'`,
    )
  }
  if (!regions.includes(credential.region)) {
    throw SigV4Errors.wrongRegion(credential.region, regions[0] ?? '')
  }
}

/** Verify a request signed with an Authorization header. */
export async function authenticateHeader(
  req: SignedRequest,
  authorization: string,
  options: AuthenticateOptions,
  keys: SigningKeySource,
): Promise<AuthResult> {
  const { credential, signedHeaders, signature } = parseAuthorizationHeader(authorization)
  checkHeaderScope(credential, options.regions)

  const amzDateHeader = headerString(req.headers, 'x-amz-date')
  let requestMs: number | undefined
  if (amzDateHeader !== undefined) {
    requestMs = parseAmzDate(amzDateHeader)
  } else {
    const date = headerString(req.headers, 'date')
    const parsed = date === undefined ? Number.NaN : Date.parse(date)
    requestMs = Number.isNaN(parsed) ? undefined : parsed
  }
  if (requestMs === undefined) throw SigV4Errors.missingDate()
  const amzDate = amzDateHeader ?? formatAmzDate(requestMs)
  if (amzDate.slice(0, 8) !== credential.date) {
    throw SigV4Errors.headerMalformed(
      `invalid credential date '${credential.date}'; it is not the same as the request date '${amzDate.slice(0, 8)}'`,
    )
  }
  if (Math.abs(options.now - requestMs) > options.maxSkewMs) {
    throw SigV4Errors.timeTooSkewed(amzDate, formatAmzDate(options.now), options.maxSkewMs)
  }

  const payloadHash = headerString(req.headers, 'x-amz-content-sha256')
  if (payloadHash === undefined) throw SigV4Errors.missingContentSha256()
  checkPayloadHash(payloadHash)

  const signedSet = new Set(signedHeaders)
  if (!signedSet.has('host')) {
    throw SigV4Errors.headerMalformed(
      `the SignedHeaders '${signedHeaders.join(';')}' must include 'host'`,
    )
  }
  requireAmzHeadersSigned(req.headers, signedSet)

  const { path, query } = splitTarget(req.url)
  const signingKey = await verifySignature(
    {
      method: req.method,
      path,
      canonicalQuery: canonicalQueryString(splitQuery(query)),
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
    presigned: false,
    payload: payloadModeOf(payloadHash, {
      signature,
      signingKey,
      amzDate,
      scope: credentialScope(credential.date, credential.region, SERVICE),
    }),
  }
}

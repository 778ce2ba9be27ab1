import { splitQuery, splitTarget } from './canonical-request.js'
import { authenticateHeader } from './header-auth.js'
import { authenticatePresigned } from './presigned.js'
import { SigningKeyCache } from './signing-key.js'
import { SigV4Errors } from './sigv4-error.js'
import type { AuthenticateOptions, AuthResult, SignedRequest } from './sigv4-types.js'
import { headerString } from './verify-signature.js'

// A pure memo (no I/O, no config), shared by callers that do not pass their own `signingKeys`.
const defaultSigningKeys = new SigningKeyCache(1000)

const QUERY_AUTH = ['X-Amz-Algorithm', 'X-Amz-Signature', 'X-Amz-Credential']

/** Authenticate by SigV4 header or presigned query: `anonymous` without either, else signed or a SigV4Error. */
export async function authenticate(
  req: SignedRequest,
  options: AuthenticateOptions,
): Promise<AuthResult> {
  const keys = options.signingKeys ?? defaultSigningKeys
  const authorization = headerString(req.headers, 'authorization')
  const { query } = splitTarget(req.url)
  const params =
    query.includes('X-Amz-') || query.includes('AWSAccessKeyId') ? splitQuery(query) : []
  const presigned = params.some((p) => QUERY_AUTH.includes(p.name))
  if (authorization !== undefined && presigned) {
    throw SigV4Errors.multipleAuth()
  }
  if (authorization !== undefined) return authenticateHeader(req, authorization, options, keys)
  if (presigned) return authenticatePresigned(req, params, options, keys)
  if (params.some((p) => p.name === 'AWSAccessKeyId')) {
    throw SigV4Errors.unsupportedAuthorization('AWS')
  }
  return { kind: 'anonymous' }
}

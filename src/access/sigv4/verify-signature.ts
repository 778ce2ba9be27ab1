import type { IncomingHttpHeaders } from 'node:http'
import {
  canonicalRequest,
  credentialScope,
  signaturesEqual,
  signString,
  stringToSign,
} from './canonical-request.js'
import type { Credential } from './credential.js'
import { SigV4Errors } from './sigv4-error.js'
import type { AuthenticateOptions, PayloadMode, SigningKeySource } from './sigv4-types.js'

/** The service every S3 signature must name. */
export const SERVICE = 's3'

/** What a signature is checked against, once the auth style has been parsed. */
export interface SignatureCheck {
  readonly method: string
  readonly path: string
  readonly canonicalQuery: string
  readonly headers: IncomingHttpHeaders
  readonly signedHeaders: readonly string[]
  readonly payloadHash: string
  readonly amzDate: string
  readonly credential: Credential
  readonly signature: string
}

/** Look the key up, recompute the signature and compare it in constant time; returns the signing key. */
export async function verifySignature(
  check: SignatureCheck,
  options: AuthenticateOptions,
  keys: SigningKeySource,
): Promise<Buffer> {
  const { credential } = check
  const found = await options.lookup(credential.accessKeyId)
  if (found === null) throw SigV4Errors.invalidAccessKeyId(credential.accessKeyId)
  const signingKey = keys.get(found.secretAccessKey, credential.date, credential.region, SERVICE)
  const canonical = canonicalRequest(check)
  const toSign = stringToSign(
    check.amzDate,
    credentialScope(credential.date, credential.region, SERVICE),
    canonical,
  )
  if (!signaturesEqual(signString(signingKey, toSign), check.signature)) {
    throw SigV4Errors.signatureDoesNotMatch({
      accessKeyId: credential.accessKeyId,
      signatureProvided: check.signature,
      stringToSign: toSign,
      canonicalRequest: canonical,
    })
  }
  return signingKey
}

/** Throw AccessDenied when an `x-amz-*` header is present but not signed (AWS HeadersNotSigned). */
export function requireAmzHeadersSigned(
  headers: IncomingHttpHeaders,
  signed: ReadonlySet<string>,
  exempt: ReadonlySet<string> = new Set(),
): void {
  const unsigned: string[] = []
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-') && !signed.has(name) && !exempt.has(name)) unsigned.push(name)
  }
  if (unsigned.length > 0) throw SigV4Errors.headersNotSigned(unsigned.sort())
}

/** A header's value as one string (repeated values joined with ','), or undefined. */
export function headerString(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/
const PAYLOAD_KINDS = new Map<
  string,
  'unsigned' | 'signed' | 'signed-trailer' | 'unsigned-trailer'
>([
  ['UNSIGNED-PAYLOAD', 'unsigned'],
  ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'signed'],
  ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'signed-trailer'],
  ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'unsigned-trailer'],
])

/** Throw InvalidArgument unless `value` is a payload hash this verifier understands. */
export function checkPayloadHash(value: string): void {
  if (!PAYLOAD_KINDS.has(value) && !SHA256_HEX.test(value)) {
    throw SigV4Errors.invalidContentSha256(value)
  }
}

/** The payload mode a (checked) `x-amz-content-sha256` value asks for. */
export function payloadModeOf(
  value: string,
  seed: { signature: string; signingKey: Buffer; amzDate: string; scope: string },
): PayloadMode {
  const kind = PAYLOAD_KINDS.get(value)
  switch (kind) {
    case undefined:
      return { kind: 'sha256', expected: value.toLowerCase() }
    case 'unsigned':
      return { kind: 'unsigned' }
    case 'unsigned-trailer':
      return { kind: 'streaming-unsigned', trailer: true }
    case 'signed':
    case 'signed-trailer':
      return {
        kind: 'streaming-signed',
        trailer: kind === 'signed-trailer',
        seedSignature: seed.signature,
        signingKey: seed.signingKey,
        amzDate: seed.amzDate,
        scope: seed.scope,
      }
  }
}

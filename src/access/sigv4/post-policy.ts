import { ALGORITHM, signaturesEqual, signString } from './canonical-request.js'
import { parseCredential } from './credential.js'
import { SigningKeyCache } from './signing-key.js'
import { SigV4Error, SigV4Errors } from './sigv4-error.js'
import type { AuthenticateOptions, AuthResult } from './sigv4-types.js'
import { SERVICE } from './verify-signature.js'

// A pure memo shared by callers that do not pass their own `signingKeys`.
const defaultSigningKeys = new SigningKeyCache(1000)

function missingField(name: string): SigV4Error {
  return new SigV4Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { details: { argumentName: name, argumentValue: '' } },
  )
}

function invalidField(name: string, value: string, reason: string): SigV4Error {
  return new SigV4Error('InvalidArgument', reason, {
    details: { argumentName: name, argumentValue: value },
  })
}

/**
 * Authenticates a browser upload (POST Object with a SigV4 POST policy): the form's
 * `x-amz-signature` must be the HMAC-SHA256 of the base64 `policy` text under the signing key of
 * `x-amz-credential`'s scope (service `s3`, one of `options.regions`), compared in constant
 * time. Only the signature is checked here; the policy's expiration and conditions are the S3
 * face's. `fields` are the form fields by lower-case name.
 */
export async function authenticatePostPolicy(
  fields: ReadonlyMap<string, string>,
  options: AuthenticateOptions,
): Promise<AuthResult & { readonly kind: 'signed' }> {
  const policy = fields.get('policy')
  if (policy === undefined) throw missingField('policy')
  const algorithm = fields.get('x-amz-algorithm')
  if (algorithm === undefined) {
    if (fields.has('awsaccesskeyid')) throw SigV4Errors.unsupportedAuthorization('AWS')
    throw missingField('x-amz-algorithm')
  }
  if (algorithm !== ALGORITHM) {
    throw invalidField(
      'x-amz-algorithm',
      algorithm,
      `The algorithm '${algorithm}' is not supported: use ${ALGORITHM}`,
    )
  }
  const credentialText = fields.get('x-amz-credential')
  if (credentialText === undefined) throw missingField('x-amz-credential')
  const credential = parseCredential(credentialText)
  if (credential === undefined || credential.terminal !== 'aws4_request') {
    throw invalidField(
      'x-amz-credential',
      credentialText,
      `Error parsing the X-Amz-Credential parameter; the credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    )
  }
  if (credential.service !== SERVICE) {
    throw invalidField(
      'x-amz-credential',
      credentialText,
      `Error parsing the X-Amz-Credential parameter; incorrect service '${credential.service}'; this endpoint belongs to '${SERVICE}'`,
    )
  }
  if (!options.regions.includes(credential.region)) {
    throw new SigV4Error(
      'InvalidArgument',
      `Error parsing the X-Amz-Credential parameter; the region '${credential.region}' is wrong; expecting '${options.regions[0] ?? ''}'`,
      {
        details: {
          argumentName: 'x-amz-credential',
          argumentValue: credentialText,
          region: options.regions[0] ?? '',
        },
      },
    )
  }
  const amzDate = fields.get('x-amz-date')
  if (amzDate === undefined) throw missingField('x-amz-date')
  if (!amzDate.startsWith(credential.date) || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    throw invalidField(
      'x-amz-date',
      amzDate,
      `The x-amz-date '${amzDate}' is not a valid ISO 8601 basic date of the credential's day '${credential.date}'`,
    )
  }
  const signature = fields.get('x-amz-signature')
  if (signature === undefined) throw missingField('x-amz-signature')
  const found = await options.lookup(credential.accessKeyId)
  if (found === null) throw SigV4Errors.invalidAccessKeyId(credential.accessKeyId)
  const keys = options.signingKeys ?? defaultSigningKeys
  const signingKey = keys.get(found.secretAccessKey, credential.date, credential.region, SERVICE)
  if (!signaturesEqual(signString(signingKey, policy), signature.toLowerCase())) {
    throw SigV4Errors.signatureDoesNotMatch({
      accessKeyId: credential.accessKeyId,
      signatureProvided: signature,
      stringToSign: policy,
    })
  }
  return {
    kind: 'signed',
    accessKeyId: credential.accessKeyId,
    region: credential.region,
    presigned: false,
    payload: { kind: 'unsigned' },
  }
}

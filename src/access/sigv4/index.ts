export { authenticate } from './authenticate.js'
export type { AwsChunkedOptions, ChunkSigning } from './aws-chunked.js'
export { AwsChunkedDecoder, MAX_CHUNK_HEADER_BYTES, MAX_TRAILER_BYTES } from './aws-chunked.js'
export type { PayloadDecoderOptions } from './payload-decoder.js'
export { createPayloadDecoder, verifyWholePayload } from './payload-decoder.js'
export { authenticatePostPolicy } from './post-policy.js'
export { MAX_PRESIGNED_EXPIRES } from './presigned.js'
export type {
  EncodeAwsChunkedOptions,
  PresignUrlInput,
  SignedRequestHeaders,
  SigningIdentity,
  SignRequestInput,
} from './sign.js'
export { encodeAwsChunked, presignUrl, signRequestHeaders } from './sign.js'
export { deriveSigningKey, SigningKeyCache } from './signing-key.js'
export { SigV4Error, SigV4Errors } from './sigv4-error.js'
export type {
  AuthenticateOptions,
  AuthResult,
  PayloadDecoder,
  PayloadMode,
  SecretLookup,
  SignedRequest,
  SigningKeySource,
  SigV4ErrorCode,
} from './sigv4-types.js'
export { SIGV4_ERROR_CODES } from './sigv4-types.js'

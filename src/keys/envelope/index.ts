export {
  createDecryptStream,
  type DecryptOptions,
  type DecryptParams,
  type DecryptStream,
} from './decrypt-stream.js'
export {
  createEncryptStream,
  type EncryptParams,
  generateDataKey,
  type OpeningParams,
  sealEnvelope,
} from './encrypt-stream.js'
export {
  type ByteRange,
  type CiphertextRange,
  ciphertextRangeFor,
  ciphertextSizeOf,
  DEK_SIZE,
  ENVELOPE_HEADER_SIZE,
  ENVELOPE_SEGMENT_SIZE,
  ENVELOPE_TAG_SIZE,
  ENVELOPE_VERSION,
  type EnvelopeBinding,
  type EnvelopeHeader,
  parseEnvelopeHeader,
  plaintextSizeOf,
} from './envelope-format.js'
export { EnvelopeOpener, type OpenOptions, type OpenParams } from './envelope-opener.js'
export {
  digestEnvelopeOffThread,
  envelopeThreadsAvailable,
  openEnvelopeOffThread,
  resealEnvelopeOffThread,
} from './envelope-threads.js'
export { nativeGcm, nativeGcmBuilt, useNativeGcm } from './native-gcm.js'
export { digestEnvelope, type EnvelopeDigest, PlaintextDigest } from './plaintext-digest.js'

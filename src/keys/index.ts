// The keys domain: the at-rest envelope, key providers, the keyd server core and SSE-C helpers.
export * from './envelope/index.js'
export {
  isKeyError,
  KEY_ERROR_CODES,
  KeyError,
  type KeyErrorCode,
  KeyErrors,
} from './key-error.js'

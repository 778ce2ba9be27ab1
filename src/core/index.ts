export { canonicalize } from './canonical-json.js'
export type { DurableWriteOptions } from './durable-file.js'
export {
  atomicWrite,
  createFileOnce,
  ensureDir,
  fsyncDir,
  readIfExists,
  removeDurably,
} from './durable-file.js'
export { isDomainError, SovraError } from './errors.js'
export {
  DATA_CENTER_ID_MAX_LENGTH,
  DATA_CENTER_ID_PATTERN,
  isKnownJurisdiction,
  JURISDICTIONS,
} from './jurisdictions.js'
export type { Logger } from './logger.js'
export { createLogger } from './logger.js'
export { RANDOM_POOL_MAX_DRAW, randomBytesPooled } from './random-pool.js'
export {
  isStoragePath,
  pathsOverlap,
  STORAGE_PATH_MAX_LENGTH,
  STORAGE_PATH_RULE,
} from './storage-path.js'
export { decodeXmlText } from './xml-text.js'

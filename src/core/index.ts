export { canonicalize } from './canonical-json.js'
export { isDomainError, SovraError } from './errors.js'
export type { Logger } from './logger.js'
export { createLogger } from './logger.js'

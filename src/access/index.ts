// The access layer: who may do what. SigV4 request authentication (shared by every face that
// accepts tenants' S3 access keys: the S3 endpoints and the admin API) and the operator token.

export * from './acl/index.js'
export type {
  OperatorToken,
  OperatorTokenCheck,
  OperatorTokenStore,
} from './operator-token.js'
export {
  ensureOperatorToken,
  hashOperatorToken,
  OPERATOR_TOKEN_PREFIX,
  operatorTokenPath,
  readOperatorTokenFile,
} from './operator-token.js'
export * from './policy/index.js'
export * from './sigv4/index.js'

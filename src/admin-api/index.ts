export type { AdminAuthDeps, AdminAuthDirectory } from './admin-auth.js'
export {
  ADMIN_ERROR_CODES,
  AdminError,
  type AdminErrorCode,
  AdminErrors,
} from './admin-error.js'
export { type AdminDeps, adminApi, createAdminHandler } from './admin-server.js'
export { allAdminErrorCodes, toAdminError } from './errors.js'
export type { PublicLedger } from './ledger-routes.js'
export type { AdminRoute, AdminTenant, Principal, RouteAuth } from './route.js'
export { defineRoute } from './route.js'
export type {
  AttestationAnswer,
  AttestationRequest,
} from './routes/buckets.js'
export type {
  ChangeContext,
  DataCenterControl,
  DataCenterView,
  NewDataCenter,
  TransitionRequest,
} from './routes/data-centers.js'
export type { KmsKeyControl } from './routes/kms-keys.js'
export type { WitnessedLedger } from './witness-metrics.js'
export { registerWitnessMetrics } from './witness-metrics.js'

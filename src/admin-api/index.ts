export { type AdminDeps, createAdminHandler } from './admin-server.js'
export type { PublicLedger } from './ledger-routes.js'
export type { WitnessedLedger } from './witness-metrics.js'
export { registerWitnessMetrics } from './witness-metrics.js'

export { type AdminDeps, createAdminHandler } from './admin-server.js'
export type { PublicLedger } from './ledger-routes.js'

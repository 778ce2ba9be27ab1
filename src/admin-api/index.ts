export { type AdminDeps, createAdminHandler } from './admin-server.js'

import type { AdminRouteDeps } from '../../src/admin-api/routes/all-routes.js'

/**
 * Route dependencies for tests that build the admin API only to read its routes or OpenAPI
 * document: none of them is called. A new route's dependency is added here once.
 */
export const UNUSED_ROUTE_DEPS = {
  dataCenters: {} as never,
  ledgerOf: () => undefined,
  ledgerSecretOf: async () => Buffer.alloc(32),
  signingKeys: {} as never,
  transfers: {} as never,
  kmsKeys: {} as never,
  bucketPlacement: async () => null,
  keyRotationsOf: () => undefined,
  attestBucket: async () => {
    throw new Error('unused')
  },
} satisfies Partial<AdminRouteDeps>

import type { AdminRoute } from '../route.js'
import { type BucketRouteDeps, bucketRoutes } from './buckets.js'
import { type DataCenterRouteDeps, dataCenterRoutes } from './data-centers.js'
import { type KeyRotationRouteDeps, keyRotationRoutes } from './key-rotation.js'
import { type KmsKeyRouteDeps, kmsKeyRoutes } from './kms-keys.js'
import { type LedgerEventRouteDeps, ledgerEventRoutes } from './ledger-events.js'
import { type SigningKeyRouteDeps, signingKeyRoutes } from './signing-keys.js'
import { type SystemRouteDeps, systemRoutes } from './system.js'
import { tenantRoutes } from './tenant.js'
import { type TransferRouteDeps, transferRoutes } from './transfers.js'

/** Everything the JSON routes need; each resource file declares its own part. */
export interface AdminRouteDeps
  extends SystemRouteDeps,
    DataCenterRouteDeps,
    LedgerEventRouteDeps,
    SigningKeyRouteDeps,
    TransferRouteDeps,
    KmsKeyRouteDeps,
    KeyRotationRouteDeps,
    BucketRouteDeps {}

/**
 * Every JSON route of the admin port. To add a resource: write `routes/<resource>.ts` exporting
 * `<resource>Routes(deps)` built with `defineRoute`, add its deps to `AdminRouteDeps`, and add
 * one line here. The router and the OpenAPI document pick it up from this list.
 */
export function adminRoutes(
  deps: AdminRouteDeps & { readonly openApi: () => object },
): AdminRoute[] {
  return [
    ...systemRoutes(deps),
    ...dataCenterRoutes(deps),
    ...tenantRoutes(),
    ...ledgerEventRoutes(deps),
    ...signingKeyRoutes(deps),
    ...transferRoutes(deps),
    ...kmsKeyRoutes(deps),
    ...keyRotationRoutes(deps),
    ...bucketRoutes(deps),
  ]
}

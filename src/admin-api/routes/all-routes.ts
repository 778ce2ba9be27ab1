import type { AdminRoute } from '../route.js'
import { type BucketRouteDeps, bucketRoutes } from './buckets.js'
import { type DataCenterRouteDeps, dataCenterRoutes } from './data-centers.js'
import { type LedgerEventRouteDeps, ledgerEventRoutes } from './ledger-events.js'
import { type SystemRouteDeps, systemRoutes } from './system.js'
import { tenantRoutes } from './tenant.js'

/** Everything the JSON routes need; each resource file declares its own part. */
export interface AdminRouteDeps
  extends SystemRouteDeps,
    DataCenterRouteDeps,
    LedgerEventRouteDeps,
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
    ...bucketRoutes(deps),
  ]
}

import { z } from 'zod'
import { defineRoute } from '../route.js'

/** GET /admin/v1/tenant: who the signing access key belongs to. */
export function tenantRoutes() {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/v1/tenant',
      operationId: 'getCallingTenant',
      summary: 'The tenant whose S3 access key signed the request ("who am I")',
      tag: 'tenant',
      auth: 'tenant',
      response: z.object({
        id: z.string(),
        name: z.string(),
        canonicalId: z.string(),
        accessKeyId: z.string().meta({ description: 'The key that signed this request' }),
      }),
      handler: async ({ principal }) => ({
        id: principal.tenant.id,
        name: principal.tenant.name,
        canonicalId: principal.tenant.canonicalId,
        accessKeyId: principal.accessKeyId,
      }),
    }),
  ]
}

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { UNUSED_ROUTE_DEPS } from '../../test/support/admin-route-deps.js'
import { createLogger } from '../core/index.js'
import { adminApi } from './admin-server.js'
import { newDataCenterSchema } from './routes/data-centers.js'

const { routes, openApi } = adminApi({
  ...UNUSED_ROUTE_DEPS,
  registry: new Registry(),
  ledgers: new Map(),
  logger: createLogger('silent'),
  version: '1.2.3',
  auth: {
    operatorToken: { matches: () => false },
    directory: { lookupAccessKey: async () => null, getTenant: async () => null },
    regions: () => [],
    maxClockSkewMs: 1,
    now: Date.now,
  },
  dataCenters: {
    list: async () => [],
    get: async () => null,
    add: async () => {
      throw new Error('unused')
    },
    transition: async () => {
      throw new Error('unused')
    },
  },
})

type Json = Record<string, unknown>
const doc = openApi() as {
  openapi: string
  info: Json
  paths: Record<string, Record<string, Json>>
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> }
}

/** Every `$ref` in a JSON value. */
function refsIn(value: unknown): string[] {
  const text = JSON.stringify(value)
  return [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string)
}

describe('the admin OpenAPI document', () => {
  it('is OpenAPI 3.1 and lists every declared route, once, with its operation id', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.version).toBe('1.2.3')
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`,
      ),
    )
    expect(listed.sort()).toEqual(
      routes.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort(),
    )
    for (const expected of [
      'GET /admin/v1/data-centers listDataCenters',
      'POST /admin/v1/data-centers addDataCenter',
      'POST /admin/v1/data-centers/{id}/activate activateDataCenter',
      'POST /admin/v1/data-centers/{id}/drain drainDataCenter',
      'POST /admin/v1/data-centers/{id}/retire retireDataCenter',
      'GET /admin/v1/tenant getCallingTenant',
      'GET /admin/v1/openapi.json openApiDocument',
      'GET /healthz health',
    ]) {
      expect(listed).toContain(expected)
    }
  })

  it('describes each request body with the schema the router validates it with', () => {
    const add = doc.paths['/admin/v1/data-centers']?.post as Json
    const body = (add.requestBody as { content: Record<string, { schema: Json }> }).content[
      'application/json'
    ]?.schema as { properties: Record<string, Json>; required: string[] }
    expect(Object.keys(body.properties).sort()).toEqual(
      Object.keys(newDataCenterSchema.shape).sort(),
    )
    expect(body.required.sort()).toEqual(['city', 'id', 'jurisdiction', 'port'])
    expect(body.properties.port).toMatchObject({ type: 'integer', minimum: 0, maximum: 65535 })
    expect(body.properties.id?.pattern).toBe('^[a-z]{2}(-[a-z0-9]+)+$')
    expect(body.properties.status).toMatchObject({ enum: ['planned', 'active'], default: 'active' })
    expect((body as Json).additionalProperties).toBe(false)
  })

  it('names the security of every operation: public, operator token or tenant SigV4', () => {
    const security = (method: string, path: string) => doc.paths[path]?.[method]?.security
    expect(security('get', '/admin/v1/data-centers')).toEqual([])
    expect(security('get', '/healthz')).toEqual([])
    expect(security('post', '/admin/v1/data-centers')).toEqual([{ operatorToken: [] }])
    expect(security('post', '/admin/v1/data-centers/{id}/retire')).toEqual([{ operatorToken: [] }])
    expect(security('get', '/admin/v1/tenant')).toEqual([{ tenantSigV4: [] }])
    // Tenants submit and register keys; operators never do. Both read transfers.
    expect(security('post', '/admin/v1/transfers')).toEqual([{ tenantSigV4: [] }])
    expect(security('post', '/admin/v1/tenant/signing-keys')).toEqual([{ tenantSigV4: [] }])
    expect(security('delete', '/admin/v1/signing-keys/{keyId}')).toEqual([{ operatorToken: [] }])
    expect(security('get', '/admin/v1/transfers')).toEqual([
      { tenantSigV4: [] },
      { operatorToken: [] },
    ])
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'operatorToken',
      'tenantSigV4',
    ])
  })

  it('lists path parameters and the error responses each route can give', () => {
    const retire = doc.paths['/admin/v1/data-centers/{id}/retire']?.post as Json
    expect(retire.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ])
    expect(Object.keys(retire.responses as Json).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '500',
    ])
    const add = doc.paths['/admin/v1/data-centers']?.post as Json
    expect(Object.keys(add.responses as Json)).toContain('201')
  })

  it('resolves every $ref inside the document', () => {
    const refs = refsIn(doc)
    expect(refs).toContain('#/components/schemas/Error')
    expect(refs).toContain('#/components/schemas/DataCenter')
    for (const ref of refs) {
      expect(ref.startsWith('#/components/schemas/')).toBe(true)
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)]).toBeDefined()
    }
    expect(JSON.stringify(doc)).not.toContain('$defs')
  })
})

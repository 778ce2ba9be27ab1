import { z } from 'zod'
import { ADMIN_ERROR_CODES } from './admin-error.js'
import type { AdminRoute, RouteAuth } from './route.js'

/** The JSON body of every error, as the document describes it. */
export const errorBodySchema = z
  .object({
    code: z.string().meta({
      description: `Stable code (docs/errors.md): one of the admin face's (${ADMIN_ERROR_CODES.join(', ')}) or a domain code such as "PortInUse"`,
    }),
    message: z.string(),
    issues: z
      .array(
        z.object({
          path: z.array(z.union([z.string(), z.number()])),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'For ValidationFailed: each failed check and where' }),
  })
  .meta({ id: 'Error' })

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (ValidationFailed with the failing paths, InvalidJson, a domain code)',
  401: 'Missing or invalid credentials (Unauthenticated, SignatureDoesNotMatch, …)',
  403: 'Authenticated, but not allowed to call this route (Forbidden)',
  404: 'The resource does not exist',
  409: 'Conflicts with the current state; nothing was changed',
  500: 'Server fault (InternalError); the cause is in the server log under the request id',
}

const SECURITY: Record<RouteAuth, Array<Record<string, string[]>>> = {
  public: [],
  operator: [{ operatorToken: [] }],
  tenant: [{ tenantSigV4: [] }],
  'tenant-or-operator': [{ tenantSigV4: [] }, { operatorToken: [] }],
}

type JsonSchema = Record<string, unknown>

/**
 * A zod schema as an OpenAPI 3.1 (JSON Schema 2020-12) schema. Schemas with a `meta({ id })` are
 * moved to `components` (collected in `shared`) and referenced there.
 */
function schemaOf(
  schema: z.ZodType,
  io: 'input' | 'output',
  shared: Record<string, JsonSchema>,
): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
  delete json.$schema
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>
  delete json.$defs
  const relink = (value: JsonSchema): JsonSchema =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'))
  for (const [id, def] of Object.entries(defs)) shared[id] = relink(def)
  return relink(json)
}

/** Path and query parameters, one OpenAPI parameter per key of the object schema. */
function parametersOf(
  schema: z.ZodObject | undefined,
  where: 'path' | 'query',
  shared: Record<string, JsonSchema>,
): JsonSchema[] {
  if (schema === undefined) return []
  const json = schemaOf(schema, 'input', shared) as {
    properties?: Record<string, JsonSchema>
    required?: string[]
  }
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string }
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description === undefined ? {} : { description }),
      schema: rest,
    }
  })
}

function operationOf(route: AdminRoute, shared: Record<string, JsonSchema>): JsonSchema {
  const errorStatuses = new Set<number>([500, ...(route.errors ?? [])])
  if (route.params !== undefined || route.query !== undefined || route.body !== undefined) {
    errorStatuses.add(400)
  }
  if (route.auth !== 'public') {
    errorStatuses.add(401)
    errorStatuses.add(403)
  }
  const responses: Record<string, JsonSchema> = {
    [String(route.status ?? 200)]: {
      description: route.summary,
      content: { 'application/json': { schema: schemaOf(route.response, 'output', shared) } },
    },
  }
  for (const status of [...errorStatuses].sort()) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    }
  }
  const parameters = [
    ...parametersOf(route.params, 'path', shared),
    ...parametersOf(route.query, 'query', shared),
  ]
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.tag],
    security: SECURITY[route.auth],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(route.body, 'input', shared) } },
          },
        }),
    responses,
  }
}

/**
 * The OpenAPI 3.1 document of the admin API, generated from the same route declarations (and
 * zod schemas) the router validates requests with.
 */
export function buildOpenApiDocument(
  routes: readonly AdminRoute[],
  info: { readonly version: string },
): JsonSchema {
  const shared: Record<string, JsonSchema> = {}
  schemaOf(errorBodySchema, 'output', shared)
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const route of routes) {
    const item = paths[route.path] ?? {}
    item[route.method.toLowerCase()] = operationOf(route, shared)
    paths[route.path] = item
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sovra admin API',
      version: info.version,
      description:
        'Operators call it with `Authorization: Bearer <operator token>`; tenants sign requests with SigV4 and their S3 access keys (service `s3`, region `us-east-1` or any data center id). Errors are JSON `{ code, message }`; see docs/admin-api.md and docs/errors.md.',
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: shared,
      securitySchemes: {
        operatorToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The operator token, printed once by the first `sovra serve` and kept in `<dataDir>/keys/operator.token`',
        },
        tenantSigV4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 (`AWS4-HMAC-SHA256`) with one of the tenant’s S3 access keys; the body’s SHA-256 in `x-amz-content-sha256`',
        },
      },
    },
  }
}

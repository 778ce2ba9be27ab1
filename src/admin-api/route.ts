import type { z } from 'zod'
import type { Logger } from '../core/index.js'

/** HTTP methods a route may answer. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * Who may call a route. `public`: anyone. `operator`: `Authorization: Bearer <operator token>`.
 * `tenant`: a request signed with SigV4 by one of the tenant's active S3 access keys.
 * `tenant-or-operator`: either of the two (read-only views an operator needs too, such as the
 * transfers); the handler sees which one called and narrows what it answers.
 */
export type RouteAuth = 'public' | 'operator' | 'tenant' | 'tenant-or-operator'

/** A tenant as the admin face sees it. */
export interface AdminTenant {
  readonly id: string
  readonly name: string
  readonly canonicalId: string
  readonly admin: boolean
}

/** Who is calling, as authentication established it. */
export type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'operator' }
  | { readonly kind: 'tenant'; readonly tenant: AdminTenant; readonly accessKeyId: string }

/** The principal a route of each auth kind receives. */
export type PrincipalOf<A extends RouteAuth> = A extends 'operator'
  ? Extract<Principal, { kind: 'operator' }>
  : A extends 'tenant'
    ? Extract<Principal, { kind: 'tenant' }>
    : A extends 'tenant-or-operator'
      ? Extract<Principal, { kind: 'tenant' | 'operator' }>
      : Principal

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined

/** What a handler receives: the validated parts of the request and who sent it. */
export interface RouteInput<P, Q, B, A extends RouteAuth> {
  readonly params: Parsed<P>
  readonly query: Parsed<Q>
  readonly body: Parsed<B>
  readonly principal: PrincipalOf<A>
  readonly requestId: string
  readonly log: Logger
}

/**
 * One admin route, declared once: the router validates requests with these schemas and the
 * OpenAPI document is generated from the same ones, so the two cannot drift apart.
 */
export interface RouteSpec<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
  R extends z.ZodType,
  A extends RouteAuth,
> {
  readonly method: RouteMethod
  /** Path with `{name}` placeholders, for example `/admin/v1/data-centers/{id}/drain`. */
  readonly path: string
  /** Unique, camelCase: the OpenAPI `operationId`. */
  readonly operationId: string
  /** One line for the OpenAPI document and docs. */
  readonly summary: string
  /** Longer notes (Markdown), when the behaviour is subtle. */
  readonly description?: string
  /** OpenAPI tag: the resource, for example `data-centers`. */
  readonly tag: string
  readonly auth: A
  /** Path parameters, one key per `{name}` of `path`. */
  readonly params?: P
  /** Query parameters (each a string on the wire). */
  readonly query?: Q
  /** JSON request body. */
  readonly body?: B
  /** The JSON response body. */
  readonly response: R
  /** Success status; default 200. */
  readonly status?: 200 | 201
  /** Error statuses this route may answer besides the ones every route has (400, 401, 403, 500). */
  readonly errors?: readonly (404 | 409)[]
  /** Largest body this route reads; default `MAX_ADMIN_BODY_BYTES` (1 MiB). */
  readonly maxBodyBytes?: number
  handler(input: RouteInput<P, Q, B, A>): Promise<z.input<R>>
}

/** A declared route with its types erased, as the router and the OpenAPI generator hold it. */
export interface AdminRoute {
  readonly method: RouteMethod
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tag: string
  readonly auth: RouteAuth
  readonly params?: z.ZodObject
  readonly query?: z.ZodObject
  readonly body?: z.ZodType
  readonly response: z.ZodType
  readonly status?: 200 | 201
  readonly errors?: readonly number[]
  readonly maxBodyBytes?: number
  handler(input: {
    params: unknown
    query: unknown
    body: unknown
    principal: Principal
    requestId: string
    log: Logger
  }): Promise<unknown>
}

/** Declares a route; the handler's input and output types follow from the schemas. */
export function defineRoute<
  R extends z.ZodType,
  A extends RouteAuth,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B, R, A>): AdminRoute {
  const names = [...spec.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort()
  const declared = Object.keys(spec.params?.shape ?? {}).sort()
  if (names.join() !== declared.join()) {
    throw new TypeError(
      `Route "${spec.operationId}" declares params "${declared.join(', ')}" but its path "${spec.path}" has "${names.join(', ')}"`,
    )
  }
  return spec as unknown as AdminRoute
}

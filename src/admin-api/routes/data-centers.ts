import { z } from 'zod'
import {
  DATA_CENTER_ID_MAX_LENGTH,
  DATA_CENTER_ID_PATTERN,
  isStoragePath,
  STORAGE_PATH_RULE,
} from '../../core/index.js'
import { DirectoryErrors } from '../../directory/index.js'
import { defineRoute } from '../route.js'

/** A data center as the admin API shows it. */
export interface DataCenterView {
  readonly id: string
  readonly name: string
  readonly city: string
  readonly jurisdiction: string
  readonly status: 'planned' | 'active' | 'draining' | 'retired'
  /** Configured port; `0` means any free port, chosen at each start. */
  readonly port: number
  /** The S3 endpoint while it serves; null when retired. */
  readonly endpoint: string | null
}

/** What POST /admin/v1/data-centers asks for. */
export interface NewDataCenter {
  readonly id: string
  readonly name: string
  readonly city: string
  readonly jurisdiction: string
  readonly port: number
  readonly status: 'planned' | 'active'
  /** Absolute folder of its files; default `<dataDir>/dcs/<id>`. */
  readonly storagePath?: string
}

/** Who asked for a change, for the data center's ledger: the admin request that carried it. */
export interface ChangeContext {
  readonly requestId: string
}

/** A lifecycle step: the status it leads to, and who asked. */
export interface TransitionRequest extends Partial<ChangeContext> {
  readonly to: 'active' | 'draining' | 'retired'
}

/** The run-time catalog the routes drive (implemented by the composition root). */
export interface DataCenterControl {
  list(): Promise<DataCenterView[]>
  get(id: string): Promise<DataCenterView | null>
  /** Persists the data center, then starts its cell and S3 endpoint at once. */
  add(input: NewDataCenter, context: ChangeContext): Promise<DataCenterView>
  /** One lifecycle step; `retired` stops the endpoint and closes the cell. */
  transition(id: string, request: TransitionRequest): Promise<DataCenterView>
}

/** What the data center routes need. */
export interface DataCenterRouteDeps {
  readonly dataCenters: DataCenterControl
}

const STATUSES = ['planned', 'active', 'draining', 'retired'] as const

const dataCenterId = z
  .string()
  .max(DATA_CENTER_ID_MAX_LENGTH, {
    error: `expected at most ${DATA_CENTER_ID_MAX_LENGTH} characters`,
  })
  .regex(DATA_CENTER_ID_PATTERN, {
    error: 'expected a lower-case id such as "us-west-1" or "cn-hangzhou"',
  })
  .meta({ description: 'Data center id such as "us-west-1"' })

const dataCenterSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    city: z.string(),
    jurisdiction: z.string().meta({ description: 'ISO 3166-1 alpha-2 code' }),
    status: z.enum(STATUSES),
    port: z.int().meta({ description: 'Configured port; 0 = any free port at each start' }),
    endpoint: z.string().nullable().meta({ description: 'S3 endpoint while it serves' }),
  })
  .meta({ id: 'DataCenter' })

const text = (max: number) =>
  z.string().trim().min(1, { error: 'expected a non-empty string' }).max(max)

/** Body of POST /admin/v1/data-centers. */
export const newDataCenterSchema = z.strictObject({
  id: dataCenterId,
  name: text(100).optional().meta({ description: 'Display name; default: the city' }),
  city: text(100),
  jurisdiction: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: 'expected an upper-case ISO 3166-1 alpha-2 code such as "US"' }),
  port: z
    .int({ error: 'expected an integer port' })
    .min(0, { error: 'expected a port between 0 and 65535' })
    .max(65535, { error: 'expected a port between 0 and 65535' })
    .meta({ description: '0 = any free port (chosen at each start)' }),
  status: z
    .enum(['planned', 'active'])
    .default('active')
    .meta({ description: 'planned: listens but refuses new buckets until activated' }),
  storagePath: z.string().refine(isStoragePath, { error: STORAGE_PATH_RULE }).exactOptional().meta({
    description:
      'Absolute folder for its files (metadata, blobs, keys, ledger), e.g. a volume of its own; must be new or empty, outside the data folder and apart from every other data center. Default: <dataDir>/dcs/<id>. Not shown by GET.',
  }),
})

const byId = z.strictObject({ id: dataCenterId })

const STEPS = [
  ['activate', 'active', 'planned → active: the data center takes new buckets'],
  [
    'drain',
    'draining',
    'active → draining: CreateBucket is refused there; existing buckets keep working',
  ],
  [
    'retire',
    'retired',
    'draining → retired: refused with 409 while it holds buckets; stops its endpoint and closes its cell',
  ],
] as const

/** GET/POST /admin/v1/data-centers and the lifecycle steps of one data center. */
export function dataCenterRoutes(deps: DataCenterRouteDeps) {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/v1/data-centers',
      operationId: 'listDataCenters',
      summary: 'The data center catalog, with each endpoint',
      tag: 'data-centers',
      auth: 'public',
      response: z.object({ dataCenters: z.array(dataCenterSchema) }),
      handler: async () => ({ dataCenters: await deps.dataCenters.list() }),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/data-centers/{id}',
      operationId: 'getDataCenter',
      summary: 'One data center',
      tag: 'data-centers',
      auth: 'public',
      params: byId,
      response: dataCenterSchema,
      errors: [404],
      handler: async ({ params }) => {
        const dc = await deps.dataCenters.get(params.id)
        if (dc === null) throw DirectoryErrors.noSuchDataCenter(params.id)
        return dc
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/v1/data-centers',
      operationId: 'addDataCenter',
      summary: 'Add a data center; it starts serving at once, without a restart',
      description:
        'Refused, changing nothing, for an invalid id (400 ValidationFailed), an id already in the catalog (409 DataCenterAlreadyExists), a port another data center or the admin API uses (409 PortInUse), an unknown jurisdiction (400 UnknownJurisdiction) and a storage path that is not absolute, not empty, or overlaps the data folder or another data center (400 ValidationFailed / InvalidArgument).',
      tag: 'data-centers',
      auth: 'operator',
      body: newDataCenterSchema,
      response: dataCenterSchema,
      status: 201,
      errors: [409],
      handler: async ({ body, requestId }) =>
        deps.dataCenters.add({ ...body, name: body.name ?? body.city }, { requestId }),
    }),
    ...STEPS.map(([step, to, summary]) =>
      defineRoute({
        method: 'POST',
        path: `/admin/v1/data-centers/{id}/${step}`,
        operationId: `${step}DataCenter`,
        summary,
        tag: 'data-centers',
        auth: 'operator',
        params: byId,
        response: dataCenterSchema,
        errors: [404, 409],
        handler: async ({ params, requestId }) =>
          deps.dataCenters.transition(params.id, { to, requestId }),
      }),
    ),
  ]
}

import { z } from 'zod'
import { DATA_CENTER_ID_MAX_LENGTH, DATA_CENTER_ID_PATTERN } from '../../core/index.js'
import type { KmsKeyRecord, NewKmsKey } from '../../directory/index.js'
import { KMS_KEY_ID_PATTERN, kmsKeyArn, TRANSIT_KEY_NAME_PATTERN } from '../../keys/index.js'
import { defineRoute } from '../route.js'

/** The registry of tenants' customer KMS keys (implemented by the composition root). */
export interface KmsKeyControl {
  /** Registers a key (refuses an unknown data center, or an id the tenant already used). */
  add(key: NewKmsKey): Promise<KmsKeyRecord>
  /** The tenant's keys, removed ones included, without tokens. */
  list(tenantId: string): Promise<KmsKeyRecord[]>
  /**
   * Removes a key (refused with `KmsKeyInUse` while a bucket's encryption configuration names
   * it); the data center's providers drop it, and its cached data keys, at once.
   */
  remove(tenantId: string, keyId: string): Promise<KmsKeyRecord>
}

/** What the KMS key routes need. */
export interface KmsKeyRouteDeps {
  readonly kmsKeys: KmsKeyControl
}

const keyId = z
  .string()
  .regex(KMS_KEY_ID_PATTERN, {
    error: 'expected 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
  })
  .meta({ description: 'What buckets name as KMSMasterKeyID; unique per tenant, never reused' })

/** Body of POST /admin/v1/tenant/kms-keys. The token is write-only. */
export const newKmsKeySchema = z.strictObject({
  keyId,
  provider: z.literal('vault-transit').default('vault-transit'),
  address: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .max(2048)
    .meta({ description: 'Base URL of the Vault, OpenBao or sovra keyd server' }),
  mount: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)*$/, {
      error: 'expected a mount path such as "transit"',
    })
    .max(256)
    .default('transit'),
  keyName: z.string().regex(TRANSIT_KEY_NAME_PATTERN, {
    error: 'expected a Transit key name: letters, digits, "_", "." or "-" (at most 128)',
  }),
  namespace: z.string().min(1).max(256).optional(),
  token: z
    .string()
    .min(8, { error: 'expected the key service token' })
    .max(4096)
    .regex(/^[\x21-\x7e]+$/, { error: 'expected printable ASCII without spaces' })
    .meta({ description: 'Token Sovra wraps and unwraps with. Stored encrypted; never returned' }),
  dataCenters: z
    .array(
      z
        .string()
        .max(DATA_CENTER_ID_MAX_LENGTH)
        .regex(DATA_CENTER_ID_PATTERN, { error: 'expected a data center id such as "us-west-1"' }),
    )
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'Data centers the key may be used in; default any' }),
})

const kmsKeySchema = z
  .object({
    keyId: z.string(),
    arn: z.string().meta({ description: 'arn:sovra:kms::<tenant id>:key/<key id>' }),
    provider: z.literal('vault-transit'),
    address: z.string(),
    mount: z.string(),
    keyName: z.string(),
    namespace: z.string().nullable(),
    dataCenters: z.array(z.string()).nullable().meta({ description: 'null: any data center' }),
    createdAt: z.string().meta({ description: 'RFC 3339' }),
    disabledAt: z
      .string()
      .nullable()
      .meta({ description: 'When the tenant removed it (RFC 3339); null while in use' }),
  })
  .meta({ id: 'KmsKey' })

function view(record: KmsKeyRecord): z.input<typeof kmsKeySchema> {
  return {
    keyId: record.keyId,
    arn: kmsKeyArn(record),
    provider: record.provider,
    address: record.address,
    mount: record.mount,
    keyName: record.keyName,
    namespace: record.namespace,
    dataCenters: record.dataCenters === null ? null : [...record.dataCenters],
    createdAt: new Date(record.createdAt).toISOString(),
    disabledAt: record.disabledAt === null ? null : new Date(record.disabledAt).toISOString(),
  }
}

/** A tenant's customer KMS keys: register, list, remove. */
export function kmsKeyRoutes(deps: KmsKeyRouteDeps) {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/v1/tenant/kms-keys',
      operationId: 'addKmsKey',
      summary:
        'Register a customer KMS key (vault-transit) that buckets may name as KMSMasterKeyID',
      description:
        'The token is stored encrypted under the directory secrets key and never returned or logged. Refused with 409 KmsKeyAlreadyExists for an id this tenant used before, 404 NoSuchDataCenter for an unknown data center.',
      tag: 'tenant',
      auth: 'tenant',
      body: newKmsKeySchema,
      response: kmsKeySchema,
      status: 201,
      errors: [404, 409],
      handler: async ({ principal, body }) =>
        view(
          await deps.kmsKeys.add({
            tenantId: principal.tenant.id,
            keyId: body.keyId,
            provider: body.provider,
            address: body.address.replace(/\/+$/, ''),
            mount: body.mount,
            keyName: body.keyName,
            namespace: body.namespace ?? null,
            token: body.token,
            dataCenters: body.dataCenters ?? null,
          }),
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/tenant/kms-keys',
      operationId: 'listKmsKeys',
      summary: "The calling tenant's customer KMS keys (removed ones included), without tokens",
      tag: 'tenant',
      auth: 'tenant',
      response: z.object({ kmsKeys: z.array(kmsKeySchema) }),
      handler: async ({ principal }) => ({
        kmsKeys: (await deps.kmsKeys.list(principal.tenant.id)).map(view),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/v1/tenant/kms-keys/{keyId}',
      operationId: 'removeKmsKey',
      summary: 'Remove a customer KMS key: it wraps and unwraps nothing from now on',
      description:
        'Refused with 409 KmsKeyInUse while a bucket of the tenant names it in its encryption configuration. The key stays listed with `disabledAt`; its token is erased. Objects whose data keys it wrapped can no longer be read (400 KMS.DisabledException).',
      tag: 'tenant',
      auth: 'tenant',
      params: z.strictObject({ keyId }),
      response: kmsKeySchema,
      errors: [404, 409],
      handler: async ({ principal, params }) =>
        view(await deps.kmsKeys.remove(principal.tenant.id, params.keyId)),
    }),
  ]
}

import { z } from 'zod'
import type { SigningKeyRecord } from '../../directory/index.js'
import type { TransferService } from '../../residency/index.js'
import { defineRoute } from '../route.js'

/** The part of the transfer gate's service the signing key routes drive. */
export type SigningKeyControl = Pick<
  TransferService,
  'addPublicKey' | 'listPublicKeys' | 'revokePublicKey'
>

/** What the signing key routes need. */
export interface SigningKeyRouteDeps {
  /** The transfer gate's service (main.ts passes the same one as `transfers`). */
  readonly signingKeys: SigningKeyControl
}

/** A key id as `publicKeyId` makes it: `ed25519:` and 22 base64url characters. */
const keyIdSchema = z
  .string()
  .regex(/^ed25519:[A-Za-z0-9_-]{22}$/, {
    error: 'expected a key id such as "ed25519:If4x36FUomFia_hUBG_SJw"',
  })
  .meta({ description: 'Signing key id: "ed25519:" + base64url(SHA-256(raw key)[0:16])' })

const time = z.string().meta({ description: 'RFC 3339, UTC' })

const signingKeySchema = z
  .object({
    keyId: z.string(),
    tenantId: z.string(),
    publicKey: z.string().meta({ description: 'SPKI PEM' }),
    createdAt: time,
    revokedAt: time.nullable().meta({ description: 'Set once revoked; the key stays listed' }),
  })
  .meta({ id: 'SigningKey' })

const signingKeyList = z.object({ signingKeys: z.array(signingKeySchema) })

/** A signing key as the admin API shows it. */
export function signingKeyView(k: SigningKeyRecord): z.input<typeof signingKeySchema> {
  return {
    keyId: k.keyId,
    tenantId: k.tenantId,
    publicKey: k.publicKey,
    createdAt: new Date(k.createdAt).toISOString(),
    revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
  }
}

/** Body of POST /admin/v1/tenant/signing-keys. */
export const newSigningKeySchema = z.strictObject({
  publicKey: z.string().min(1).max(16_384).meta({
    description:
      'The Ed25519 public key: SPKI PEM ("-----BEGIN PUBLIC KEY-----"), or the raw 32 bytes in base64/base64url. A private key is refused (SigningKeyIsPrivate)',
  }),
})

const byKeyId = z.strictObject({ keyId: keyIdSchema })

/**
 * The keys that sign a tenant's transfer instructions. Registering is the tenant's alone: an
 * operator who could register a key for a tenant could sign instructions in its name, so the
 * operator routes only list and revoke (revoking takes power away, for a key whose tenant has
 * lost its S3 credentials).
 */
export function signingKeyRoutes(deps: SigningKeyRouteDeps) {
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/v1/tenant/signing-keys',
      operationId: 'addSigningKey',
      summary: "Register a public key that signs the calling tenant's transfer instructions",
      description:
        'The private key never reaches Sovra: a body holding one (a PEM labelled PRIVATE KEY, or a PKCS#8 key in base64) is refused with 400 SigningKeyIsPrivate and neither stored, logged nor echoed. Any other key that is not Ed25519 is 400 SigningKeyInvalid; a key already registered (revoked ones included) 409 SigningKeyAlreadyExists.',
      tag: 'signing-keys',
      auth: 'tenant',
      body: newSigningKeySchema,
      response: signingKeySchema,
      status: 201,
      errors: [409],
      handler: async ({ principal, body }) =>
        signingKeyView(await deps.signingKeys.addPublicKey(principal.tenant.id, body.publicKey)),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/tenant/signing-keys',
      operationId: 'listSigningKeys',
      summary: "The calling tenant's signing keys, revoked ones included",
      tag: 'signing-keys',
      auth: 'tenant',
      response: signingKeyList,
      handler: async ({ principal }) => ({
        signingKeys: (await deps.signingKeys.listPublicKeys(principal.tenant.id)).map(
          signingKeyView,
        ),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/v1/tenant/signing-keys/{keyId}',
      operationId: 'revokeSigningKey',
      summary:
        "Revoke one of the calling tenant's signing keys; it stays listed for audit, and instructions it signed are refused from now on",
      description:
        "Idempotent. Another tenant's key, or an unknown one, is 404 NoSuchSigningKey. Revoking also stops S3 copies under instructions the key signed.",
      tag: 'signing-keys',
      auth: 'tenant',
      params: byKeyId,
      response: signingKeySchema,
      errors: [404],
      handler: async ({ principal, params }) =>
        signingKeyView(await deps.signingKeys.revokePublicKey(params.keyId, principal.tenant.id)),
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/signing-keys',
      operationId: 'listTenantSigningKeys',
      summary: "Operators: one tenant's signing keys, revoked ones included",
      tag: 'signing-keys',
      auth: 'operator',
      query: z.strictObject({
        tenant: z.string().min(1).meta({ description: 'Tenant id or name' }),
      }),
      response: signingKeyList,
      errors: [404],
      handler: async ({ query }) => ({
        signingKeys: (await deps.signingKeys.listPublicKeys(query.tenant)).map(signingKeyView),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/admin/v1/signing-keys/{keyId}',
      operationId: 'revokeAnySigningKey',
      summary:
        "Operators: revoke any tenant's signing key (a key reported lost by a tenant that cannot sign any more)",
      description:
        "Operators can revoke but never register a key: registering would let them sign instructions in the tenant's name.",
      tag: 'signing-keys',
      auth: 'operator',
      params: byKeyId,
      response: signingKeySchema,
      errors: [404],
      handler: async ({ params }) =>
        signingKeyView(await deps.signingKeys.revokePublicKey(params.keyId)),
    }),
  ]
}

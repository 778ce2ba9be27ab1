import { z } from 'zod'
import type { KeyRotationStatus, KeyRotations } from '../../cell/index.js'
import { DirectoryErrors } from '../../directory/index.js'
import { AdminErrors } from '../admin-error.js'
import { defineRoute, type PrincipalOf } from '../route.js'

/** What the key rotation routes need. */
export interface KeyRotationRouteDeps {
  /** Which tenant owns a bucket and which data center holds it (the directory), or null. */
  readonly bucketPlacement: (
    bucket: string,
  ) => Promise<{ readonly tenantId: string; readonly dcId: string } | null>
  /** The key rotations of a data center this process serves. */
  readonly keyRotationsOf: (dcId: string) => KeyRotations | undefined
}

const params = z.strictObject({
  bucket: z.string().min(3).max(63).meta({ description: 'The bucket name' }),
})

const statusSchema = z
  .object({
    bucket: z.string(),
    state: z.enum(['running', 'done', 'failed']),
    provider: z.string().meta({ description: 'The key provider rotated: `dc` or `vault-transit`' }),
    keyVersion: z
      .int()
      .nullable()
      .meta({ description: 'The key version data keys are re-wrapped under, when known' }),
    rewrapped: z.int().meta({ description: 'Data keys re-wrapped under the new version' }),
    current: z.int().meta({
      description: 'Data keys already under the new version (written after the rotation began)',
    }),
    skipped: z.int().meta({
      description:
        'Data keys the server cannot re-wrap: SSE-C (wrapped by your own key) or another provider',
    }),
    failed: z.int().meta({
      description: 'Data keys left under an old version: their re-wrap failed (they still open)',
    }),
    startedAt: z.string().meta({ description: 'RFC 3339' }),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'KeyRotation' })

/** The status as the API sends it (times as RFC 3339). */
function wire(status: KeyRotationStatus): z.input<typeof statusSchema> {
  return {
    ...status,
    startedAt: new Date(status.startedAt).toISOString(),
    finishedAt: status.finishedAt === null ? null : new Date(status.finishedAt).toISOString(),
  }
}

/**
 * Bucket key rotation for the bucket's owner (tenant SigV4): start one, read its status. The
 * rotation itself lives in the bucket's cell (src/cell/key-rotation.ts).
 */
export function keyRotationRoutes(deps: KeyRotationRouteDeps) {
  /** The rotations of the caller's own bucket; 404 for no bucket, 403 for another's. */
  async function rotationsOf(
    bucket: string,
    principal: PrincipalOf<'tenant'>,
  ): Promise<KeyRotations> {
    const placement = await deps.bucketPlacement(bucket)
    if (placement === null) throw DirectoryErrors.noSuchBucket(bucket)
    if (placement.tenantId !== principal.tenant.id) {
      throw AdminErrors.forbidden(`bucket "${bucket}" belongs to another tenant`)
    }
    const rotations = deps.keyRotationsOf(placement.dcId)
    if (rotations === undefined) throw DirectoryErrors.noSuchBucket(bucket)
    return rotations
  }

  return [
    defineRoute({
      method: 'POST',
      path: '/admin/v1/buckets/{bucket}/key-rotation',
      operationId: 'startBucketKeyRotation',
      summary: "Rotates the bucket's key and re-wraps its data keys in the background",
      description:
        "A new key version becomes current (new objects use it from the answer on), then every data key of the bucket is re-wrapped under it in the background; object bytes are not re-encrypted and reads keep working throughout. SSE-C objects are skipped (their data keys are wrapped by the customer's key, which Sovra never keeps). Bucket owner only; `409 KeyRotationInProgress` while one runs.",
      tag: 'buckets',
      auth: 'tenant',
      params,
      response: statusSchema,
      status: 201,
      errors: [404, 409],
      handler: async ({ params: { bucket }, principal, log }) => {
        const rotations = await rotationsOf(bucket, principal)
        const result = await rotations.start(bucket, {
          tenantId: principal.tenant.id,
          accessKeyId: principal.accessKeyId,
        })
        switch (result.kind) {
          case 'no-such-bucket':
            throw DirectoryErrors.noSuchBucket(bucket)
          case 'unsupported':
            throw AdminErrors.keyRotationUnsupported(bucket, result.provider)
          case 'running':
            throw AdminErrors.keyRotationInProgress(bucket)
          case 'started':
            log.info(
              { bucket, keyVersion: result.status.keyVersion },
              'Bucket key rotation started',
            )
            return wire(result.status)
        }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/v1/buckets/{bucket}/key-rotation',
      operationId: 'getBucketKeyRotation',
      summary: "The bucket's current or last key rotation",
      tag: 'buckets',
      auth: 'tenant',
      params,
      response: statusSchema,
      errors: [404],
      handler: async ({ params: { bucket }, principal }) => {
        const status = await (await rotationsOf(bucket, principal)).status(bucket)
        if (status === null) throw AdminErrors.noSuchKeyRotation(bucket)
        return wire(status)
      },
    }),
  ]
}

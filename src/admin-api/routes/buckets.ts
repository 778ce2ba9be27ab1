import { z } from 'zod'
import { ATTESTATION_TYPE, type Attestation } from '../../ledger/index.js'
import { defineRoute } from '../route.js'

/** Who asks for an attestation, and of which bucket. */
export interface AttestationRequest {
  readonly tenantId: string
  readonly accessKeyId: string
  readonly bucket: string
  readonly requestId: string
}

/** A signed attestation and the leaf index of its `bucket.attested` event (null: not logged). */
export interface AttestationAnswer {
  readonly attestation: Attestation
  readonly ledgerIndex: number | null
}

/** What the bucket routes need. */
export interface BucketRouteDeps {
  /**
   * Signs an attestation of the caller's bucket in the bucket's home data center. Throws
   * `NoSuchBucket` for a bucket that does not exist or is another tenant's (the same answer, so
   * nothing leaks), `DataCenterNotServed` when the home data center is not served here.
   */
  readonly attestBucket: (request: AttestationRequest) => Promise<AttestationAnswer>
}

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    error: 'expected a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens',
  })
  .meta({ description: 'Bucket name' })

const attestationSchema = z
  .object({
    statement: z.object({
      v: z.literal(1),
      type: z.literal(ATTESTATION_TYPE),
      bucket: z.string(),
      dc: z.string().meta({ description: 'The data center whose ledger key signs' }),
      jurisdiction: z.string().meta({ description: 'ISO 3166-1 alpha-2 code' }),
      tenant: z.string().meta({ description: 'The owning tenant id' }),
      tenantCommitment: z
        .string()
        .meta({ description: 'HMAC-SHA256(tenant ledger secret, tenant id), hex' }),
      objectCount: z.int(),
      totalBytes: z.int(),
      listDigest: z.string().meta({
        description: 'SHA-256 (hex) of the sorted (key, size, ETag) list, see docs/residency.md',
      }),
      issuedAt: z.string(),
      checkpoint: z
        .string()
        .nullable()
        .meta({ description: "The data center's latest published checkpoint (signed note)" }),
    }),
    signature: z.object({
      keyName: z.string().meta({ description: "The ledger key's name (the log origin)" }),
      keyId: z.string(),
      value: z.string().meta({
        description:
          'base64 Ed25519 signature over "sovra-residency-attestation/v1\\n" + RFC 8785 JSON of statement',
      }),
    }),
    ledgerIndex: z
      .int()
      .nullable()
      .meta({ description: 'Leaf index of the bucket.attested event (not signed)' }),
  })
  .meta({ id: 'ResidencyAttestation' })

/** Buckets as the admin API shows them to their tenant: today, their residency attestation. */
export function bucketRoutes(deps: BucketRouteDeps) {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/v1/buckets/{bucket}/attestation',
      operationId: 'getBucketAttestation',
      summary:
        "A residency attestation of the caller's bucket, signed with its data center's ledger key",
      description:
        'The statement names the bucket, its data center and jurisdiction, the object count, total bytes, a digest of the (key, size, ETag) list, the time and the latest checkpoint; the signature verifies with the verifier key of `/admin/v1/ledger/keys`. A `bucket.attested` event is logged in that data center before the answer. Format: docs/residency.md.',
      tag: 'buckets',
      auth: 'tenant',
      params: z.strictObject({ bucket: bucketName }),
      response: attestationSchema,
      errors: [404, 409],
      handler: async ({ principal, params, requestId }) => {
        const answer = await deps.attestBucket({
          tenantId: principal.tenant.id,
          accessKeyId: principal.accessKeyId,
          bucket: params.bucket,
          requestId,
        })
        return { ...answer.attestation, ledgerIndex: answer.ledgerIndex }
      },
    }),
  ]
}

/**
 * Customer KMS key ids as S3 requests name them (`KMSMasterKeyID`,
 * `x-amz-server-side-encryption-aws-kms-key-id`): a tenant registers a key under an id of its
 * choosing, and each key also has an ARN, `arn:sovra:kms::<tenant id>:key/<key id>`, which names
 * the owning tenant. Object records and responses carry the ARN, so a stored object names its
 * key unambiguously without knowing who asks.
 */

/** What a registered key id may look like: no `:` or `/`, so an id is never mistaken for an ARN. */
export const KMS_KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

const ARN = /^arn:sovra:kms::(t-[0-9a-f]{16}):key\/([^/]+)$/

/** A key id resolved to its owner. */
export interface KmsKeyRef {
  readonly tenantId: string
  readonly keyId: string
}

/** The ARN of a tenant's key. */
export function kmsKeyArn(ref: KmsKeyRef): string {
  return `arn:sovra:kms::${ref.tenantId}:key/${ref.keyId}`
}

/** Parses an ARN made by `kmsKeyArn`; undefined for anything else. */
export function parseKmsKeyArn(arn: string): KmsKeyRef | undefined {
  const m = ARN.exec(arn)
  if (m === null || !KMS_KEY_ID_PATTERN.test(m[2] as string)) return undefined
  return { tenantId: m[1] as string, keyId: m[2] as string }
}

/**
 * The key a request names, for a bucket owned by `tenantId`: a bare id is the owner's; an ARN
 * names its tenant (which the caller must compare with the owner). Undefined when `value` is
 * neither a valid id nor a Sovra KMS ARN (for example an AWS ARN or an alias).
 */
export function resolveKmsKeyId(value: string, tenantId: string): KmsKeyRef | undefined {
  if (KMS_KEY_ID_PATTERN.test(value)) return { tenantId, keyId: value }
  return parseKmsKeyArn(value)
}

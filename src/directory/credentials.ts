import { randomBytes, randomInt } from 'node:crypto'
import { DirectoryErrors } from './directory-error.js'

/** Prefix of generated access key ids, as AWS uses `AKIA`. */
export const ACCESS_KEY_PREFIX = 'SVRA'

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Imported ids: 3-128 characters that are safe in a SigV4 `Credential=` value and a URL. */
const ACCESS_KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/

/** Imported secrets: 8-128 printable ASCII characters without spaces. */
const SECRET_PATTERN = /^[\x21-\x7e]{8,128}$/

/** Tenant names: lower-case, DNS-label-like. */
const TENANT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/

/** Generated tenant ids; names of this shape are refused so an id never reads as a name. */
const TENANT_ID_PATTERN = /^t-[0-9a-f]{16}$/

/** A 20-character upper-case id such as `SVRAJ3K5Q2ZX7MNBV4LC`. */
export function generateAccessKeyId(): string {
  let id = ACCESS_KEY_PREFIX
  while (id.length < 20) id += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)]
  return id
}

/** A 40-character base64 secret, like AWS secret access keys. */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64')
}

/** `t-` and 16 hex characters. */
export function generateTenantId(): string {
  return `t-${randomBytes(8).toString('hex')}`
}

/** 64 hex characters, the shape of an S3 canonical user id. */
export function generateCanonicalId(): string {
  return randomBytes(32).toString('hex')
}

/** True when `value` has the shape of a generated tenant id. */
export function looksLikeTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value)
}

/** Throws InvalidArgument unless `name` is a valid tenant name. */
export function validateTenantName(name: string): void {
  if (!TENANT_NAME_PATTERN.test(name)) {
    throw DirectoryErrors.invalidArgument(
      'tenant name',
      name,
      'expected 2-63 characters of a-z, 0-9 and "-", starting with a letter or digit',
    )
  }
  if (looksLikeTenantId(name)) {
    throw DirectoryErrors.invalidArgument('tenant name', name, 'it has the shape of a tenant id')
  }
}

/** Throws InvalidAccessKey unless an imported id and secret are acceptable. */
export function validateImportedKey(accessKeyId: string, secretAccessKey: string): void {
  if (!ACCESS_KEY_ID_PATTERN.test(accessKeyId)) {
    throw DirectoryErrors.invalidAccessKey(
      accessKeyId,
      'expected 3-128 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
    )
  }
  if (!SECRET_PATTERN.test(secretAccessKey)) {
    // Never echo the secret itself.
    throw DirectoryErrors.invalidAccessKey(
      accessKeyId,
      'expected a secret of 8-128 printable ASCII characters without spaces',
    )
  }
}

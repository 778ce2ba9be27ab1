import { SovraError } from '../core/index.js'

/** Codes the admin face raises itself; a retired code is never reused. */
export const ADMIN_ERROR_CODES = [
  'ValidationFailed',
  'InvalidJson',
  'Unauthenticated',
  'Forbidden',
  'NotFound',
  'MethodNotAllowed',
  'PayloadTooLarge',
  'UnsupportedMediaType',
  'InternalError',
  'KeyRotationInProgress',
  'KeyRotationUnsupported',
  'NoSuchKeyRotation',
  'DataCenterNotServed',
] as const

/** An admin face error code. */
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number]

/** One failed check of a request: where (`['body', 'port']`) and why. */
export interface ValidationIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/** An error of the admin face itself (routing, authentication, request validation). */
export class AdminError extends SovraError<AdminErrorCode> {
  /** The failed checks, for `ValidationFailed`. */
  readonly issues: readonly ValidationIssue[]

  constructor(
    code: AdminErrorCode,
    message: string,
    options: {
      cause?: unknown
      details?: Record<string, string>
      issues?: readonly ValidationIssue[]
    } = {},
  ) {
    super('admin', code, message, options)
    this.issues = options.issues ?? []
  }
}

/** Factory table for admin face errors. */
export const AdminErrors = {
  validationFailed: (issues: readonly ValidationIssue[]) =>
    new AdminError(
      'ValidationFailed',
      `Invalid request: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      { issues },
    ),
  invalidJson: (reason: string) =>
    new AdminError('InvalidJson', `Cannot parse the request body as JSON: ${reason}`),
  unauthenticated: (reason: string) =>
    new AdminError('Unauthenticated', `Authentication required: ${reason}`),
  forbidden: (reason: string) => new AdminError('Forbidden', `Forbidden: ${reason}`),
  notFound: (path: string) =>
    new AdminError('NotFound', `No admin resource at "${path}"`, { details: { path } }),
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    new AdminError(
      'MethodNotAllowed',
      `Method "${method}" is not allowed on "${path}": it answers ${allowed.map((m) => `"${m}"`).join(', ')}`,
      { details: { allow: allowed.join(', ') } },
    ),
  payloadTooLarge: (limit: number) =>
    new AdminError(
      'PayloadTooLarge',
      `The request body is too large: the limit is "${limit}" bytes`,
    ),
  dataCenterNotServed: (bucket: string, dc: string) =>
    new AdminError(
      'DataCenterNotServed',
      `Cannot answer for bucket "${bucket}": its data center "${dc}" is not served by this admin API (retired, or run by another process); ask that data center's admin API`,
      { details: { dc } },
    ),
  unsupportedMediaType: (type: string) =>
    new AdminError('UnsupportedMediaType', `Cannot read a "${type}" body: send "application/json"`),
  keyRotationInProgress: (bucket: string) =>
    new AdminError(
      'KeyRotationInProgress',
      `Cannot rotate the key of bucket "${bucket}": a rotation is still re-wrapping its data keys`,
      { details: { bucket } },
    ),
  keyRotationUnsupported: (bucket: string, provider: string) =>
    new AdminError(
      'KeyRotationUnsupported',
      `Cannot rotate the key of bucket "${bucket}": its key provider "${provider}" cannot rotate`,
      { details: { bucket, provider } },
    ),
  noSuchKeyRotation: (bucket: string) =>
    new AdminError('NoSuchKeyRotation', `Bucket "${bucket}" has had no key rotation`, {
      details: { bucket },
    }),
} as const

/**
 * The base of every domain error. Each domain (meta, blob, directory, s3 protocol…) declares a
 * closed `as const` list of codes and one subclass; faces map codes to their wire form in one place.
 */
export class SovraError<Code extends string = string> extends Error {
  /** Stable, documented code; never reused once retired. */
  readonly code: Code
  /** Which domain raised it ("meta", "blob", "directory", "s3", …). */
  readonly domain: string
  /** Extra values a face may show (for example the expected region of a redirect). */
  readonly details: Readonly<Record<string, string>>

  constructor(
    domain: string,
    code: Code,
    message: string,
    options: { cause?: unknown; details?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = `${domain[0]?.toUpperCase() ?? ''}${domain.slice(1)}Error`
    this.domain = domain
    this.code = code
    this.details = Object.freeze({ ...(options.details ?? {}) })
  }
}

/** True when `err` is a SovraError of the given domain. */
export function isDomainError(err: unknown, domain: string): err is SovraError {
  return err instanceof SovraError && err.domain === domain
}

/** Exit code of a ledger check that found the log inconsistent, tampered with or unsigned. */
export const EXIT_CHECK_FAILED = 3

/**
 * A verification failure: the log is not what its checkpoint (or this monitor's memory of it)
 * says. Its message names what failed; `sovra` prints it and exits with `EXIT_CHECK_FAILED`, so
 * scripts can tell a bad log from an unreachable one (exit 1).
 */
export class LedgerCheckFailed extends Error {
  readonly exitCode = EXIT_CHECK_FAILED
  constructor(message: string) {
    super(message)
    this.name = 'LedgerCheckFailed'
  }
}

import type { CliProcess } from './cli-io.js'

/**
 * What every long-running command (`serve`, `witness serve`, `keyd serve`) does on a signal: the
 * first SIGTERM/SIGINT stops gracefully and exits 0 (1 if stopping fails, after `onError`); a
 * second one exits 1 at once.
 */
export function stopOnSignals(
  proc: CliProcess,
  stop: () => Promise<void>,
  onError: (err: unknown) => void,
): void {
  let stopping = false
  const handler = () => {
    if (stopping) {
      proc.exit(1)
      return
    }
    stopping = true
    stop().then(
      () => proc.exit(0),
      (err: unknown) => {
        onError(err)
        proc.exit(1)
      },
    )
  }
  proc.on('SIGTERM', handler)
  proc.on('SIGINT', handler)
}

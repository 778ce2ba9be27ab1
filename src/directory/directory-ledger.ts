import type { Logger } from '../core/index.js'
import type { TransparencyLog } from '../ledger/index.js'
import type { Directory, OutboxEntry } from './directory.js'

/** Entries moved from the outbox to the log per round. */
const BATCH = 1024

/** The running drain of the directory's outbox into the directory's transparency log. */
export interface DirectoryLedger {
  /** Appends everything in the outbox now and resolves once it is durably sequenced. */
  flush(): Promise<void>
  /** Stops polling after a last flush. */
  stop(): Promise<void>
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

/**
 * How many outbox entries are already at the end of the log: a crash after the log sequenced a
 * batch but before the outbox forgot it leaves the batch in both. The directory's log is fed
 * only from the outbox, so such a batch is exactly the log's tail.
 */
async function alreadyLogged(log: TransparencyLog, outbox: OutboxEntry[]): Promise<number> {
  const size = Number((await log.sync()).checkpoint.size)
  for (let m = Math.min(outbox.length, size); m > 0; m--) {
    let match = true
    for (let i = 0; i < m && match; i++) {
      const logged = await log.readEntry(size - m + i)
      match = sameBytes(logged, (outbox[i] as OutboxEntry).entry)
    }
    if (match) return m
  }
  return 0
}

/**
 * Moves directory events (catalog, tenant and key changes, written to the directory's outbox in
 * the transaction of each change, also by the CLI in another process) into the directory's
 * transparency log, in order, exactly once: on start it drops what a crash left in both, then
 * polls every `intervalMs`.
 */
export async function startDirectoryLedger(
  directory: Directory,
  log: TransparencyLog,
  options: { readonly logger: Logger; readonly intervalMs?: number },
): Promise<DirectoryLedger> {
  const first = await directory.readLedgerOutbox(BATCH)
  const duplicated = await alreadyLogged(log, first)
  if (duplicated > 0) await directory.ackLedgerOutbox((first[duplicated - 1] as OutboxEntry).seq)

  let running: Promise<void> = Promise.resolve()
  let stopped = false
  const drainOnce = async (): Promise<void> => {
    for (;;) {
      const batch = await directory.readLedgerOutbox(BATCH)
      if (batch.length === 0) return
      await Promise.all(batch.map((e) => log.append(e.entry)))
      await directory.ackLedgerOutbox((batch[batch.length - 1] as OutboxEntry).seq)
      if (batch.length < BATCH) return
    }
  }
  const drain = (): Promise<void> => {
    running = running.then(drainOnce).catch((err: unknown) => {
      options.logger.warn({ err }, 'Directory events could not be logged yet; retrying')
    })
    return running
  }
  const timer = setInterval(() => {
    if (!stopped) void drain()
  }, options.intervalMs ?? 250)
  timer.unref()
  await drain()
  return {
    async flush() {
      await drain()
      const left = await directory.readLedgerOutbox(1)
      if (left.length > 0) await drainOnce()
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      await drain()
    },
  }
}

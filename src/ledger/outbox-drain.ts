import { createHash } from 'node:crypto'
import type { Logger } from '../core/index.js'
import { type BundleReader, readBundleEntries, TILE_WIDTH } from './tiles.js'
import type { TransparencyLog } from './transparency-log.js'

/** An event waiting in a store's outbox: written in the same transaction as its change. */
export interface OutboxEntry {
  readonly seq: number
  /** The event's canonical JSON: exactly the log entry. */
  readonly entry: Uint8Array
}

/**
 * A store whose changes write their ledger events in the same transaction (the directory, a
 * cell's metadata store). `ack` need not be durable: a batch acknowledged too late is
 * recognised in the log at the next start and not appended twice.
 */
export interface Outbox {
  read(limit: number): Promise<OutboxEntry[]>
  ack(throughSeq: number): Promise<void>
}

/** The running drain of one outbox into one log. */
export interface OutboxDrain {
  /** Starts a drain round soon (after a change was committed). */
  wake(): void
  /** Appends everything in the outbox now; resolves once it is durably sequenced. */
  flush(): Promise<void>
  /** Stops after a last flush. */
  stop(): Promise<void>
}

/** Entries moved per round. */
const BATCH = 4096
/** How far back from the log's end a restart looks for outbox entries it already appended. */
const LOOKBACK_ENTRIES = 65_536

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64')

/**
 * Outbox entries already in the log: a crash after the log sequenced a batch but before the
 * outbox forgot it leaves the batch in both. The log may have other entries between them (a
 * cell logs reads directly), so this compares content: events carry a millisecond time and
 * commitments, and an entry appended twice is one at most `LOOKBACK_ENTRIES` from the end.
 */
async function alreadyLogged(
  log: TransparencyLog,
  storage: BundleReader,
  pending: OutboxEntry[],
): Promise<OutboxEntry[]> {
  if (pending.length === 0) return []
  const size = Number((await log.sync()).checkpoint.size)
  const seen = new Map<string, number>()
  const from = Math.max(0, size - LOOKBACK_ENTRIES)
  for (let b = Math.floor(from / TILE_WIDTH); b * TILE_WIDTH < size; b++) {
    const width = Math.min(TILE_WIDTH, size - b * TILE_WIDTH)
    for (const e of (await readBundleEntries(storage, b, width)) ?? []) {
      const d = digest(e)
      seen.set(d, (seen.get(d) ?? 0) + 1)
    }
  }
  const logged: OutboxEntry[] = []
  for (const p of pending) {
    const d = digest(p.entry)
    const n = seen.get(d) ?? 0
    if (n === 0) break // the outbox is drained in order: everything after is new
    seen.set(d, n - 1)
    logged.push(p)
  }
  return logged
}

/**
 * Moves an outbox's events into a transparency log, in order and exactly once: at start it
 * skips what a crash left in both, then drains on `wake()` and every `intervalMs` (changes made
 * by another process, such as the CLI, are seen by polling).
 */
export async function startOutboxDrain(
  outbox: Outbox,
  log: TransparencyLog,
  storage: BundleReader,
  options: { readonly logger: Logger; readonly intervalMs?: number },
): Promise<OutboxDrain> {
  const logged = await alreadyLogged(log, storage, await outbox.read(BATCH))
  if (logged.length > 0) await outbox.ack((logged[logged.length - 1] as OutboxEntry).seq)

  let running: Promise<void> = Promise.resolve()
  let queued = false
  let stopped = false
  const drainOnce = async (): Promise<void> => {
    for (;;) {
      const batch = await outbox.read(BATCH)
      if (batch.length === 0) return
      await Promise.all(batch.map((e) => log.append(e.entry)))
      await outbox.ack((batch[batch.length - 1] as OutboxEntry).seq)
      if (batch.length < BATCH) return
    }
  }
  const drain = (): Promise<void> => {
    if (queued) return running
    queued = true
    running = running
      .then(() => {
        queued = false
        return drainOnce()
      })
      .catch((err: unknown) => {
        options.logger.warn({ err }, 'Outbox events could not be logged yet; retrying')
      })
    return running
  }
  const timer = setInterval(() => {
    if (!stopped) void drain()
  }, options.intervalMs ?? 250)
  timer.unref()
  await drain()
  return {
    wake() {
      if (!stopped) void drain()
    },
    async flush() {
      await drain()
      if ((await outbox.read(1)).length > 0) await drainOnce()
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      await drain()
    },
  }
}

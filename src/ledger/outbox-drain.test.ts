import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import { ed25519Signer, formatSignerKey } from './note/signed-note.js'
import { type Outbox, type OutboxEntry, startOutboxDrain } from './outbox-drain.js'
import { FsLedgerStorage } from './storage/fs/fs-ledger-storage.js'
import { openLog, type TransparencyLog } from './transparency-log.js'

const ORIGIN = 'sovra.test/ledger/outbox'
const logger = createLogger('silent')
const dirs: string[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function openTestLog(
  dir = mkdtempSync(join(tmpdir(), 'sovra-outbox-')),
): Promise<{ log: TransparencyLog; storage: FsLedgerStorage; dir: string }> {
  if (!dirs.includes(dir)) dirs.push(dir)
  const storage = await FsLedgerStorage.open(dir)
  const log = await openLog({
    storage,
    signer: ed25519Signer(formatSignerKey(ORIGIN, new Uint8Array(32).fill(3))),
    origin: ORIGIN,
    batchMaxSize: 64,
    batchMaxDelayMs: 1,
    maxPending: 10_000,
  })
  return { log, storage, dir }
}

/** An outbox in memory, like the directory's and the metadata store's tables. */
class MemoryOutbox implements Outbox {
  rows: OutboxEntry[] = []
  #seq = 0
  add(text: string): void {
    this.rows.push({ seq: ++this.#seq, entry: new TextEncoder().encode(text) })
  }
  async read(limit: number) {
    return this.rows.slice(0, limit)
  }
  async ack(through: number) {
    this.rows = this.rows.filter((r) => r.seq > through)
  }
}

async function logged(log: TransparencyLog): Promise<string[]> {
  const size = Number((await log.sync()).checkpoint.size)
  const out: string[] = []
  for (let i = 0; i < size; i++) out.push(new TextDecoder().decode(await log.readEntry(i)))
  return out
}

describe('startOutboxDrain()', () => {
  it('moves outbox entries into the log in order, on wake, and empties the outbox', async () => {
    const { log, storage } = await openTestLog()
    cleanups.push(() => log.close())
    const outbox = new MemoryOutbox()
    const drain = await startOutboxDrain(outbox, log, storage, { logger, intervalMs: 60_000 })
    cleanups.push(() => drain.stop())
    outbox.add('{"n":1}')
    outbox.add('{"n":2}')
    drain.wake()
    await drain.flush()
    expect(await logged(log)).toEqual(['{"n":1}', '{"n":2}'])
    expect(outbox.rows).toEqual([])
  })

  it('picks up entries added without a wake (another process) by polling', async () => {
    const { log, storage } = await openTestLog()
    cleanups.push(() => log.close())
    const outbox = new MemoryOutbox()
    const drain = await startOutboxDrain(outbox, log, storage, { logger, intervalMs: 10 })
    cleanups.push(() => drain.stop())
    outbox.add('{"n":1}')
    await expect.poll(() => logged(log), { timeout: 5_000 }).toEqual(['{"n":1}'])
  })

  it('appends each entry exactly once after a crash between the append and the ack, even with other entries in between', async () => {
    const first = await openTestLog()
    const outbox = new MemoryOutbox()
    outbox.add('{"n":1}')
    outbox.add('{"n":2}')
    // The crash: the log sequenced the outbox (with a read event logged directly in between),
    // the outbox never heard of it.
    await first.log.append(new TextEncoder().encode('{"n":1}'))
    await first.log.append(new TextEncoder().encode('{"read":1}'))
    await first.log.append(new TextEncoder().encode('{"n":2}'))
    await first.log.close()
    outbox.add('{"n":3}')
    outbox.add('{"n":1}') // the same bytes again later: a new event, logged again

    const again = await openTestLog(first.dir)
    cleanups.push(() => again.log.close())
    const drain = await startOutboxDrain(outbox, again.log, again.storage, {
      logger,
      intervalMs: 60_000,
    })
    await drain.stop()
    expect(await logged(again.log)).toEqual([
      '{"n":1}',
      '{"read":1}',
      '{"n":2}',
      '{"n":3}',
      '{"n":1}',
    ])
    expect(outbox.rows).toEqual([])
  })
})

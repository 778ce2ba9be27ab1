// Durable ledger appends/s through openLog over FsLedgerStorage (group commit, integrator running).
//   npx tsx bench/ledger-append.ts [seconds=3] [concurrency...=16 256]
// Each of N appenders loops `await log.append(64 random bytes)` for the duration; prints one
// JSON line per concurrency. Pushback (maxPending) is counted and retried after 1 ms.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LedgerError } from '../src/ledger/ledger-error.js'
import { ed25519Signer, formatSignerKey } from '../src/ledger/note/signed-note.js'
import { FsLedgerStorage } from '../src/ledger/storage/fs/fs-ledger-storage.js'
import { openLog } from '../src/ledger/transparency-log.js'

const ORIGIN = 'sovra.bench/ledger/append'
const seconds = Number(process.argv[2] ?? 3)
const concurrencies = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [16, 256]

async function run(concurrency: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sovra-ledger-bench-'))
  try {
    const log = await openLog({
      storage: await FsLedgerStorage.open(dir),
      signer: ed25519Signer(formatSignerKey(ORIGIN, new Uint8Array(32).fill(7))),
      origin: ORIGIN,
      batchMaxSize: 1024,
      batchMaxDelayMs: 2,
      maxPending: 100_000,
    })
    let appended = 0
    let pushback = 0
    const end = performance.now() + seconds * 1000
    const appender = async () => {
      while (performance.now() < end) {
        try {
          await log.append(randomBytes(64))
          appended++
        } catch (error) {
          if (!(error instanceof LedgerError && error.code === 'Pushback')) throw error
          pushback++
          await sleep(1)
        }
      }
    }
    const start = performance.now()
    await Promise.all(Array.from({ length: concurrency }, appender))
    const elapsed = (performance.now() - start) / 1000
    const cp = await log.sync()
    await log.close()
    console.log(
      JSON.stringify({
        concurrency,
        seconds: Number(elapsed.toFixed(2)),
        appendsPerSec: Math.round(appended / elapsed),
        pushback,
        integrated: Number(cp.checkpoint.size),
      }),
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

for (const c of concurrencies) await run(c)

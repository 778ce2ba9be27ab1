import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openCheckpoint } from './checkpoint.js'
import { utf8Bytes } from './encoding.js'
import { verifyConsistency, verifyInclusion } from './merkle/proofs.js'
import { leafHash } from './merkle/rfc6962.js'
import {
  ed25519Signer,
  ed25519Verifier,
  formatSignerKey,
  parseSignerKey,
} from './note/signed-note.js'
import { FsLedgerStorage } from './storage/fs/fs-ledger-storage.js'
import type { LedgerStorage } from './storage/ledger-storage.js'
import {
  type OpenLogOptions,
  openLog,
  type PublishedCheckpoint,
  type TransparencyLog,
} from './transparency-log.js'

const ORIGIN = 'sovra.test/ledger/unit'
const SKEY = formatSignerKey(ORIGIN, new Uint8Array(32).fill(42))
const VERIFIER = ed25519Verifier(parseSignerKey(SKEY).vkey)

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sovra-log-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function options(storage: LedgerStorage, extra: Partial<OpenLogOptions> = {}): OpenLogOptions {
  return {
    storage,
    signer: ed25519Signer(SKEY),
    origin: ORIGIN,
    batchMaxSize: 64,
    batchMaxDelayMs: 2,
    maxPending: 10_000,
    ...extra,
  }
}

/** A storage that delegates to `inner` except for the overridden methods. */
function delegate(inner: LedgerStorage, overrides: Partial<LedgerStorage>): LedgerStorage {
  return {
    sequencedSize: () => inner.sequencedSize(),
    sequence: (e, o) => inner.sequence(e, o),
    readSequenced: (f, l, o) => inner.readSequenced(f, l, o),
    readTreeState: (o) => inner.readTreeState(o),
    commitIntegration: (c, o) => inner.commitIntegration(c, o),
    readTile: (l, i, w, o) => inner.readTile(l, i, w, o),
    readEntryBundle: (i, w, o) => inner.readEntryBundle(i, w, o),
    readCheckpoint: (o) => inner.readCheckpoint(o),
    writeCheckpoint: (n, o) => inner.writeCheckpoint(n, o),
    close: () => inner.close(),
    ...overrides,
  }
}

/** Counts durable writes, to see group commit at work. */
function counting(storage: LedgerStorage): LedgerStorage & { sequenceCalls: number } {
  const counter = { sequenceCalls: 0 }
  const wrapper = delegate(storage, {
    sequence: (entries, opts) => {
      counter.sequenceCalls++
      return storage.sequence(entries, opts)
    },
  })
  return Object.assign(wrapper, {
    get sequenceCalls() {
      return counter.sequenceCalls
    },
  })
}

function verify(cp: PublishedCheckpoint) {
  return openCheckpoint(cp.note, { origin: ORIGIN, logVerifiers: [VERIFIER] }).checkpoint
}

describe('openLog()', () => {
  it('publishes a signed empty checkpoint for a new log', async () => {
    const log = await openLog(options(await FsLedgerStorage.open(await tempDir())))
    cleanups.push(() => log.close())
    const cp = verify(log.checkpoint())
    expect(cp.size).toBe(0n)
    expect(log.worker.name).toBe(`ledger-integrator:${ORIGIN}`)
    expect(log.worker.status().state).toMatch(/idle|busy/)
  })

  it('append() resolves with contiguous indices; concurrent appends share durable writes', async () => {
    const storage = counting(await FsLedgerStorage.open(await tempDir()))
    const log = await openLog(options(storage))
    cleanups.push(() => log.close())
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.append(utf8Bytes(`entry ${i}`))),
    )
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    )
    expect(storage.sequenceCalls).toBeLessThanOrEqual(8)
    const cp = verify(await log.sync())
    expect(cp.size).toBe(200n)
    for (const { index } of results.slice(0, 5)) {
      expect(new TextDecoder().decode(await log.readEntry(index))).toMatch(/^entry \d+$/)
    }
  })

  it('serves inclusion and consistency proofs that verify against its checkpoints', async () => {
    const log = await openLog(options(await FsLedgerStorage.open(await tempDir())))
    cleanups.push(() => log.close())
    const entries = Array.from({ length: 600 }, (_, i) => utf8Bytes(`e${i}`))
    const checkpoints = []
    for (const chunk of [entries.slice(0, 7), entries.slice(7, 300), entries.slice(300)]) {
      await Promise.all(chunk.map((e) => log.append(e)))
      checkpoints.push(verify(await log.sync()))
    }
    const last = checkpoints[checkpoints.length - 1]
    if (last === undefined) throw new Error('no checkpoint')
    for (const cp of checkpoints) {
      const size = Number(cp.size)
      for (const index of [0, size - 1, Math.floor(size / 2)]) {
        const entry = await log.readEntry(index)
        const proof = await log.inclusionProof(index, size)
        expect(
          verifyInclusion({ index, size, leafHash: leafHash(entry), proof, root: cp.root }),
        ).toBe(true)
      }
      const proof = await log.consistencyProof(size, Number(last.size))
      expect(
        verifyConsistency({
          size1: cp.size,
          size2: last.size,
          root1: cp.root,
          root2: last.root,
          proof,
        }),
      ).toBe(true)
    }
    await expect(log.inclusionProof(600, 600)).rejects.toMatchObject({ code: 'OutOfRange' })
    await expect(log.readEntry(600)).rejects.toMatchObject({ code: 'OutOfRange' })
  })

  it('refuses appends with Pushback once maxPending entries await integration', async () => {
    const log = await openLog(
      options(await FsLedgerStorage.open(await tempDir()), { maxPending: 5, startWorker: false }),
    )
    cleanups.push(() => log.close())
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.append(Uint8Array.of(i))))
    await expect(log.append(Uint8Array.of(9))).rejects.toMatchObject({
      code: 'Pushback',
      domain: 'ledger',
    })
    expect(log.worker.status()).toMatchObject({
      state: 'stopped',
      progress: { integrated: 0, pending: 5 },
    })
    log.worker.start()
    await log.sync()
    await expect(log.append(Uint8Array.of(9))).resolves.toEqual({ index: 5 })
  })

  it('refuses appends after close() and with an aborted signal', async () => {
    const log = await openLog(options(await FsLedgerStorage.open(await tempDir())))
    await expect(
      log.append(Uint8Array.of(1), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      code: 'Aborted',
    })
    const pending = log.append(Uint8Array.of(2))
    await log.close()
    await expect(pending).resolves.toEqual({ index: 0 })
    await expect(log.append(Uint8Array.of(3))).rejects.toMatchObject({ code: 'Closed' })
    expect(log.worker.status().state).toBe('stopped')
  })

  it('rejects entries that do not fit an entry bundle', async () => {
    const log = await openLog(options(await FsLedgerStorage.open(await tempDir())))
    cleanups.push(() => log.close())
    await expect(log.append(new Uint8Array(65536))).rejects.toMatchObject({ code: 'EntryTooLarge' })
  })

  it('after a crash, reopening integrates sequenced entries and stays consistent with every checkpoint', async () => {
    const dir = await tempDir()
    const appended: string[] = []
    const seen: PublishedCheckpoint[] = []
    // First life: some entries integrated and published, then more only sequenced.
    const first: TransparencyLog = await openLog(options(await FsLedgerStorage.open(dir)))
    for (const n of [3, 40, 1]) {
      const batch = Array.from({ length: n }, (_, i) => `life1-${appended.length + i}`)
      appended.push(...batch)
      await Promise.all(batch.map((e) => first.append(utf8Bytes(e))))
      seen.push(await first.sync())
    }
    await first.worker.stop()
    const late = Array.from({ length: 300 }, (_, i) => `late-${i}`)
    appended.push(...late)
    await Promise.all(late.map((e) => first.append(utf8Bytes(e))))
    // Crash: `first` is never closed; its acknowledged-but-unintegrated entries live only in storage.
    const second = await openLog(options(await FsLedgerStorage.open(dir)))
    cleanups.push(() => second.close())
    expect(verify(second.checkpoint()).size).toBe(44n)
    const now = verify(await second.sync())
    expect(now.size).toBe(BigInt(appended.length))
    for (const old of seen.map(verify)) {
      const proof = await second.consistencyProof(Number(old.size), Number(now.size))
      expect(
        verifyConsistency({
          size1: old.size,
          size2: now.size,
          root1: old.root,
          root2: now.root,
          proof,
        }),
      ).toBe(true)
    }
    for (const index of [0, 43, 44, appended.length - 1]) {
      expect(new TextDecoder().decode(await second.readEntry(index))).toBe(appended[index])
    }
  })

  it('retries a failed integration and reports the error in its status meanwhile', async () => {
    const inner = await FsLedgerStorage.open(await tempDir())
    let failures = 1
    const flaky = delegate(inner, {
      commitIntegration: (commit, opts) => {
        if (failures-- > 0) return Promise.reject(new Error('disk hiccup'))
        return inner.commitIntegration(commit, opts)
      },
    })
    const log = await openLog(options(flaky))
    cleanups.push(() => log.close())
    await log.append(utf8Bytes('x'))
    const cp = verify(await log.sync())
    expect(cp.size).toBe(1n)
    expect(log.worker.status().lastError).toBeUndefined()
  })
})

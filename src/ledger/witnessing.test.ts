import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import { formatCheckpoint } from './checkpoint.js'
import { cosignatureSigner } from './cosignature.js'
import { consistencyProof, memoryNodeFetcher } from './merkle/proofs.js'
import { leafHash, rootFromLeafHashes } from './merkle/rfc6962.js'
import {
  ed25519Signer,
  formatSignerKey,
  openNote,
  parseSignerKey,
  signNote,
} from './note/signed-note.js'
import type { PublishedCheckpoint } from './transparency-log.js'
import { verifierFromKey } from './verifiers.js'
import { MemoryWitnessStateStore, Witness } from './witness.js'
import { startWitnessing, type WitnessPost } from './witnessing.js'

const ORIGIN = 'sovra.test/ledger/dc1'
const SEED = new Uint8Array(32).fill(7)
const logSigner = ed25519Signer({ name: ORIGIN, seed: SEED })
const LOG_VKEY = parseSignerKey(formatSignerKey(ORIGIN, SEED)).vkey

/** A log of `entry i` leaves that publishes checkpoints like the real one. */
class FakeLog {
  readonly leaves: Uint8Array[] = []
  grow(count: number): PublishedCheckpoint {
    for (let i = 0; i < count; i++) {
      this.leaves.push(leafHash(new TextEncoder().encode(`entry ${this.leaves.length}`)))
    }
    const checkpoint = {
      origin: ORIGIN,
      size: BigInt(this.leaves.length),
      root: rootFromLeafHashes(this.leaves),
      extensions: [],
    }
    return { checkpoint, note: signNote(formatCheckpoint(checkpoint), [logSigner]) }
  }
  consistencyProof = (size1: number, size2: number) =>
    consistencyProof({ size1, size2, getNodes: memoryNodeFetcher(this.leaves.slice(0, size2)) })
}

/** In-process witnesses behind a fake POST that can be taken down and counts concurrency. */
function witnesses(count: number) {
  const list = Array.from({ length: count }, (_, i) => {
    const signer = cosignatureSigner({ name: `w${i}.test`, seed: new Uint8Array(32).fill(i + 1) })
    const store = new MemoryWitnessStateStore()
    const witness = new Witness({
      logs: [{ origin: ORIGIN, verifiers: [verifierFromKey(LOG_VKEY)] }],
      signers: [signer],
      store,
    })
    return { url: `http://w${i}.test`, verifierKey: signer.vkey, witness, store, down: false }
  })
  let inFlight = new Map<string, number>()
  let maxInFlight = 0
  const requests: string[] = []
  const post: WitnessPost = async (url, body) => {
    const w = list.find((x) => `${x.url}/add-checkpoint` === url)
    if (w === undefined) throw new Error(`no witness at ${url}`)
    requests.push(`${w.url} ${body.split('\n')[0]}`)
    const now = (inFlight.get(url) ?? 0) + 1
    inFlight.set(url, now)
    maxInFlight = Math.max(maxInFlight, now)
    try {
      await new Promise((r) => setTimeout(r, 5))
      if (w.down) throw new Error('connect ECONNREFUSED')
      const res = await w.witness.addCheckpoint(body)
      return { status: res.status, body: res.body }
    } finally {
      inFlight.set(url, (inFlight.get(url) ?? 1) - 1)
    }
  }
  return {
    list,
    post,
    requests,
    maxInFlight: () => maxInFlight,
    reset: () => {
      inFlight = new Map()
    },
  }
}

const cosignerNames = (note: string | undefined, keys: readonly string[]) =>
  openNote(note ?? '', [verifierFromKey(LOG_VKEY), ...keys.map(verifierFromKey)])
    .verified.map((s) => s.name)
    .filter((n) => n !== ORIGIN)

describe('startWitnessing()', () => {
  it('gets every checkpoint cosigned by a quorum, proving consistency from what each witness saw', async () => {
    const log = new FakeLog()
    const ws = witnesses(2)
    const w = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 2,
      consistencyProof: log.consistencyProof,
      post: ws.post,
    })
    w.offer(log.grow(3))
    await expect.poll(() => w.status().cosignedSize).toBe(3)
    const second = log.grow(5)
    w.offer(second)
    await expect.poll(() => w.status().cosignedSize).toBe(8)
    expect(w.cosigned()?.startsWith(second.note)).toBe(true)
    expect(
      cosignerNames(
        w.cosigned(),
        ws.list.map((x) => x.verifierKey),
      ),
    ).toEqual(['w0.test', 'w1.test'])
    expect(ws.requests).toContain('http://w0.test old 3')
    for (const x of ws.list) expect((await x.store.get(ORIGIN))?.size).toBe(8n)
    await w.close()
  })

  it('learns a witness size from its 409 and retries from there', async () => {
    const log = new FakeLog()
    const ws = witnesses(1)
    const first = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 1,
      consistencyProof: log.consistencyProof,
      post: ws.post,
    })
    first.offer(log.grow(4))
    await expect.poll(() => first.status().cosignedSize).toBe(4)
    await first.close()
    // A restarted log knows nothing of the witness: old 0 → 409 "4" → old 4 with a proof.
    const again = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 1,
      consistencyProof: log.consistencyProof,
      post: ws.post,
    })
    again.offer(log.grow(2))
    await expect.poll(() => again.status().cosignedSize).toBe(6)
    expect(ws.requests.slice(-2)).toEqual(['http://w0.test old 0', 'http://w0.test old 4'])
    await again.close()
  })

  it('serves nothing without the quorum, retries a witness that was down, and keeps one request in flight per witness', async () => {
    const log = new FakeLog()
    const ws = witnesses(3)
    ;(ws.list[2] as { down: boolean }).down = true
    const w = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 3,
      consistencyProof: log.consistencyProof,
      post: ws.post,
      retryMs: { min: 10, max: 20 },
    })
    for (let i = 0; i < 20; i++) w.offer(log.grow(1))
    await expect.poll(() => w.status().witnesses[2]?.failures ?? 0).toBeGreaterThan(1)
    expect(w.cosigned()).toBeUndefined()
    expect(w.status().witnesses[2]?.lastError).toMatch(/ECONNREFUSED/)
    expect(ws.maxInFlight()).toBe(1)
    ;(ws.list[2] as { down: boolean }).down = false
    await expect.poll(() => w.status().cosignedSize).toBe(20)
    expect(w.status().witnesses.map((s) => s.size)).toEqual([20, 20, 20])
    expect(
      cosignerNames(
        w.cosigned(),
        ws.list.map((x) => x.verifierKey),
      ),
    ).toHaveLength(3)
    await w.close()
  })

  it('serves a checkpoint once the quorum is in, without waiting for a witness that hangs', async () => {
    const log = new FakeLog()
    const ws = witnesses(3)
    const hanging: WitnessPost = (url, body, signal) =>
      url.startsWith('http://w2.test')
        ? new Promise((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error('aborted')))
          })
        : ws.post(url, body, signal)
    const w = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 2,
      consistencyProof: log.consistencyProof,
      post: hanging,
      timeoutMs: 60_000,
    })
    w.offer(log.grow(4))
    await expect.poll(() => w.status().cosignedSize).toBe(4)
    expect(
      cosignerNames(
        w.cosigned(),
        ws.list.map((x) => x.verifierKey),
      ),
    ).toEqual(['w0.test', 'w1.test'])
    await w.close() // aborts the hanging request
  })

  it('logs a failing witness once per kind of failure and minute, counting the rest', async () => {
    const log = new FakeLog()
    const ws = witnesses(1)
    const lines: Array<{ msg: string; suppressed: number }> = []
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(JSON.parse(chunk.toString()))
        cb()
      },
    })
    let answer = { status: 503, body: 'busy' }
    const w = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 1,
      consistencyProof: log.consistencyProof,
      post: async () => answer,
      retryMs: { min: 1, max: 2 },
      logger: createLogger('warn', sink),
    })
    w.offer(log.grow(1))
    await expect.poll(() => w.status().witnesses[0]?.failures ?? 0).toBeGreaterThan(5)
    expect(lines.map((l) => l.msg)).toEqual([
      'Cannot get a cosignature: http://w0.test/add-checkpoint answered 503: busy',
    ])
    answer = { status: 422, body: 'Cannot add checkpoint: not consistent' }
    await expect.poll(() => lines.length).toBe(2)
    expect(lines[1]?.msg).toMatch(/answered 422: Cannot add checkpoint: not consistent$/)
    expect(lines[1]?.suppressed).toBeGreaterThan(0)
    await w.close()
  })

  it('ignores a 200 without a valid cosignature, and names a witness that saw a longer history', async () => {
    const log = new FakeLog()
    const ws = witnesses(1)
    const liar: WitnessPost = async () => ({ status: 200, body: '— w0.test AAAAAAAAAAAA\n' })
    const w = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 1,
      consistencyProof: log.consistencyProof,
      post: liar,
      retryMs: { min: 60_000, max: 60_000 },
    })
    w.offer(log.grow(2))
    await expect.poll(() => w.status().witnesses[0]?.failures).toBe(1)
    expect(w.status().witnesses[0]?.lastError).toMatch(/without a valid cosignature by "w0\.test\+/)
    expect(w.cosigned()).toBeUndefined()
    await w.close()

    const ahead = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 1,
      consistencyProof: log.consistencyProof,
      post: async () => ({ status: 409, body: '99\n' }),
      retryMs: { min: 60_000, max: 60_000 },
    })
    ahead.offer(log.grow(1))
    await expect.poll(() => ahead.status().witnesses[0]?.failures).toBe(1)
    expect(ahead.status().witnesses[0]?.lastError).toMatch(
      /has cosigned size 99, beyond this checkpoint's 3: it saw a longer history/,
    )
    await ahead.close()
  })

  it('serves a kept cosigned note only while it still has the quorum of the configured witnesses', async () => {
    const log = new FakeLog()
    const ws = witnesses(2)
    const w = startWitnessing({
      origin: ORIGIN,
      witnesses: ws.list,
      quorum: 2,
      consistencyProof: log.consistencyProof,
      post: ws.post,
    })
    w.offer(log.grow(3))
    await expect.poll(() => w.cosigned()).toBeDefined()
    const kept = w.cosigned() as string
    await w.close()
    const options = {
      origin: ORIGIN,
      consistencyProof: log.consistencyProof,
      post: ws.post,
      initial: kept,
    }
    const same = startWitnessing({ ...options, witnesses: ws.list, quorum: 2 })
    expect(same.cosigned()).toBe(kept)
    expect(same.status().cosignedSize).toBe(3)
    const other = witnesses(3).list.slice(2)
    const changed = startWitnessing({
      ...options,
      witnesses: [...other, ws.list[0] as never],
      quorum: 2,
    })
    expect(changed.cosigned()).toBeUndefined()
    await same.close()
    await changed.close()
    expect(() => startWitnessing({ ...options, witnesses: ws.list, quorum: 3 })).toThrow(
      /quorum 3 is not between 1 and the 2 witnesses/,
    )
  })
})

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cosignatureSigner } from './cosignature.js'
import { toHex } from './encoding.js'
import { openNote } from './note/signed-note.js'
import { hex, loadVectors } from './test-fixtures.js'
import { verifierFromKey } from './verifiers.js'
import {
  formatAddCheckpointRequest,
  JsonFileWitnessStateStore,
  MemoryWitnessStateStore,
  parseAddCheckpointRequest,
  Witness,
  type WitnessStateStore,
} from './witness.js'

interface WitnessVectors {
  logVkey: string
  addCheckpoint: Array<{
    desc: string
    witnessState: { size: number; rootHex: string } | null
    witnessKnowsOrigin?: boolean
    body: string
    wantStatus: number
    wantBody?: string
    wantContentType?: string
  }>
}
interface CosignatureVectors {
  derived: { witnesses: Array<{ name: string; seedHex: string; vkey: string }> }
}

const vectors = loadVectors<WitnessVectors>('tlog-witness.json')
const w1 = loadVectors<CosignatureVectors>('cosignature.json').derived.witnesses[0] as {
  name: string
  seedHex: string
  vkey: string
}
const ORIGIN = 'example.com/log/testdata'
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const STORES: Record<string, () => Promise<WitnessStateStore>> = {
  memory: async () => new MemoryWitnessStateStore(),
  'json-file': async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-witness-'))
    dirs.push(dir)
    return new JsonFileWitnessStateStore(join(dir, 'state', 'witness.json'))
  },
}

describe.each(Object.keys(STORES))(
  'Witness with the %s state store (tlog-witness.json)',
  (kind) => {
    it.each(vectors.addCheckpoint)('$desc → $wantStatus', async (v) => {
      const store = await (STORES[kind] as () => Promise<WitnessStateStore>)()
      if (v.witnessState) {
        const seeded = await store.compareAndSwap(ORIGIN, 0n, {
          size: BigInt(v.witnessState.size),
          root: hex(v.witnessState.rootHex),
        })
        expect(seeded).toBe(true)
      }
      const signer = cosignatureSigner({
        name: w1.name,
        seed: hex(w1.seedHex),
        now: () => 1700000000,
      })
      const witness = new Witness({
        logs:
          v.witnessKnowsOrigin === false
            ? []
            : [{ origin: ORIGIN, verifiers: [verifierFromKey(vectors.logVkey)] }],
        signers: [signer],
        store,
      })
      const res = await witness.addCheckpoint(v.body)
      expect(res.status, res.body).toBe(v.wantStatus)
      if (v.wantBody !== undefined) expect(res.body).toBe(v.wantBody)
      if (v.wantContentType !== undefined) expect(res.contentType).toBe(v.wantContentType)
      if (res.status !== 200) return
      // The cosignature verifies over the checkpoint, and the witness moved to the new size.
      const req = parseAddCheckpointRequest(v.body)
      const opened = openNote(req.checkpoint + res.body, [
        verifierFromKey(vectors.logVkey),
        verifierFromKey(w1.vkey),
      ])
      expect(opened.verified.map((s) => s.name)).toEqual([ORIGIN, w1.name])
      expect((await store.get(ORIGIN))?.size).toBe(15n)
      expect(formatAddCheckpointRequest(req)).toBe(v.body)
    })
  },
)

describe('JsonFileWitnessStateStore', () => {
  it('persists state across instances in a versioned file and refuses a stale old size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sovra-witness-'))
    dirs.push(dir)
    const path = join(dir, 'witness.json')
    const a = new JsonFileWitnessStateStore(path)
    expect(await a.compareAndSwap(ORIGIN, 0n, { size: 3n, root: new Uint8Array(32).fill(1) })).toBe(
      true,
    )
    expect(await a.compareAndSwap(ORIGIN, 0n, { size: 4n, root: new Uint8Array(32) })).toBe(false)
    const b = new JsonFileWitnessStateStore(path)
    const state = await b.get(ORIGIN)
    expect(state?.size).toBe(3n)
    expect(toHex(state?.root ?? new Uint8Array())).toBe('01'.repeat(32))
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ version: 1 })
  })

  it('serializes concurrent compare-and-swaps so only one wins', async () => {
    const store = new MemoryWitnessStateStore()
    const dir = await mkdtemp(join(tmpdir(), 'sovra-witness-'))
    dirs.push(dir)
    for (const s of [store, new JsonFileWitnessStateStore(join(dir, 'w.json'))]) {
      const results = await Promise.all(
        [5n, 6n, 7n].map((size) =>
          s.compareAndSwap(ORIGIN, 0n, { size, root: new Uint8Array(32) }),
        ),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
    }
  })
})

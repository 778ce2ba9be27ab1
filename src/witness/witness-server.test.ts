import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import {
  consistencyProof,
  ed25519Signer,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatSignerKey,
  leafHash,
  memoryNodeFetcher,
  openNote,
  parseSignerKey,
  rootFromLeafHashes,
  signNote,
  verifierFromKey,
} from '../ledger/index.js'
import { type RunningWitness, readWitnessKey, startWitness, WITNESS_STATE_FILE } from './index.js'

const ORIGIN = 'sovra.test/ledger/dc1'
const SEED = new Uint8Array(32).fill(3)
const logSigner = ed25519Signer({ name: ORIGIN, seed: SEED })
const LOG_VKEY = parseSignerKey(formatSignerKey(ORIGIN, SEED)).vkey

const dirs: string[] = []
const running: RunningWitness[] = []
afterEach(async () => {
  for (const w of running.splice(0)) await w.stop()
})
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sovra-witness-server-'))
  dirs.push(dir)
  return dir
}

async function start(stateDir: string, logs = [LOG_VKEY]): Promise<RunningWitness> {
  const w = await startWitness({
    stateDir,
    logs,
    name: 'witness.test/w1',
    port: 0,
    logger: createLogger('silent'),
  })
  running.push(w)
  return w
}

/** A log of `n` entries whose entry `forged` (if any) differs from the honest log's. */
function tree(n: number, forged = -1) {
  const leaves = Array.from({ length: n }, (_, i) =>
    leafHash(new TextEncoder().encode(i === forged ? `forged ${i}` : `entry ${i}`)),
  )
  const root = rootFromLeafHashes(leaves)
  const note = signNote(
    formatCheckpoint({ origin: ORIGIN, size: BigInt(n), root, extensions: [] }),
    [logSigner],
  )
  return { leaves, root, note }
}

async function post(w: RunningWitness, body: string) {
  const res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

async function add(w: RunningWitness, oldSize: number, n: number, forged = -1) {
  const next = tree(n, forged)
  const proof =
    oldSize === 0 || oldSize === n
      ? []
      : await consistencyProof({
          size1: oldSize,
          size2: n,
          getNodes: memoryNodeFetcher(next.leaves),
        })
  return post(
    w,
    formatAddCheckpointRequest({ oldSize: BigInt(oldSize), proof, checkpoint: next.note }),
  )
}

describe('sovra witness server (POST /add-checkpoint)', () => {
  it('cosigns a first checkpoint and its consistent successors, and keeps its key and state across restarts', async () => {
    const state = await temp()
    const w = await start(state)
    expect(w.keyCreated).toBe(true)
    expect((await stat(join(state, 'witness.key'))).mode & 0o777).toBe(0o600)
    const first = await add(w, 0, 5)
    expect(first.status, first.body).toBe(200)
    // The answer is a cosignature line that verifies over the checkpoint with the witness key.
    const opened = openNote(tree(5).note + first.body, [
      verifierFromKey(LOG_VKEY),
      verifierFromKey(w.verifierKey),
    ])
    expect(opened.verified.map((s) => s.name)).toEqual([ORIGIN, 'witness.test/w1'])
    expect((await add(w, 5, 9)).status).toBe(200)
    await w.stop()

    const again = await start(state)
    expect(again.keyCreated).toBe(false)
    expect(again.verifierKey).toBe(w.verifierKey)
    expect((await readWitnessKey(state))?.verifierKey).toBe(w.verifierKey)
    // It remembers size 9: a log that thinks the witness is at 5 learns 9 from the 409.
    const stale = await add(again, 5, 12)
    expect(stale).toEqual({ status: 409, type: 'text/x.tlog.size', body: '9\n' })
    expect((await add(again, 9, 12)).status).toBe(200)
    const saved = JSON.parse(await readFile(join(state, WITNESS_STATE_FILE), 'utf8'))
    expect(saved).toMatchObject({ version: 1, origins: { [ORIGIN]: { size: '12' } } })
  })

  it('refuses a fork: a second checkpoint of the same size with another root, signed by the log key', async () => {
    const w = await start(await temp())
    expect((await add(w, 0, 8)).status).toBe(200)
    const fork = await add(w, 8, 8, 3)
    expect(fork.status).toBe(422)
    expect(fork.body).toMatch(
      /^Cannot add checkpoint: fork: origin "sovra\.test\/ledger\/dc1" already has a cosigned checkpoint of size 8 with root \S+, this one has root \S+\n$/,
    )
    // The honest checkpoint at the same size is still fine (idempotent resubmission).
    expect((await add(w, 8, 8)).status).toBe(200)
  })

  it('refuses (422) a checkpoint that is not consistent with the one it cosigned', async () => {
    const w = await start(await temp())
    expect((await add(w, 0, 6)).status).toBe(200)
    // A bigger tree that rewrote entry 2: its consistency proof from 6 cannot verify.
    const rewritten = await add(w, 6, 10, 2)
    expect(rewritten.status).toBe(422)
    expect(rewritten.body).toMatch(
      /^Cannot add checkpoint: not consistent: the proof from size 6 .* to size 10 .* does not verify: the log forked or rewrote its history\n$/,
    )
    // And the witness did not move: the honest successor still extends size 6.
    expect((await add(w, 6, 10)).status).toBe(200)
  })

  it('answers 400, 403, 404, 405, 409 and 413 as tlog-witness says', async () => {
    const w = await start(await temp())
    const malformed = await post(w, 'old x\n\n')
    expect(malformed.status).toBe(400)
    const other = ed25519Signer({ name: ORIGIN, seed: new Uint8Array(32).fill(4) })
    const unsigned = signNote(
      formatCheckpoint({ origin: ORIGIN, size: 1n, root: tree(1).root, extensions: [] }),
      [other],
    )
    const forged = await post(
      w,
      formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: unsigned }),
    )
    expect(forged.status).toBe(403)
    const stranger = ed25519Signer({ name: 'elsewhere/log', seed: SEED })
    const unknown = signNote(
      formatCheckpoint({ origin: 'elsewhere/log', size: 1n, root: tree(1).root, extensions: [] }),
      [stranger],
    )
    const notMine = await post(
      w,
      formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: unknown }),
    )
    expect(notMine.status).toBe(404)
    expect(notMine.body).toContain('origin "elsewhere/log" is unknown')
    // Old size above the checkpoint's.
    const backwards = await post(
      w,
      formatAddCheckpointRequest({ oldSize: 3n, proof: [], checkpoint: tree(2).note }),
    )
    expect(backwards.status).toBe(400)
    expect((await add(w, 2, 4)).status).toBe(409)
    expect((await fetch(`${w.url}/add-checkpoint`)).status).toBe(405)
    expect((await fetch(`${w.url}/elsewhere`)).status).toBe(404)
    const huge = await post(w, `old 0\n\n${'x'.repeat(70_000)}`)
    expect(huge.status).toBe(413)
  })

  it('lets only one of two concurrent requests from the same size advance', async () => {
    const w = await start(await temp())
    expect((await add(w, 0, 4)).status).toBe(200)
    const results = await Promise.all([add(w, 4, 7), add(w, 4, 9)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
  })

  it('refuses a state folder another witness is using, and takes over a stale lock', async () => {
    const state = await temp()
    const w = await start(state)
    await expect(start(state)).rejects.toThrow(/is already using it/)
    await w.stop()
    // A process that died without releasing it (this pid is far above any real one).
    await writeFile(join(state, 'witness.lock'), '999999999\n')
    const again = await start(state)
    expect(again.verifierKey).toBe(w.verifierKey)
  })

  it('refuses to start without logs, with a log given twice, or with a bad key', async () => {
    const state = await temp()
    await expect(start(state, [])).rejects.toThrow(/no log to witness/)
    await expect(start(state, [LOG_VKEY, LOG_VKEY])).rejects.toThrow(/given more than once/)
    await expect(start(state, ['nonsense'])).rejects.toThrow(/Cannot parse key/)
    await writeFile(join(state, WITNESS_STATE_FILE), '{"version":7,"origins":{}}')
    await expect(start(state)).rejects.toThrow(/version 7 is not 1/)
    // The failed start released the folder.
    await writeFile(join(state, WITNESS_STATE_FILE), '{"version":1,"origins":{}}')
    expect((await start(state)).origins).toEqual([ORIGIN])
  })
})

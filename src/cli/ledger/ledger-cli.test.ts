import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  addSignatures,
  commit,
  cosignatureSigner,
  ed25519Signer,
  entryBundleUpdates,
  formatCheckpoint,
  formatSignerKey,
  integrate,
  keyIdOf,
  leafHash,
  parseSignerKey,
  signNote,
  tilePath,
} from '../../ledger/index.js'
import type { CliIo } from '../cli-io.js'
import { EXIT_CHECK_FAILED, runCli } from '../index.js'

const URL_BASE = 'http://ledger.test'
const ORIGIN = 'ledger.test/ledger/dc1'
const SEED = new Uint8Array(32).fill(9)
const signer = ed25519Signer({ name: ORIGIN, seed: SEED })
const VKEY = parseSignerKey(formatSignerKey(ORIGIN, SEED)).vkey

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-ledger-cli-'))
  dirs.push(dir)
  return dir
}

/** An in-memory log laid out as tlog-tiles, grown by `append` like the server's integrator. */
class MemoryLog {
  readonly files = new Map<string, Uint8Array>()
  readonly entries: Uint8Array[] = []
  checkpoint = ''

  async append(count: number, make = (i: number) => `{"n":${i}}`): Promise<this> {
    const fresh = Array.from({ length: count }, (_, i) =>
      new TextEncoder().encode(make(this.entries.length + i)),
    )
    const fromSize = this.entries.length
    const result = await integrate({
      getTiles: async (reqs) =>
        reqs.map((r) => this.files.get(tilePath(r.level, r.index, r.width))),
      fromSize,
      leafHashes: fresh.map(leafHash),
    })
    for (const [path, bytes] of result.tiles) this.files.set(path, bytes)
    const edgeEntries = this.entries.slice(fromSize - (fromSize % 256), fromSize)
    for (const [path, bytes] of entryBundleUpdates({ fromSize, edgeEntries, entries: fresh })) {
      this.files.set(path, bytes)
    }
    this.entries.push(...fresh)
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: BigInt(result.size),
      root: result.root,
      extensions: [],
    })
    this.checkpoint = signNote(text, [signer])
    return this
  }

  fetch = async (url: string): Promise<Response> => {
    if (url === `${URL_BASE}/admin/v1/ledger/keys`) {
      return Response.json({ ledgers: [{ dc: 'dc1', origin: ORIGIN, verifierKey: VKEY }] })
    }
    const path = url.slice(`${URL_BASE}/ledger/dc1/`.length)
    if (path === 'checkpoint') return new Response(this.checkpoint)
    const bytes = this.files.get(path)
    return bytes === undefined ? new Response('no', { status: 404 }) : new Response(bytes)
  }
}

async function run(args: string[], log: MemoryLog, extra: Partial<CliIo> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    fetch: log.fetch,
    ...extra,
  })
  return { code, stdout, stderr }
}

const common = ['--dc', 'dc1', '--url', URL_BASE, '--key', VKEY]

describe('sovra ledger verify', () => {
  it('accepts a growing log and rejects a rollback and a fork that grew', async () => {
    const state = temp()
    const log = await new MemoryLog().append(300)
    const first = await run(['ledger', 'verify', ...common, '--state', state], log)
    expect(first.stderr).toBe('')
    expect(first.stdout).toMatch(/^OK ledger.test\/ledger\/dc1 size 300 .*first check/)
    await log.append(50)
    const second = await run(['ledger', 'verify', ...common, '--state', state], log)
    expect(second.stdout).toContain('consistent with size 300 seen before')

    const older = await new MemoryLog().append(300)
    const rollback = await run(['ledger', 'verify', ...common, '--state', state], older)
    expect(rollback.code).toBe(EXIT_CHECK_FAILED)
    expect(rollback.stderr).toMatch(
      /consistency with size 350 .*: the log now shows size 300, smaller/,
    )

    const fork = await new MemoryLog().append(400, (i) =>
      i === 3 ? '{"forged":true}' : `{"n":${i}}`,
    )
    const forked = await run(['ledger', 'verify', ...common, '--state', state], fork)
    expect(forked.code).toBe(EXIT_CHECK_FAILED)
    expect(forked.stderr).toMatch(
      /^sovra: consistency with size 350 .*: the consistency proof from the served tiles does not lead from the saved root/,
    )
  })

  it('names a missing tile, and warns when it trusts the server for the key', async () => {
    const log = await new MemoryLog().append(10)
    log.files.delete('tile/0/000.p/10')
    const res = await run(
      ['ledger', 'verify', '--dc', 'dc1', '--url', URL_BASE, '--state', temp()],
      log,
    )
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toContain('warning: trusting the verifier key the server serves')
    expect(res.stderr).toMatch(/sovra: tile 0\/000\.p\/10 is missing: .* answered 404/)
  })

  it('rejects a checkpoint for another origin and usage errors', async () => {
    const log = await new MemoryLog().append(3)
    const other = parseSignerKey(
      formatSignerKey('elsewhere/ledger/dc1', new Uint8Array(32).fill(1)),
    ).vkey
    const wrong = await run(
      ['ledger', 'verify', '--dc', 'dc1', '--url', URL_BASE, '--key', other, '--state', temp()],
      log,
    )
    expect(wrong.code).toBe(EXIT_CHECK_FAILED)
    expect(wrong.stderr).toMatch(/^sovra: origin: the checkpoint is for "ledger.test\/ledger\/dc1"/)
    const witness = `w+${keyIdOf('w', 4, new Uint8Array(32))}+${Buffer.concat([Buffer.of(4), Buffer.alloc(32)]).toString('base64')}`
    const quorum = await run(
      ['ledger', 'verify', ...common, '--witness', witness, '--quorum', '2', '--state', temp()],
      log,
    )
    expect(quorum.code).toBe(2)
    expect(quorum.stderr).toMatch(/--quorum 2 needs at least that many --witness keys/)
    const both = await run(['ledger', 'proof', ...common], log)
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/exactly one of --index and --consistency/)
  })
})

describe('sovra ledger verify --witness', () => {
  const w = [1, 2, 3].map((i) =>
    cosignatureSigner({ name: `w${i}.test`, seed: new Uint8Array(32).fill(i) }),
  )
  const witnessArgs = w.flatMap((s) => ['--witness', s.vkey])

  it('counts valid cosignatures and names the missing witnesses', async () => {
    const log = await new MemoryLog().append(4)
    log.checkpoint = addSignatures(log.checkpoint, [w[0], w[1]] as typeof w)
    const two = await run(
      ['ledger', 'verify', ...common, ...witnessArgs, '--quorum', '2', '--state', temp()],
      log,
    )
    expect(two.stderr).toBe('')
    expect(two.stdout).toContain('cosigned by 2/3 witnesses')
    const three = await run(
      ['ledger', 'verify', ...common, ...witnessArgs, '--quorum', '3', '--state', temp()],
      log,
    )
    expect(three.code).toBe(EXIT_CHECK_FAILED)
    expect(three.stderr).toBe(
      'sovra: witness quorum: the checkpoint (size 4) has 2 valid cosignature(s) of the 3 given witnesses, 3 required (cosigned by "w1.test", "w2.test"; no cosignature from "w3.test")\n',
    )
  })

  it('names an invalid cosignature (one cosigning another checkpoint) even when the quorum is met', async () => {
    const log = await new MemoryLog().append(4)
    const other = await new MemoryLog().append(5)
    // w2's line is a real cosignature, but of another checkpoint: it does not verify here.
    const foreign = addSignatures(other.checkpoint, [w[1]] as typeof w)
      .split('\n')
      .at(-2)
    log.checkpoint = `${addSignatures(log.checkpoint, [w[0]] as typeof w)}${foreign}\n`
    const res = await run(
      ['ledger', 'verify', ...common, ...witnessArgs, '--quorum', '1', '--state', temp()],
      log,
    )
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toBe(
      'sovra: witness: the cosignature of "w2.test" on the checkpoint (size 4) does not verify; 1 valid cosignature(s) of the 3 given witnesses, 1 required (cosigned by "w1.test"; no cosignature from "w3.test")\n',
    )
  })
})

describe('sovra ledger proof and events', () => {
  it('proves inclusion and consistency at published sizes', async () => {
    const log = await new MemoryLog().append(260)
    await log.append(40)
    const inclusion = await run(
      ['ledger', 'proof', ...common, '--index', '257', '--size', '260', '--json'],
      log,
    )
    expect(inclusion.stderr).toBe('')
    expect(JSON.parse(inclusion.stdout)).toMatchObject({
      index: 257,
      size: 260,
      entry: '{"n":257}',
      verified: true,
    })
    const consistency = await run(['ledger', 'proof', ...common, '--consistency', '260..300'], log)
    expect(consistency.stdout).toMatch(
      /verified: the tree of size 300 extends the tree of size 260/,
    )
    const fromEmpty = await run(['ledger', 'proof', ...common, '--consistency', '0..'], log)
    expect(fromEmpty.code).toBe(0)
    const unpublished = await run(
      ['ledger', 'proof', ...common, '--index', '1', '--size', '7'],
      log,
    )
    expect(unpublished.code).toBe(1)
    expect(unpublished.stderr).toMatch(/Cannot use tree size 7: .*published checkpoints at/)
    const backwards = await run(['ledger', 'proof', ...common, '--consistency', '300..260'], log)
    expect(backwards.code).toBe(1)
  })

  it('finds events by commitment and verifies them', async () => {
    const secret = Buffer.alloc(32, 5)
    const mine = commit(secret, 'tenant-1')
    const log = await new MemoryLog().append(5, (i) =>
      JSON.stringify({
        schema: 1,
        type: i % 2 === 0 ? 'object.put' : 'object.get',
        at: '2026-01-01T00:00:00.000Z',
        dc: 'dc1',
        actor: { kind: 'system', component: 'test' },
        tenant: i < 4 ? mine : 'someone-else',
        bucket: commit(secret, i === 0 ? 'a' : 'b'),
        key: 'k',
        size: i,
        bytes: i,
        content: 'c',
      }),
    )
    const args = [
      'ledger',
      'events',
      ...common,
      '--tenant',
      'tenant-1',
      '--tenant-secret',
      secret.toString('base64'),
    ]
    const all = await run([...args, '--verify'], log)
    expect(all.stdout).toMatch(/^4 event\(s\) of tenant tenant-1 .* each verified/m)
    const puts = await run([...args, '--type', 'object.put', '--bucket', 'b', '--json'], log)
    expect(JSON.parse(puts.stdout).events.map((e: { index: number }) => e.index)).toEqual([2])
    const bad = await run([...args, '--type', 'object.nope'], log)
    expect(bad.code).toBe(2)
  })
})

describe('sovra dc list --keys', () => {
  it('says "not created yet" before a data center has started', async () => {
    const res = await run(['dc', 'list', '--keys'], new MemoryLog(), {
      env: { SOVRA_DATA_DIR: temp() },
      // No server runs: the catalog comes from config and the keys from the (empty) data folder.
      fetch: async () => {
        throw new TypeError('fetch failed')
      },
    })
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^DATA CENTER\s+STATUS\s+LEDGER ORIGIN\s+VERIFIER KEY/)
    expect(res.stdout).toMatch(
      /us-west-1\s+active\s+127\.0\.0\.1\/ledger\/us-west-1\s+not created yet/,
    )
  })
})

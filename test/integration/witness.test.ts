// Witnesses end to end: Sovra submits every new checkpoint of a data center's log to two
// witnesses (in-process `sovra witness serve` servers), serves the checkpoint they cosigned, and
// `ledger verify --witness … --quorum K` checks it. The witnesses refuse a fork (another root at
// a size they cosigned) and a history that does not extend what they saw, whoever signs it.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT_CHECK_FAILED } from '../../src/cli/index.js'
import { createLogger } from '../../src/core/index.js'
import {
  consistencyProof,
  cosignatureSigner,
  ed25519Signer,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatSignerKey,
  leafHash,
  memoryNodeFetcher,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  rootFromLeafHashes,
  signNote,
} from '../../src/ledger/index.js'
import { type RunningWitness, startWitness } from '../../src/witness/index.js'
import { runSovraCli } from '../support/cli.js'
import { s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const DC = 'us-west-1'
const ORIGIN = `127.0.0.1/ledger/${DC}`
const SEED = new Uint8Array(32).fill(42)
const SIGNER_KEY = formatSignerKey(ORIGIN, SEED)
const LOG_VKEY = parseSignerKey(SIGNER_KEY).vkey
const logSigner = ed25519Signer(SIGNER_KEY)

const data = tempDir('sovra-witnessed-')
const work = tempDir('sovra-witness-work-')
let sovra: TestSovra | undefined
const witnesses: RunningWitness[] = []
let admin = ''

const cli = (args: string[]) => runSovraCli(args)

let states = 0
const verify = (...extra: string[]) =>
  cli([
    'ledger',
    'verify',
    '--dc',
    DC,
    '--url',
    admin,
    '--key',
    LOG_VKEY,
    '--state',
    join(work.path, `monitor-${states++}`),
    ...extra,
  ])

/** The served checkpoint: its size and note (0 and '' while there is none). */
async function served(): Promise<{ size: number; note: string }> {
  const res = await fetch(`${admin}/ledger/${DC}/checkpoint`)
  const note = await res.text()
  return res.status === 200 ? { size: Number(note.split('\n')[1]), note } : { size: 0, note: '' }
}

async function servedAtLeast(size: number): Promise<{ size: number; note: string }> {
  const deadline = Date.now() + 15_000
  let cp = await served()
  while (cp.size < size && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25))
    cp = await served()
  }
  return cp
}

async function startSovraWithWitnesses(): Promise<TestSovra> {
  const config = join(work.path, 'sovra.json')
  writeFileSync(
    config,
    JSON.stringify({
      dataCenters: [
        { id: DC, name: 'US West', city: 'Silicon Valley', jurisdiction: 'US', port: 0 },
      ],
      ledger: {
        witnesses: witnesses.map((w) => ({ url: w.url, verifierKey: w.verifierKey })),
        witnessQuorum: 2,
      },
    }),
  )
  const server = await startSovra({ dataDir: data.path, env: { SOVRA_CONFIG: config } })
  admin = server.sovra.adminEndpoint
  return server
}

async function put(server: TestSovra, count: number, prefix: string): Promise<void> {
  const s3 = s3For(server, DC)
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      s3.send(new PutObjectCommand({ Bucket: 'witnessed', Key: `${prefix}${i}`, Body: 'x' })),
    ),
  )
}

beforeAll(async () => {
  // The log key exists before the first start, so the witnesses can be told about the log.
  mkdirSync(join(data.path, 'dcs', DC, 'keys'), { recursive: true })
  writeFileSync(join(data.path, 'dcs', DC, 'keys', 'ledger.key'), `${SIGNER_KEY}\n`, {
    mode: 0o600,
  })
  for (const name of ['witness.test/a', 'witness.test/b']) {
    witnesses.push(
      await startWitness({
        stateDir: join(work.path, name.replace('/', '-')),
        logs: [LOG_VKEY],
        name,
        port: 0,
        logger: createLogger('silent'),
      }),
    )
  }
  sovra = await startSovraWithWitnesses()
  await s3For(sovra, DC).send(new CreateBucketCommand({ Bucket: 'witnessed' }))
  await put(sovra, 20, 'k')
})

afterAll(async () => {
  await sovra?.stop()
  for (const w of witnesses) await w.stop()
  data.remove()
  work.remove()
})

describe('Sovra with two witnesses and quorum 2', () => {
  it('serves a checkpoint both witnesses cosigned, and ledger verify accepts it with quorum 2', async () => {
    const cp = await servedAtLeast(21)
    expect(cp.size).toBeGreaterThanOrEqual(21)
    const names = parseNote(cp.note).signatures.map((s) => s.name)
    expect(names).toEqual([ORIGIN, 'witness.test/a', 'witness.test/b'])
    const [a, b] = witnesses as [RunningWitness, RunningWitness]
    const ok = await verify('--witness', a.verifierKey, '--witness', b.verifierKey, '--quorum', '2')
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(
      /^OK 127\.0\.0\.1\/ledger\/us-west-1 size \d+ .*cosigned by 2\/2 witnesses/,
    )
    const metrics = await (await fetch(`${admin}/metrics`)).text()
    expect(metrics).toMatch(/sovra_ledger_witness_cosigned_size\{dc="us-west-1"\} \d+/)
    expect(metrics).toMatch(
      /sovra_ledger_witness_failures\{dc="us-west-1",witness="witness.test\/a"\} 0/,
    )
  })

  it('fails ledger verify with quorum 3 of three named witnesses, saying which one is missing', async () => {
    const [a, b] = witnesses as [RunningWitness, RunningWitness]
    const c = cosignatureSigner({ name: 'witness.test/c', seed: new Uint8Array(32).fill(9) })
    const res = await verify(
      '--witness',
      a.verifierKey,
      '--witness',
      b.verifierKey,
      '--witness',
      c.vkey,
      '--quorum',
      '3',
    )
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toMatch(
      /^sovra: witness quorum: the checkpoint \(size \d+\) has 2 valid cosignature\(s\) of the 3 given witnesses, 3 required \(cosigned by "witness.test\/a", "witness.test\/b"; no cosignature from "witness.test\/c"\)\n$/,
    )
  })

  it('keeps up with new writes and, after a restart, gets cosignatures again from the sizes the witnesses kept', async () => {
    const before = await servedAtLeast(21)
    await put(sovra as TestSovra, 10, 'later')
    const after = await servedAtLeast(before.size + 10)
    expect(after.size).toBeGreaterThanOrEqual(before.size + 10)
    await sovra?.stop()
    sovra = await startSovraWithWitnesses()
    // The kept cosigned checkpoint is served at once; new writes get cosigned from the 409s.
    expect((await served()).size).toBeGreaterThanOrEqual(after.size)
    await put(sovra, 5, 'restarted')
    const again = await servedAtLeast(after.size + 5)
    expect(again.size).toBeGreaterThanOrEqual(after.size + 5)
    const [a, b] = witnesses as [RunningWitness, RunningWitness]
    const ok = await verify('--witness', a.verifierKey, '--witness', b.verifierKey)
    expect(ok.code).toBe(0)
  })
})

describe('a witness refuses to cosign a split view', () => {
  /** What the log shows the witnesses now: size, root and the consistency proof inputs. */
  async function current() {
    const cp = await servedAtLeast(1)
    return parseCheckpoint(parseNote(cp.note).text)
  }

  it('refuses a fork: another checkpoint of a size it cosigned, signed with the log key', async () => {
    const real = await current()
    const fake = Array.from({ length: Number(real.size) }, (_, i) =>
      leafHash(new TextEncoder().encode(`rewritten ${i}`)),
    )
    const forged = signNote(
      formatCheckpoint({
        origin: ORIGIN,
        size: real.size,
        root: rootFromLeafHashes(fake),
        extensions: [],
      }),
      [logSigner],
    )
    for (const w of witnesses) {
      const res = await fetch(`${w.url}/add-checkpoint`, {
        method: 'POST',
        body: formatAddCheckpointRequest({ oldSize: real.size, proof: [], checkpoint: forged }),
      })
      expect(res.status).toBe(422)
      expect(await res.text()).toMatch(
        new RegExp(
          `^Cannot add checkpoint: fork: origin "127\\.0\\.0\\.1/ledger/us-west-1" already has a cosigned checkpoint of size ${real.size} with root \\S+, this one has root \\S+\\n$`,
        ),
      )
    }
    // The fork never reached the public checkpoint, and the real log still verifies.
    const [a, b] = witnesses as [RunningWitness, RunningWitness]
    expect((await verify('--witness', a.verifierKey, '--witness', b.verifierKey)).code).toBe(0)
  })

  it('refuses (422) a bigger checkpoint that does not extend the one it cosigned', async () => {
    const real = await current()
    const n = Number(real.size) + 3
    const fake = Array.from({ length: n }, (_, i) =>
      leafHash(new TextEncoder().encode(`rewritten ${i}`)),
    )
    const checkpoint = signNote(
      formatCheckpoint({
        origin: ORIGIN,
        size: BigInt(n),
        root: rootFromLeafHashes(fake),
        extensions: [],
      }),
      [logSigner],
    )
    const proof = await consistencyProof({
      size1: Number(real.size),
      size2: n,
      getNodes: memoryNodeFetcher(fake),
    })
    const res = await fetch(`${(witnesses[0] as RunningWitness).url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: real.size, proof, checkpoint }),
    })
    expect(res.status).toBe(422)
    expect(await res.text()).toMatch(
      /^Cannot add checkpoint: not consistent: the proof from size \d+ .* does not verify: the log forked or rewrote its history\n$/,
    )
  })
})

describe('a data center restored from an old backup that keeps signing', () => {
  it('is refused by the witnesses, which keep the last honest checkpoint served', async () => {
    const ledgerDir = join(data.path, 'dcs', DC, 'ledger')
    const backup = join(work.path, 'ledger-backup')
    await sovra?.stop()
    cpSync(ledgerDir, backup, { recursive: true })
    sovra = await startSovraWithWitnesses()
    const base = (await servedAtLeast(1)).size
    await put(sovra, 10, 'after-backup')
    const honest = await servedAtLeast(base + 10)
    expect(honest.size).toBeGreaterThanOrEqual(base + 10)
    await sovra.stop()

    // Roll the log back to the backup and let it sign a different continuation.
    rmSync(ledgerDir, { recursive: true, force: true })
    cpSync(backup, ledgerDir, { recursive: true })
    sovra = await startSovraWithWitnesses()
    await put(sovra, 25, 'other-history')
    const server = sovra
    await expect
      .poll(() => server.logs.some((l) => /the log forked or rewrote its history/.test(l)), {
        timeout: 15_000,
      })
      .toBe(true)
    const refused = server.logs.find((l) => /forked or rewrote/.test(l)) as string
    expect(JSON.parse(refused)).toMatchObject({ level: 40, msg: expect.stringMatching(/422/) })
    // Nothing the witnesses refused is ever served: the last cosigned checkpoint stays.
    expect((await served()).note).toBe(honest.note)
    const metrics = await (await fetch(`${admin}/metrics`)).text()
    expect(metrics).toMatch(
      /sovra_ledger_witness_failures\{dc="us-west-1",witness="witness.test\/a"\} [1-9]/,
    )
  })
})

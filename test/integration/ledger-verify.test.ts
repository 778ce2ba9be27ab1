// `sovra ledger verify|proof|events` against a real server's public ledger, then tamper
// evidence: every kind of tampering with the stored log (an entry, a tile, the checkpoint, a
// dropped entry, a fork signed with the log's own key) makes `verify` fail and say what failed.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PublicLedger, serveLedger } from '../../src/admin-api/ledger-routes.js'
import { EXIT_CHECK_FAILED } from '../../src/cli/index.js'
import { openDirectory, ROOT_TENANT_NAME } from '../../src/directory/index.js'
import {
  addSignatures,
  cosignatureSigner,
  decodeEntryBundle,
  ed25519Signer,
  encodeEntryBundle,
  entryBundleUpdates,
  FsLedgerStorage,
  formatCheckpoint,
  integrate,
  leafHash,
  parseCheckpoint,
  parseNote,
  signNote,
} from '../../src/ledger/index.js'
import { type CliRun, runSovraCli } from '../support/cli.js'
import { s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const DC = 'us-west-1'
const BUCKET = 'audited'
const PUTS = 300 // more than one tile: full tile 0/000, partial 0/001.p/…, level-1 tile

const dir = tempDir('sovra-ledger-')
const work = tempDir('sovra-ledger-work-')
let server: TestSovra | undefined
let admin = ''
let vkey = ''
let size = 0
/** A size the log published a checkpoint at (the monitor's first check). */
let firstSize = 0
const dcDir = () => join(dir.path, 'dcs', DC)
const ledgerDir = () => join(dcDir(), 'ledger')
let stateCount = 0
const freshState = () => join(work.path, `state-${stateCount++}`)
const monitor = join(work.path, 'monitor') // the monitor that keeps watching across the test

const cli = runSovraCli

const verify = (url: string, state: string, ...extra: string[]) =>
  cli(['ledger', 'verify', '--dc', DC, '--url', url, '--key', vkey, '--state', state, ...extra])

async function checkpointSize(): Promise<number> {
  const res = await fetch(`${admin}/ledger/${DC}/checkpoint`)
  if (res.status !== 200) return 0
  return Number((await res.text()).split('\n')[1])
}

/** Polls the checkpoint until it covers `atLeast` entries (or 10 s pass); returns its size. */
async function waitForCheckpoint(atLeast: number): Promise<number> {
  const deadline = Date.now() + 10_000
  let current = await checkpointSize()
  while (current < atLeast && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
    current = await checkpointSize()
  }
  return current
}

afterAll(async () => {
  await server?.stop()
  dir.remove()
  work.remove()
})

/** Serves a copy of the stored log, changed by `tamper`, exactly as the admin port would. */
async function serveCopy(
  tamper: (root: string) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const root = join(work.path, `copy-${stateCount++}`)
  cpSync(join(work.path, 'pristine'), root, { recursive: true })
  tamper(root)
  const storage = await FsLedgerStorage.open(root)
  const origin = parseNote(readFileSync(join(root, 'checkpoint'), 'utf8')).text.split('\n')[0]
  const ledgers = new Map<string, PublicLedger>([
    [DC, { dc: DC, origin: origin as string, verifierKey: vkey, storage }],
  ])
  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    serveLedger(path, res, ledgers).then(
      (handled) => {
        if (!handled) res.writeHead(404).end()
      },
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise((resolve) => http.close(resolve))
      await storage.close()
    },
  }
}

/** Runs `verify` against a tampered copy and returns its result. */
async function verifyTampered(
  tamper: (root: string) => void,
  state = freshState(),
  ...extra: string[]
): Promise<CliRun> {
  const served = await serveCopy(tamper)
  try {
    return await verify(served.url, state, ...extra)
  } finally {
    await served.close()
  }
}

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file)
  bytes[at] = (bytes[at] as number) ^ 0x01
  writeFileSync(file, bytes)
}

describe('sovra ledger against a running server', () => {
  let s3: S3Client
  beforeAll(async () => {
    server = await startSovra({ dataDir: dir.path })
    admin = server.sovra.adminEndpoint
    s3 = s3For(server, DC)
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    for (let i = 0; i < PUTS; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, PUTS - i) }, (_, j) =>
          s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `k${i + j}`, Body: `v${i + j}` })),
        ),
      )
    }
    await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy', CopySource: `${BUCKET}/k0` }),
    )
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'k1' }))
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi' }),
    )
    const part = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'multi', UploadId, PartNumber: 1, Body: 'x' }),
    )
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'multi',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag as string, PartNumber: 1 }] },
      }),
    )
    await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k2' }))
    ).Body?.transformToString()
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'k2' }))
    await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5 }))
    // bucket.create + puts + copy + delete + multipart.complete + get, head, list (batched)
    const expected = 1 + PUTS + 3 + 3
    size = await waitForCheckpoint(expected)
    expect(size).toBeGreaterThanOrEqual(expected)
    vkey = readFileSync(join(dcDir(), 'keys', 'ledger.pub'), 'utf8').trim()
  })

  it('dc list --keys prints the verifier key the server publishes', async () => {
    const res = await cli(['dc', 'list', '--keys', '--json'], { SOVRA_DATA_DIR: dir.path })
    expect(res.code).toBe(0)
    const rows = JSON.parse(res.stdout) as Array<{
      id: string
      ledger: { origin: string; verifierKey: string | null }
    }>
    const published = (await (await fetch(`${admin}/admin/v1/ledger/keys`)).json()) as {
      ledgers: Array<{ dc: string; origin: string; verifierKey: string }>
    }
    const mine = published.ledgers.find((l) => l.dc === DC)
    expect(rows.find((r) => r.id === DC)?.ledger).toEqual({
      origin: mine?.origin,
      verifierKey: vkey,
    })
    expect(mine?.verifierKey).toBe(vkey)
    const table = await cli(['dc', 'list', '--keys'], { SOVRA_DATA_DIR: dir.path })
    const line = table.stdout.split('\n').find((l) => l.startsWith(`${DC} `))
    expect(line).toContain(` ${mine?.origin} `)
    expect(line?.endsWith(` ${vkey}`)).toBe(true)
  })

  it('verify passes, records the checkpoint, and later checks consistency with it', async () => {
    const first = await verify(admin, monitor)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(
      new RegExp(
        `^OK \\S+/ledger/${DC} size \\d+ root \\S+: signature valid, first check of this log, checkpoint recorded, tree rebuilt from \\d+ entries \\(2 bundles, 3 tiles\\)\\n$`,
      ),
    )
    firstSize = Number(first.stdout.split(' ')[3])
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'later', Body: 'x' }))
    size = await waitForCheckpoint(firstSize + 1)
    const second = await verify(admin, monitor)
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(
      `consistent with size ${first.stdout.split(' ')[3]} seen before`,
    )

    // Without --key it fetches the key from the server and says that this is weaker.
    const unpinned = await cli([
      'ledger',
      'verify',
      '--dc',
      DC,
      '--url',
      admin,
      '--state',
      freshState(),
    ])
    expect(unpinned.code).toBe(0)
    expect(unpinned.stderr).toMatch(/warning: trusting the verifier key the server serves/)
  })

  it('proof prints and verifies inclusion and consistency proofs from the public tiles', async () => {
    const inclusion = await cli([
      'ledger',
      'proof',
      '--dc',
      DC,
      '--url',
      admin,
      '--key',
      vkey,
      '--index',
      '5',
    ])
    expect(inclusion.code).toBe(0)
    expect(inclusion.stdout).toMatch(/inclusion proof of leaf 5 in the tree of size \d+/)
    expect(inclusion.stdout).toMatch(/"type":"object.put"/)
    expect(inclusion.stdout).toMatch(/verified: leaf 5 is in the tree of size/)
    const old = await cli([
      'ledger',
      'proof',
      '--dc',
      DC,
      '--url',
      admin,
      '--key',
      vkey,
      '--index',
      '260',
      '--size',
      String(firstSize),
      '--json',
    ])
    expect(old.stderr).toBe('')
    expect(old.code).toBe(0)
    expect(JSON.parse(old.stdout)).toMatchObject({ index: 260, size: firstSize, verified: true })
    const consistency = await cli([
      'ledger',
      'proof',
      '--dc',
      DC,
      '--url',
      admin,
      '--key',
      vkey,
      '--consistency',
      `${firstSize}..`,
    ])
    expect(consistency.code).toBe(0)
    expect(consistency.stdout).toContain(`extends the tree of size ${firstSize}\n`)
    const beyond = await cli([
      'ledger',
      'proof',
      '--dc',
      DC,
      '--url',
      admin,
      '--key',
      vkey,
      '--index',
      '99999',
    ])
    expect(beyond.code).toBe(1)
  })

  it("events finds the tenant's own events by commitment and verifies each", async () => {
    const directory = await openDirectory({ dataDir: dir.path })
    let tenant: string
    let secret: string
    try {
      const root = (await directory.listTenants()).find((t) => t.name === ROOT_TENANT_NAME)
      tenant = root?.id as string
      secret = (await directory.ledgerSecretOf(tenant)).toString('base64')
    } finally {
      await directory.close()
    }
    const args = ['ledger', 'events', '--dc', DC, '--url', admin, '--key', vkey, '--tenant', tenant]
    const puts = await cli([
      ...args,
      '--tenant-secret',
      secret,
      '--bucket',
      BUCKET,
      '--type',
      'object.put',
      '--verify',
      '--json',
    ])
    expect(puts.code).toBe(0)
    const body = JSON.parse(puts.stdout) as { events: Array<{ verified: boolean }> }
    expect(body.events).toHaveLength(PUTS + 1)
    expect(body.events.every((e) => e.verified)).toBe(true)
    const all = await cli([...args, '--tenant-secret', secret])
    for (const type of [
      'bucket.create',
      'object.copy',
      'object.delete',
      'multipart.complete',
      'object.get',
      'object.head',
      'object.list',
    ]) {
      expect(all.stdout).toContain(type)
    }
    expect(all.stdout).toContain(`event(s) of tenant ${tenant}`)
    const stranger = await cli([...args, '--tenant-secret', Buffer.alloc(32, 7).toString('base64')])
    expect(stranger.stdout).toMatch(/^0 event\(s\)/m)
  })

  it('witness cosignatures: a quorum of the given witnesses must have cosigned', async () => {
    await server?.stop()
    server = undefined
    cpSync(ledgerDir(), join(work.path, 'pristine'), { recursive: true })
    const witness = cosignatureSigner({ name: 'witness.example/w1', seed: Buffer.alloc(32, 1) })
    const other = cosignatureSigner({ name: 'witness.example/w2', seed: Buffer.alloc(32, 2) })
    const cosign = (root: string) => {
      const file = join(root, 'checkpoint')
      writeFileSync(file, addSignatures(readFileSync(file, 'utf8'), [witness]))
    }
    const ok = await verifyTampered(
      cosign,
      freshState(),
      '--witness',
      witness.vkey,
      '--witness',
      other.vkey,
      '--quorum',
      '1',
    )
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('cosigned by 1/2 witnesses')
    const short = await verifyTampered(
      cosign,
      freshState(),
      '--witness',
      witness.vkey,
      '--witness',
      other.vkey,
    )
    expect(short.code).toBe(EXIT_CHECK_FAILED)
    expect(short.stderr).toMatch(
      /witness quorum: .* has 1 valid cosignature\(s\) of the 2 given witnesses, 2 required/,
    )
    const forged = await verifyTampered(
      (root) => {
        cosign(root)
        const file = join(root, 'checkpoint')
        const text = readFileSync(file, 'utf8')
        const line = text.lastIndexOf('— witness.example/w1 ') + '— witness.example/w1 '.length + 20
        writeFileSync(
          file,
          `${text.slice(0, line)}${text[line] === 'A' ? 'B' : 'A'}${text.slice(line + 1)}`,
        )
      },
      freshState(),
      '--witness',
      witness.vkey,
    )
    expect(forged.code).toBe(EXIT_CHECK_FAILED)
    expect(forged.stderr).toMatch(
      /witness: the cosignature of "witness.example\/w1" .* does not verify/,
    )
  })

  it('tamper evidence: verify names what was changed', async () => {
    const untouched = await verifyTampered(() => {})
    expect(untouched.code).toBe(0)

    // One byte of an entry (in the full bundle 000, inside entry 0).
    const entry = await verifyTampered((root) => flipByte(join(root, 'tile/entries/000'), 10))
    expect(entry.code).toBe(EXIT_CHECK_FAILED)
    expect(entry.stderr).toMatch(
      /^sovra: entry bundle 000: entry 0 \(leaf index 0\) does not hash to its leaf in tile 0\/000, while the tiles match the checkpoint's root: the entry was altered\n$/,
    )

    // One byte of a hash tile (hash 7 of level-0 tile 000).
    const tile = await verifyTampered((root) => flipByte(join(root, 'tile/0/000'), 7 * 32 + 3))
    expect(tile.code).toBe(EXIT_CHECK_FAILED)
    expect(tile.stderr).toMatch(
      /^sovra: tile 0\/000 hash mismatch at hash 7: the served tile differs/,
    )

    // One byte of the checkpoint's signature.
    const checkpoint = await verifyTampered((root) => {
      const file = join(root, 'checkpoint')
      const text = readFileSync(file, 'utf8')
      const at = text.lastIndexOf(' ') + 30
      writeFileSync(
        file,
        `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`,
      )
    })
    expect(checkpoint.code).toBe(EXIT_CHECK_FAILED)
    expect(checkpoint.stderr).toMatch(
      /^sovra: signature: the checkpoint \(size \d+\) has no valid signature by the log key/,
    )

    // One byte of the checkpoint's root: the signature no longer covers it either.
    const root = await verifyTampered((dir) => {
      const file = join(dir, 'checkpoint')
      const lines = readFileSync(file, 'utf8').split('\n')
      lines[2] = `${lines[2]?.[0] === 'A' ? 'B' : 'A'}${lines[2]?.slice(1)}`
      writeFileSync(file, lines.join('\n'))
    })
    expect(root.code).toBe(EXIT_CHECK_FAILED)
    expect(root.stderr).toMatch(/^sovra: signature: /)

    // Drop the last entry of the right-edge bundle.
    const dropped = await verifyTampered((dir) => {
      const file = readdirBundle(dir)
      const entries = decodeEntryBundle(readFileSync(file))
      writeFileSync(file, encodeEntryBundle(entries.slice(0, -1)))
    })
    expect(dropped.code).toBe(EXIT_CHECK_FAILED)
    expect(dropped.stderr).toMatch(
      /^sovra: entry bundle 001\.p\/(\d+): holds \d+ entries where the checkpoint's size implies \1: an entry was dropped\n$/,
    )

    // Drop an entry from the middle of the full bundle 000.
    const droppedInside = await verifyTampered((dir) => {
      const file = join(dir, 'tile/entries/000')
      const entries = decodeEntryBundle(readFileSync(file))
      writeFileSync(file, encodeEntryBundle([...entries.slice(0, 100), ...entries.slice(101)]))
    })
    expect(droppedInside.code).toBe(EXIT_CHECK_FAILED)
    expect(droppedInside.stderr).toBe(
      "sovra: entry bundle 000: holds 255 entries where the checkpoint's size implies 256: an entry was dropped\n",
    )

    // One byte of a level-1 tile (the root of the full level-0 tile, as the level above holds it).
    const upper = await verifyTampered((dir) => flipByte(join(dir, 'tile/1/000.p/1'), 5))
    expect(upper.code).toBe(EXIT_CHECK_FAILED)
    expect(upper.stderr).toMatch(
      /^sovra: tile 1\/000\.p\/1 hash mismatch at hash 0: the served tile differs/,
    )

    // The checkpoint's size line, lowered by one: the log's signature no longer covers it.
    const shrunk = await verifyTampered((dir) => {
      const file = join(dir, 'checkpoint')
      const lines = readFileSync(file, 'utf8').split('\n')
      lines[1] = String(Number(lines[1]) - 1)
      writeFileSync(file, lines.join('\n'))
    })
    expect(shrunk.code).toBe(EXIT_CHECK_FAILED)
    expect(shrunk.stderr).toMatch(
      /^sovra: signature: the checkpoint \(size \d+\) has no valid signature/,
    )
  })

  it('a fork signed with the log key passes for a newcomer but not for a monitor that saw the real log', async () => {
    // Rewrite history: the same number of entries, one altered, with every tile and bundle
    // recomputed and a checkpoint signed by the data center's own key.
    const signer = ed25519Signer(readFileSync(join(dcDir(), 'keys', 'ledger.key'), 'utf8').trim())
    const fork = (root: string) => {
      const real = parseCheckpoint(parseNote(readFileSync(join(root, 'checkpoint'), 'utf8')).text)
      const n = Number(real.size)
      const entries = [
        ...decodeEntryBundle(readFileSync(join(root, 'tile/entries/000'))),
        ...decodeEntryBundle(readFileSync(readdirBundle(root))),
      ]
      expect(entries).toHaveLength(n)
      entries[3] = new TextEncoder().encode(
        new TextDecoder().decode(entries[3]).replace('"object.put"', '"object.get"'),
      )
      return { entries, origin: real.origin }
    }
    const writeFork = async (root: string) => {
      const { entries, origin } = fork(root)
      const tree = await integrate({
        getTiles: async () => [],
        fromSize: 0,
        leafHashes: entries.map(leafHash),
      })
      for (const [path, bytes] of tree.tiles) writeFileSync(join(root, path), bytes)
      const bundles = entryBundleUpdates({ fromSize: 0, edgeEntries: [], entries })
      for (const [path, bytes] of bundles) writeFileSync(join(root, path), bytes)
      const text = formatCheckpoint({
        origin,
        size: BigInt(tree.size),
        root: tree.root,
        extensions: [],
      })
      writeFileSync(join(root, 'checkpoint'), signNote(text, [signer]))
    }
    // Prepare the forked files up front (integrate is async; serveCopy's tamper is sync).
    const forked = join(work.path, 'forked')
    cpSync(join(work.path, 'pristine'), forked, { recursive: true })
    await writeFork(forked)
    const useFork = (root: string) => cpSync(forked, root, { recursive: true, force: true })

    const newcomer = await verifyTampered(useFork)
    expect(newcomer.code).toBe(0)

    const watched = await verifyTampered(useFork, monitor)
    expect(watched.code).toBe(EXIT_CHECK_FAILED)
    expect(watched.stderr).toMatch(
      /^sovra: consistency with size \d+ \(the checkpoint this monitor saw last\): fork: the log signed two different roots for size \d+/,
    )
  })
})

/** The right-edge (partial) entry bundle of the stored log. */
function readdirBundle(root: string): string {
  const dir = join(root, 'tile', 'entries', '001.p')
  const widths = readdirSync(dir).filter((n) => /^\d+$/.test(n))
  return join(dir, widths.sort((a, b) => Number(b) - Number(a))[0] as string)
}

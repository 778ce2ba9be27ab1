// Acknowledged writes survive kill -9: a stream of signed PutObjects runs against the spawned
// server, the process is SIGKILLed mid-stream and restarted on the same data folder. The ledger
// too: every acknowledged PUT has its event in the data center's log after the restart, and the
// log is consistent with every checkpoint a monitor saw before the crash.
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import { openDirectory, ROOT_TENANT_NAME } from '../../src/directory/index.js'
import { commit } from '../../src/ledger/index.js'
import { publicEvents } from '../support/public-log.js'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'

const WORKERS = 8
const KILL_AFTER_MS = 1_500
const DCS = ['us-west-1', 'ap-southeast-1'] as const

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function clientFor(server: SpawnedSovra, dcId: string): S3Client {
  return new S3Client({
    endpoint: server.endpoint(dcId),
    region: dcId,
    forcePathStyle: true,
    credentials: { ...server.credentials },
    // One attempt: a request cut by the kill must not be replayed against the next server.
    maxAttempts: 1,
  })
}

/** `sovra ledger verify` of one data center, remembering what it saw in `state`. */
async function verifyLedger(admin: string, dc: string, state: string): Promise<string> {
  const keys = (await (await fetch(`${admin}/admin/v1/ledger/keys`)).json()) as {
    ledgers: { dc: string; verifierKey: string }[]
  }
  const key = keys.ledgers.find((l) => l.dc === dc)?.verifierKey as string
  let out = ''
  const code = await runCli(
    ['ledger', 'verify', '--dc', dc, '--url', admin, '--key', key, '--state', state],
    {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (out += t) },
      env: {},
    },
  )
  if (code !== 0) throw new Error(`ledger verify --dc ${dc} failed: ${out}`)
  return out
}

/** Every `key` commitment of an object.put event in a data center's public log. */
async function loggedPutKeys(admin: string, dc: string): Promise<Set<string>> {
  const keys = new Set<string>()
  for (const event of await publicEvents(admin, dc)) {
    if (event.type === 'object.put') keys.add(event.key)
  }
  return keys
}

let first: SpawnedSovra | undefined
let second: SpawnedSovra | undefined
let dataDir: string | undefined

afterAll(async () => {
  await first?.stop()
  await second?.stop()
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
})

describe('durability', () => {
  it('keeps every acknowledged PutObject, and no partial object, across kill -9 and restart', async () => {
    // The first server owns no folder we keep: pass our own so stop() never removes it.
    dataDir = join(tmpdir(), `sovra-e2e-durability-${randomBytes(4).toString('hex')}`)
    first = await spawnSovra({ dataDir })
    const buckets: Record<string, string> = {}
    for (const dc of DCS) {
      buckets[dc] = `durable-${dc}-${randomBytes(3).toString('hex')}`
      await clientFor(first, dc).send(
        new CreateBucketCommand({
          Bucket: buckets[dc],
          CreateBucketConfiguration: { LocationConstraint: dc as never },
        }),
      )
    }

    /** Every body attempted, by bucket/key (each key is written once), and those acknowledged. */
    const attempted = new Map<string, string>()
    const acknowledged = new Map<string, string>()
    let killed = false
    let failuresBeforeKill = 0
    const clients = DCS.map((dc) => clientFor(first as SpawnedSovra, dc))

    const worker = async (w: number): Promise<void> => {
      for (let n = 0; !killed; n++) {
        const i = (w + n) % DCS.length
        const dc = DCS[i] as string
        const bucket = buckets[dc] as string
        const key = `w${w}/obj-${n}`
        const body = randomBytes(randomInt(1024, 3 * 1024 * 1024 + 1))
        const sum = sha256(body)
        attempted.set(`${bucket}/${key}`, sum)
        try {
          await (clients[i] as S3Client).send(
            new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
          )
          // A 200 received is an acknowledgement, even if it arrives as the kill lands.
          acknowledged.set(`${bucket}/${key}`, sum)
        } catch {
          if (!killed) failuresBeforeKill++
          return
        }
      }
    }
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w))
    // A monitor watches the logs while the writes run: it keeps the last checkpoint it saw.
    const monitorState = join(dataDir, '..', `${dataDir.split('/').pop()}-monitor`)
    const started = Date.now()
    while (Date.now() - started < KILL_AFTER_MS) {
      for (const dc of DCS) await verifyLedger(first.adminEndpoint, dc, join(monitorState, dc))
    }
    killed = true
    const exit = await first.kill('SIGKILL')
    expect(exit.signal).toBe('SIGKILL')
    await Promise.all(workers)
    for (const c of clients) c.destroy()
    expect(failuresBeforeKill).toBe(0)
    expect(acknowledged.size).toBeGreaterThan(5)
    // Some writes were cut mid-flight (otherwise the test proves little).
    expect(attempted.size).toBeGreaterThan(acknowledged.size)

    second = await spawnSovra({ dataDir })

    // No leftover temp files: the restart swept what the kill interrupted.
    for (const dc of readdirSync(join(dataDir, 'dcs'))) {
      const tmp = join(dataDir, 'dcs', dc, 'blobs', 'tmp')
      if (existsSync(tmp)) expect(readdirSync(tmp), `${tmp} after restart`).toEqual([])
    }

    const listed = new Map<string, number>()
    for (const dc of DCS) {
      const client = clientFor(second, dc)
      let token: string | undefined
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: buckets[dc],
            ContinuationToken: token,
            MaxKeys: 1000,
          }),
        )
        for (const o of page.Contents ?? []) listed.set(`${buckets[dc]}/${o.Key}`, o.Size ?? -1)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)

      // Every listed key reads back as exactly the one body attempted for it.
      for (const [path, size] of listed) {
        if (!path.startsWith(`${buckets[dc]}/`)) continue
        const key = path.slice((buckets[dc] as string).length + 1)
        expect(attempted.has(path), `listed key ${path} was never attempted`).toBe(true)
        const got = await client.send(new GetObjectCommand({ Bucket: buckets[dc], Key: key }))
        const bytes = await (
          got.Body as { transformToByteArray(): Promise<Uint8Array> }
        ).transformToByteArray()
        expect(bytes.length, `${path} size vs listing`).toBe(size)
        expect(sha256(bytes), `${path} after restart`).toBe(attempted.get(path))
      }
      client.destroy()
    }
    // Every acknowledged write is listed (and so, above, read back intact).
    const lost = [...acknowledged.keys()].filter((path) => !listed.has(path))
    expect(lost, 'acknowledged writes missing after kill -9').toEqual([])

    // Every acknowledged write has its event in the log (events commit with their change; the
    // restarted server moves what the kill left in the outbox), and the log after the restart
    // extends every checkpoint the monitor saw before the crash.
    const directory = await openDirectory({ dataDir })
    const root = await directory.getTenant(ROOT_TENANT_NAME)
    const secret = await directory.ledgerSecretOf(root?.id as string)
    await directory.close()
    for (const dc of DCS) {
      const mine = [...acknowledged.keys()]
        .filter((path) => path.startsWith(`${buckets[dc]}/`))
        .map((path) => commit(secret, path.slice((buckets[dc] as string).length + 1)))
      await expect
        .poll(
          async () => {
            const logged = await loggedPutKeys((second as SpawnedSovra).adminEndpoint, dc)
            return mine.filter((k) => !logged.has(k)).length
          },
          { timeout: 20_000, interval: 200 },
        )
        .toBe(0)
      expect(await verifyLedger(second.adminEndpoint, dc, join(monitorState, dc))).toMatch(
        /consistent|verified/i,
      )
    }
    rmSync(monitorState, { recursive: true, force: true })
  })
})

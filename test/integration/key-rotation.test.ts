// Bucket key rotation through the admin API and the CLI: the new key version is current at once,
// every data key is re-wrapped in the background while GETs keep returning the right bytes, SSE-C
// keys are skipped, and a restart mid-rotation resumes it to the end with nothing unreadable.
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDirectory } from '../../src/directory/index.js'
import { cliOf } from '../support/cli.js'
import { publicEvents } from '../support/public-log.js'
import { s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const DC = 'us-west-1'
const Bucket = 'rotating'
const MiB = 1024 * 1024
const TENANT_ENV = {
  AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
}
const customerKey = randomBytes(32)
const sseC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey.toString('base64') }

const data = tempDir('sovra-rotation-')
let configFile: string
let server: TestSovra
/** Every object's key → its bytes (what a GET must return). */
const objects = new Map<string, Buffer>()
let openUpload: { key: string; uploadId: string; part: Buffer }

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const s3 = (): S3Client => s3For(server, DC)
const cli = (args: readonly string[]) => cliOf(server)(args, TENANT_ENV)
const dcDir = () => join(data.path, 'dcs', DC)

interface Rotation {
  state: string
  keyVersion: number | null
  rewrapped: number
  current: number
  skipped: number
  failed: number
  finishedAt: string | null
  error: string | null
}

async function status(): Promise<Rotation> {
  const run = await cli(['bucket', 'key-rotation', Bucket, '--json'])
  expect(run.stderr).toBe('')
  return JSON.parse(run.stdout) as Rotation
}

async function start(): Promise<Rotation> {
  const run = await cli(['bucket', 'rotate-key', Bucket, '--json'])
  expect(run, run.stderr).toMatchObject({ code: 0 })
  return JSON.parse(run.stdout) as Rotation
}

async function untilFinished(): Promise<Rotation> {
  await expect
    .poll(async () => (await status()).state, { timeout: 60_000, interval: 100 })
    .not.toBe('running')
  return status()
}

/** Every wrapped data key the cell's metadata holds for the bucket, by where it is. */
function wrappedKeys(): Map<string, string> {
  const db = new Database(join(dcDir(), 'meta.sqlite'), { readonly: true })
  try {
    const out = new Map<string, string>()
    const rows = db
      .prepare('SELECT key, blob_parts FROM objects WHERE bucket = ?')
      .all(Bucket) as Array<{ key: string; blob_parts: string | null }>
    for (const row of rows) {
      if (row.blob_parts === null) continue
      for (const [i, p] of (JSON.parse(row.blob_parts) as Array<{ wrappedKey: string }>).entries())
        out.set(`${row.key}#${i}`, p.wrappedKey)
    }
    const inline = db
      .prepare('SELECT key, wrapped_key FROM object_data WHERE bucket = ?')
      .all(Bucket) as Array<{ key: string; wrapped_key: string }>
    for (const row of inline) out.set(row.key, row.wrapped_key)
    const parts = db
      .prepare(
        `SELECT p.upload_id, p.part_number, p.wrapped_key FROM parts p
         JOIN multipart_uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?`,
      )
      .all(Bucket) as Array<{ upload_id: string; part_number: number; wrapped_key: string }>
    for (const row of parts) out.set(`upload:${row.upload_id}#${row.part_number}`, row.wrapped_key)
    return out
  } finally {
    db.close()
  }
}

/** The keys not wrapped by the data center's provider under `version` (SSE-C excepted). */
function notUnder(version: number): string[] {
  return [...wrappedKeys()]
    .filter(([, w]) => !w.startsWith('sse-c:') && !w.startsWith(`dc:v1:${version}:`))
    .map(([where, w]) => `${where}=${w.slice(0, 12)}`)
}

/** The cell's public-log events of one type, as an auditor reads them. */
async function logged(type: string): Promise<Record<string, unknown>[]> {
  const events = await publicEvents(server.sovra.adminEndpoint, DC)
  return events.filter((e) => e.type === type) as unknown as Record<string, unknown>[]
}

async function get(key: string): Promise<Buffer> {
  const res = await s3().send(
    new GetObjectCommand({ Bucket, Key: key, ...(key.startsWith('ssec/') ? sseC : {}) }),
  )
  return Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array())
}

/** GETs random objects until `stop()` says so; every body must be exactly what was written. */
async function readLoop(stop: () => boolean): Promise<{ reads: number; wrong: string[] }> {
  const keys = [...objects.keys()]
  let reads = 0
  const wrong: string[] = []
  const worker = async () => {
    while (!stop()) {
      const key = keys[Math.floor(Math.random() * keys.length)] as string
      const body = await get(key)
      if (sha(body) !== sha(objects.get(key) as Buffer)) wrong.push(key)
      reads++
    }
  }
  await Promise.all([worker(), worker(), worker()])
  return { reads, wrong }
}

async function multipart(key: string, sizes: readonly number[]): Promise<void> {
  const { UploadId } = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key: key }))
  const parts = sizes.map((n) => randomBytes(n))
  const etags: string[] = []
  for (const [i, body] of parts.entries()) {
    const res = await s3().send(
      new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }),
    )
    etags.push(res.ETag as string)
  }
  await s3().send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  )
  objects.set(key, Buffer.concat(parts))
}

beforeAll(async () => {
  // Small batches with a pause, so a rotation of ~100 keys takes long enough to watch and stop.
  configFile = join(data.path, 'sovra.json')
  writeFileSync(
    configFile,
    JSON.stringify({ keyRotation: { batchSize: 8, concurrency: 2, pauseMs: 60 } }),
  )
  server = await startSovra({ dataDir: data.path, env: { SOVRA_CONFIG: configFile } })
  await s3().send(new CreateBucketCommand({ Bucket }))
  for (let i = 0; i < 80; i++) {
    const body = randomBytes(200 + i * 37)
    await s3().send(new PutObjectCommand({ Bucket, Key: `small/${i}`, Body: body }))
    objects.set(`small/${i}`, body)
  }
  for (let i = 0; i < 3; i++) {
    const body = randomBytes(150_000 + i)
    await s3().send(new PutObjectCommand({ Bucket, Key: `large/${i}`, Body: body }))
    objects.set(`large/${i}`, body)
  }
  await s3().send(new PutObjectCommand({ Bucket, Key: 'empty', Body: Buffer.alloc(0) }))
  objects.set('empty', Buffer.alloc(0))
  await multipart('multi/a', [5 * MiB, 70_000])
  const ssecBody = randomBytes(90_000)
  await s3().send(new PutObjectCommand({ Bucket, Key: 'ssec/one', Body: ssecBody, ...sseC }))
  objects.set('ssec/one', ssecBody)
  // An upload left open: its part's data key is re-wrapped too.
  const { UploadId } = await s3().send(
    new CreateMultipartUploadCommand({ Bucket, Key: 'multi/open' }),
  )
  openUpload = { key: 'multi/open', uploadId: UploadId as string, part: randomBytes(5 * MiB) }
  await s3().send(
    new UploadPartCommand({
      Bucket,
      Key: openUpload.key,
      UploadId,
      PartNumber: 1,
      Body: openUpload.part,
    }),
  )
}, 120_000)

afterAll(async () => {
  await server?.stop()
  data.remove()
})

describe('bucket key rotation', () => {
  it('has no rotation to show before the first', async () => {
    const run = await cli(['bucket', 'key-rotation', Bucket])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('(NoSuchKeyRotation)')
  })

  it("only the bucket's owner may rotate or read its rotation", async () => {
    const directory = await openDirectory({ dataDir: data.path })
    let other: { accessKeyId: string; secretAccessKey: string }
    try {
      await directory.createTenant({ name: 'mallory' })
      other = await directory.createAccessKey('mallory', {})
    } finally {
      await directory.close()
    }
    const env = {
      AWS_ACCESS_KEY_ID: other.accessKeyId,
      AWS_SECRET_ACCESS_KEY: other.secretAccessKey,
    }
    for (const args of [
      ['bucket', 'rotate-key', Bucket],
      ['bucket', 'key-rotation', Bucket],
    ]) {
      const run = await cliOf(server)(args, env)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('(Forbidden)')
    }
    const missing = await cli(['bucket', 'rotate-key', 'no-such-bucket-here'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('(NoSuchBucket)')
    const unsigned = await cliOf(server)(['bucket', 'key-rotation', Bucket])
    expect(unsigned.code).toBe(1)
    expect(unsigned.stderr).toContain('No tenant credentials')
    expect(notUnder(1)).toEqual([])
  })

  it('re-wraps every data key in the background while GETs keep returning the right bytes', async () => {
    expect(notUnder(1)).toEqual([])
    const started = await start()
    expect(started).toMatchObject({ state: 'running', keyVersion: 2 })
    // Logged before the answer: the rotation and who asked (by commitment), no bucket name.
    await expect.poll(async () => (await logged('key.rotated')).length).toBe(1)
    const [rotated] = await logged('key.rotated')
    expect(rotated).toMatchObject({ provider: 'local', keyVersion: 2, actor: { kind: 'tenant' } })
    expect(JSON.stringify(rotated)).not.toContain(Bucket)

    // A second start while it runs is refused.
    const again = await cli(['bucket', 'rotate-key', Bucket])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('(KeyRotationInProgress)')

    // New writes use the new version at once, while old keys are still being re-wrapped.
    const fresh = randomBytes(3000)
    await s3().send(new PutObjectCommand({ Bucket, Key: 'during/new', Body: fresh }))
    objects.set('during/new', fresh)
    expect(wrappedKeys().get('during/new')).toMatch(/^dc:v1:2:/)

    let finished = false
    const loop = readLoop(() => finished)
    const done = await untilFinished()
    finished = true
    const { reads, wrong } = await loop
    expect(wrong).toEqual([])
    expect(reads).toBeGreaterThan(20)

    // Every key written before the rotation: 80 small + 3 large + "empty" + 2 pieces of
    // "multi/a" + the open upload's part. "during/new" was born under version 2 ("current" when
    // the job saw it, unseen when it was written behind the job's cursor).
    expect(done).toMatchObject({ state: 'done', keyVersion: 2, failed: 0, error: null })
    expect(done.rewrapped).toBe(80 + 3 + 1 + 2 + 1)
    expect(done.current).toBeLessThanOrEqual(1)
    expect(done.skipped).toBe(1) // the SSE-C object: wrapped by the customer's key
    expect(notUnder(2)).toEqual([])
    expect(wrappedKeys().get('ssec/one#0')).toMatch(/^sse-c:/)
    await expect.poll(async () => (await logged('key.rewrap-finish')).length).toBe(1)
    expect((await logged('key.rewrap-finish'))[0]).toMatchObject({
      status: 'done',
      keyVersion: 2,
      rewrapped: done.rewrapped,
      skipped: 1,
      failed: 0,
      actor: { kind: 'system', component: 'key-rotation' },
    })
    for (const [key, body] of objects) expect(sha(await get(key)), key).toBe(sha(body))
  }, 120_000)

  it('resumes after a restart mid-rotation and ends with every key under the new version', async () => {
    const started = await start()
    expect(started).toMatchObject({ state: 'running', keyVersion: 3 })
    await expect
      .poll(async () => (await status()).rewrapped, { timeout: 30_000, interval: 20 })
      .toBeGreaterThan(0)
    await server.stop()

    // Stopped mid-way: the saved progress says running, some keys moved, some not yet.
    const progress = JSON.parse(
      readFileSync(
        join(dcDir(), 'key-rotations', `${Buffer.from(Bucket).toString('hex')}.json`),
        'utf8',
      ),
    ) as Rotation & { pass: number }
    expect(progress.state).toBe('running')
    expect(notUnder(3).length).toBeGreaterThan(0)

    server = await startSovra({ dataDir: data.path, env: { SOVRA_CONFIG: configFile } })
    // Readable right after the restart, while the resumed job runs.
    for (const [key, body] of objects) expect(sha(await get(key)), key).toBe(sha(body))
    const done = await untilFinished()
    expect(done).toMatchObject({ state: 'done', keyVersion: 3, failed: 0, skipped: 1 })
    expect(notUnder(3)).toEqual([])
    for (const [key, body] of objects) expect(sha(await get(key)), key).toBe(sha(body))
    // One end event for the resumed job, none for the interrupted run.
    await expect.poll(async () => (await logged('key.rewrap-finish')).length).toBe(2)

    // The open upload's re-wrapped part completes into a readable object.
    const part = await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: openUpload.key,
        UploadId: openUpload.uploadId,
        PartNumber: 2,
        Body: Buffer.from('tail'),
      }),
    )
    const parts = wrappedKeys()
    expect(parts.get(`upload:${openUpload.uploadId}#1`)).toMatch(/^dc:v1:3:/)
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: openUpload.key,
        UploadId: openUpload.uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: `"${createHash('md5').update(openUpload.part).digest('hex')}"` },
            { PartNumber: 2, ETag: part.ETag as string },
          ],
        },
      }),
    )
    expect(sha(await get(openUpload.key))).toBe(
      sha(Buffer.concat([openUpload.part, Buffer.from('tail')])),
    )

    // `--wait` follows the next rotation to its end.
    const waited = await cli(['bucket', 'rotate-key', Bucket, '--wait'])
    expect(waited, waited.stderr).toMatchObject({ code: 0 })
    expect(waited.stdout).toMatch(
      /^Key rotation of bucket rotating \(dc, key version 4\): running;/,
    )
    expect(waited.stdout.trim().split('\n').at(-1)).toMatch(
      /^Key rotation of bucket rotating \(dc, key version 4\): done; \d+ re-wrapped, \d+ already current, 1 skipped \(SSE-C or another provider\), 0 failed; finished /,
    )
    expect(notUnder(4)).toEqual([])
  }, 120_000)
})

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import { decodeEvent, type LedgerEvent } from '../ledger/index.js'
import { type MetaStore, type ObjectRecord, openMetaStore } from '../meta/index.js'
import { type CellKeys, openCellKeys } from './cell-keys.js'
import { type KeyRotationSettings, KeyRotations, MAX_PASSES } from './key-rotation.js'

const DC = 'dc-1'
const requester = { tenantId: 't1', accessKeyId: 'AK1' }

let dir: string
let meta: MetaStore
let keys: CellKeys
let events: LedgerEvent[]
const open: KeyRotations[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sovra-rotation-'))
  meta = await openMetaStore({ driver: 'sqlite', path: join(dir, 'meta.sqlite') })
  keys = await openCellKeys(DC, dir, {
    logger: createLogger('silent'),
    bucketExists: async (b) => (await meta.getBucket(b)) !== null,
  })
  events = []
  await meta.createBucket({ name: 'b', tenantId: 't1', createdAt: 1 })
})
afterEach(async () => {
  for (const r of open.splice(0)) await r.close()
  await meta.close()
  await rm(dir, { recursive: true, force: true })
})

function rotations(
  store: MetaStore = meta,
  settings: Partial<KeyRotationSettings> = {},
): KeyRotations {
  const r = new KeyRotations({
    dc: DC,
    dir,
    meta: store,
    keys,
    ledger: {
      log: {
        append: async (entry) => {
          events.push(decodeEvent(entry))
          return { index: events.length - 1 }
        },
      },
    },
    ledgerSecretOf: async () => Buffer.alloc(32, 7),
    settings: { batchSize: 2, concurrency: 2, pauseMs: 0, ...settings },
    logger: createLogger('silent'),
  })
  open.push(r)
  return r
}

/** An inline object whose data key is wrapped by the cell's dc provider (bytes are not read). */
async function put(key: string, wrappedKey?: string): Promise<void> {
  const wrapped = wrappedKey ?? (await keys.dc.wrap(randomBytes(32), { dc: DC, bucket: 'b' }))
  const record: ObjectRecord = {
    bucket: 'b',
    key,
    versionId: null,
    size: 6,
    etag: 'e',
    lastModified: 1,
    headers: {},
    userMetadata: {},
    checksums: {},
    checksumType: null,
    partsCount: null,
    partSizes: null,
    encryption: { algorithm: 'AES256', kmsKeyId: null, customerKeyFingerprint: null },
    data: { kind: 'inline', bytes: Buffer.from('sealed'), wrappedKey: wrapped },
  }
  await meta.putObject(record)
}

async function wrappedOf(key: string): Promise<string | undefined> {
  const record = await meta.getObject('b', key, { withData: true })
  return record?.data.kind === 'inline' ? record.data.wrappedKey : undefined
}

describe('KeyRotations', () => {
  it('catches a write that wrapped under the old version and committed behind the cursor', async () => {
    for (const k of ['c', 'd', 'e', 'f']) await put(k)
    const straggler = await keys.dc.wrap(randomBytes(32), { dc: DC, bucket: 'b' })
    // After the first page, a PUT whose key was wrapped before the rotation commits under "a".
    let pages = 0
    const racing = new Proxy(meta, {
      get(target, prop) {
        if (prop !== 'listWrappedKeys') {
          const value = Reflect.get(target, prop, target)
          return typeof value === 'function' ? value.bind(target) : value
        }
        return async (...args: Parameters<MetaStore['listWrappedKeys']>) => {
          const page = await target.listWrappedKeys(...args)
          if (++pages === 1) await put('a', straggler)
          return page
        }
      },
    })
    const r = rotations(racing)
    const started = await r.start('b', requester)
    expect(started).toMatchObject({ kind: 'started', status: { state: 'running', keyVersion: 2 } })
    const done = await r.settled('b')
    expect(done).toMatchObject({ state: 'done', keyVersion: 2, rewrapped: 5, failed: 0 })
    for (const k of ['a', 'c', 'd', 'e', 'f']) expect(await wrappedOf(k)).toMatch(/^dc:v1:2:/)
    expect(events.map((e) => e.type)).toEqual(['key.rotated', 'key.rewrap-finish'])
    expect(events[1]).toMatchObject({ status: 'done', rewrapped: 5, skipped: 0, failed: 0 })
  })

  it('skips SSE-C keys, reports a key that cannot be re-wrapped as failed, and leaves it in place', async () => {
    await put('a')
    await put('ssec', 'sse-c:v1:not-the-servers-to-open')
    const forged = `dc:v1:1:${randomBytes(60).toString('base64url')}`
    await put('tampered', forged)
    const r = rotations()
    await r.start('b', requester)
    const done = await r.settled('b')
    expect(done).toMatchObject({ state: 'failed', rewrapped: 1, skipped: 1, failed: 1 })
    expect(done?.error).toContain('does not authenticate')
    expect(await wrappedOf('a')).toMatch(/^dc:v1:2:/)
    expect(await wrappedOf('ssec')).toBe('sse-c:v1:not-the-servers-to-open')
    expect(await wrappedOf('tampered')).toBe(forged)
    expect(events.at(-1)).toMatchObject({ type: 'key.rewrap-finish', status: 'failed', failed: 1 })
    expect(MAX_PASSES).toBeGreaterThan(1)
  })

  it('runs one rotation per bucket at a time, and another once it ended', async () => {
    for (const k of ['a', 'b', 'c']) await put(k)
    const r = rotations(meta, { pauseMs: 50 })
    const [first, second] = await Promise.all([r.start('b', requester), r.start('b', requester)])
    expect([first.kind, second.kind].sort()).toEqual(['running', 'started'])
    expect((await r.start('b', requester)).kind).toBe('running')
    await r.settled('b')
    const next = await r.start('b', requester)
    expect(next).toMatchObject({ kind: 'started', status: { keyVersion: 3 } })
    expect(await r.settled('b')).toMatchObject({ state: 'done', keyVersion: 3, rewrapped: 3 })
    expect(await r.start('nope', requester)).toEqual({ kind: 'no-such-bucket' })
  })

  it('a job stopped by close() resumes from its saved progress in the next process', async () => {
    for (let i = 0; i < 20; i++) await put(`k${String(i).padStart(2, '0')}`)
    const first = rotations(meta, { pauseMs: 30 })
    await first.start('b', requester)
    await new Promise((resolve) => setTimeout(resolve, 80))
    await first.close()
    expect(await first.status('b')).toMatchObject({ state: 'running' })
    const again = rotations()
    await again.resume()
    const done = await again.settled('b')
    expect(done).toMatchObject({ state: 'done', keyVersion: 2, failed: 0 })
    expect((done?.rewrapped ?? 0) + (done?.current ?? 0)).toBe(20)
    for (let i = 0; i < 20; i++) {
      expect(await wrappedOf(`k${String(i).padStart(2, '0')}`)).toMatch(/^dc:v1:2:/)
    }
    expect(events.filter((e) => e.type === 'key.rewrap-finish')).toHaveLength(1)
  })

  it('a bucket deleted mid-rotation ends the job as failed; its status is gone with the bucket', async () => {
    for (const k of ['a', 'b', 'c', 'd']) await put(k)
    const r = rotations(meta, { pauseMs: 30 })
    await r.start('b', requester)
    for (const k of ['a', 'b', 'c', 'd']) await meta.deleteObject('b', k)
    await meta.deleteBucket('b')
    expect(await r.settled('b')).toBeNull()
    expect(events.at(-1)).toMatchObject({ type: 'key.rewrap-finish', status: 'failed' })
  })
})

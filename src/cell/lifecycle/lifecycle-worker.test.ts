import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/index.js'
import { decodeEvent } from '../../ledger/index.js'
import {
  type LifecycleConfiguration,
  type LifecycleRule,
  type MetaStore,
  type ObjectRecord,
  openMetaStore,
} from '../../meta/index.js'
import { type LifecycleSettings, LifecycleWorker } from './lifecycle-worker.js'

const DAY = 1_000
const SECRET = Buffer.alloc(32, 7)
let dir: string
let meta: MetaStore
let removed: string[]
let clock: number

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sovra-lifecycle-'))
  meta = await openMetaStore({ driver: 'sqlite', path: join(dir, 'meta.sqlite') })
  removed = []
  clock = 0
  await meta.createBucket({ name: 'b', tenantId: 'tenant-1', createdAt: 0 })
})
afterEach(async () => {
  await meta.close()
  await rm(dir, { recursive: true, force: true })
})

function worker(
  settings: Partial<LifecycleSettings> = {},
  withSecret = true,
  maxPending = 1_000,
): LifecycleWorker {
  return new LifecycleWorker({
    dc: 'us-west-1',
    meta,
    blob: {
      remove: async (refs) => {
        removed.push(...refs)
      },
    },
    ledger: { maxPending },
    ...(withSecret ? { ledgerSecretOf: async () => SECRET } : {}),
    settings: { enabled: true, intervalMs: 10, dayMs: DAY, batchSize: 3, ...settings },
    logger: createLogger('silent'),
    now: () => clock,
  })
}

function object(
  key: string,
  lastModified: number,
  extra: Partial<ObjectRecord> = {},
): ObjectRecord {
  return {
    bucket: 'b',
    key,
    versionId: null,
    size: 10,
    etag: `etag-${key}`,
    lastModified,
    headers: {},
    userMetadata: {},
    checksums: {},
    checksumType: null,
    partsCount: null,
    partSizes: null,
    encryption: null,
    data: { kind: 'inline', bytes: Buffer.from('0123456789') },
    ...extra,
  }
}

const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({
  id: 'r',
  status: 'Enabled',
  filter: {
    form: 'empty',
    prefix: null,
    tags: [],
    objectSizeGreaterThan: null,
    objectSizeLessThan: null,
  },
  expiration: { days: 1, date: null, expiredObjectDeleteMarker: null },
  noncurrentVersionExpiration: null,
  abortIncompleteMultipartUploadDays: null,
  ...r,
})
const config = (...rules: LifecycleRule[]): LifecycleConfiguration => ({
  rules,
  transitionDefaultMinimumObjectSize: 'all_storage_classes_128K',
})

async function keys(): Promise<string[]> {
  const page = await meta.listObjects('b', {
    prefix: '',
    delimiter: null,
    after: null,
    maxKeys: 1000,
  })
  return page.objects.map((o) => o.key)
}

describe('LifecycleWorker', () => {
  it('pages through the bucket and expires what is due, nothing before', async () => {
    for (let i = 0; i < 8; i++) await meta.putObject(object(`tmp/${i}`, 100))
    await meta.putObject(object('keep', 100))
    await meta.setBucketLifecycle(
      'b',
      config(
        rule({
          filter: {
            form: 'prefix',
            prefix: 'tmp/',
            tags: [],
            objectSizeGreaterThan: null,
            objectSizeLessThan: null,
          },
        }),
      ),
    )
    const w = worker()
    clock = 1_999 // due at ceil((100 + 1000) / 1000) * 1000 = 2000
    expect(await w.runOnce()).toEqual({ buckets: 1, expired: 0, aborted: 0, skipped: 0 })
    clock = 2_000
    expect(await w.runOnce()).toEqual({ buckets: 1, expired: 8, aborted: 0, skipped: 0 })
    expect(await keys()).toEqual(['keep'])
    await w.close()
  })

  it('records each expiry as a lifecycle object.delete in the same commit', async () => {
    await meta.putObject(object('a', 0))
    await meta.setBucketLifecycle('b', config(rule({})))
    clock = 5 * DAY
    const before = (await meta.readLedgerOutbox(100)).length
    await worker().runOnce()
    const events = (await meta.readLedgerOutbox(100)).slice(before).map((e) => decodeEvent(e.entry))
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'object.delete',
      reason: 'lifecycle',
      dc: 'us-west-1',
      actor: { kind: 'system', component: 'lifecycle' },
    })
    expect(JSON.stringify(events[0])).not.toContain('"a"')
  })

  it('removes the blobs of an expired object after the commit', async () => {
    await meta.putObject(
      object('big', 0, { data: { kind: 'blobs', parts: [{ ref: 'blob-1', size: 10 }] } }),
    )
    await meta.setBucketLifecycle('b', config(rule({})))
    clock = 5 * DAY
    await worker().runOnce()
    expect(removed).toEqual(['blob-1'])
    expect(await meta.isBlobReferenced('blob-1')).toBe(false)
  })

  it('leaves an object overwritten after it was read', async () => {
    await meta.putObject(object('a', 0))
    // The store refuses the delete when the object is not the one read.
    await expect(
      meta.deleteObject('b', 'a', { expect: { etag: 'etag-a', lastModified: 1 } }),
    ).rejects.toMatchObject({ code: 'PreconditionFailed' })
    await expect(
      meta.deleteObject('b', 'gone', { expect: { etag: 'x', lastModified: 0 } }),
    ).rejects.toMatchObject({ code: 'PreconditionFailed' })
    expect(await keys()).toEqual(['a'])
    const { deleted } = await meta.deleteObject('b', 'a', {
      expect: { etag: 'etag-a', lastModified: 0 },
    })
    expect(deleted).toBe(true)
  })

  it('does nothing for Disabled rules or when the bucket has no configuration', async () => {
    await meta.putObject(object('a', 0))
    clock = 100 * DAY
    expect(await worker().runOnce()).toEqual({ buckets: 0, expired: 0, aborted: 0, skipped: 0 })
    await meta.setBucketLifecycle('b', config(rule({ status: 'Disabled' })))
    expect(await worker().runOnce()).toEqual({ buckets: 0, expired: 0, aborted: 0, skipped: 0 })
    expect(await keys()).toEqual(['a'])
  })

  it('aborts uploads older than DaysAfterInitiation and removes their parts', async () => {
    const upload = (uploadId: string, key: string, initiated: number) =>
      meta.createMultipartUpload({
        uploadId,
        bucket: 'b',
        key,
        initiated,
        tenantId: 'tenant-1',
        headers: {},
        userMetadata: {},
        checksumAlgorithm: null,
        checksumType: null,
        encryption: null,
      })
    for (let i = 0; i < 5; i++) await upload(`old-${i}`, `k${i}`, 0)
    await upload('young', 'k9', 3 * DAY)
    await meta.putPart({
      uploadId: 'old-0',
      partNumber: 1,
      size: 5,
      etag: 'e',
      lastModified: 0,
      checksums: {},
      blob: { ref: 'part-blob', size: 5 },
    })
    await meta.setBucketLifecycle(
      'b',
      config(rule({ expiration: null, abortIncompleteMultipartUploadDays: 2 })),
    )
    clock = 3 * DAY
    expect((await worker().runOnce()).aborted).toBe(5)
    const left = await meta.listMultipartUploads('b', {
      prefix: '',
      delimiter: null,
      keyMarker: null,
      uploadIdMarker: null,
      maxUploads: 100,
    })
    expect(left.uploads.map((u) => u.uploadId)).toEqual(['young'])
    expect(removed).toEqual(['part-blob'])
  })

  it('runs on its interval once started, and stops on close', async () => {
    await meta.putObject(object('a', 0))
    await meta.setBucketLifecycle('b', config(rule({})))
    clock = 5 * DAY
    const w = worker({ intervalMs: 20 })
    w.start()
    const deadline = Date.now() + 5_000
    while ((await keys()).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(await keys()).toEqual([])
    await w.close()
    await meta.putObject(object('b', 0))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await keys()).toEqual(['b'])
  })

  it('ends the pass, expiring nothing more, when the ledger backlog would overflow', async () => {
    for (const key of ['a', 'b', 'c']) await meta.putObject(object(key, 0))
    await meta.setBucketLifecycle('b', config(rule({})))
    clock = 5 * DAY
    const backlog = meta.ledgerOutboxSize()
    expect((await worker({}, true, backlog + 2).runOnce()).expired).toBe(0)
    expect(await keys()).toEqual(['a', 'b', 'c'])
    expect((await worker({}, true, backlog + 3).runOnce()).expired).toBe(3)
  })

  it('writes no events without a ledger secret (ledger disabled)', async () => {
    await meta.putObject(object('a', 0))
    await meta.setBucketLifecycle('b', config(rule({})))
    clock = 5 * DAY
    const before = (await meta.readLedgerOutbox(100)).length
    expect((await worker({}, false).runOnce()).expired).toBe(1)
    expect((await meta.readLedgerOutbox(100)).length).toBe(before)
  })
})

describe('the lifecycle table', () => {
  it('stores, replaces and removes a configuration, and drops it with its bucket', async () => {
    expect(await meta.getBucketLifecycle('b')).toBeNull()
    await meta.setBucketLifecycle('b', config(rule({ id: 'one' })))
    await meta.setBucketLifecycle('b', config(rule({ id: 'two' })))
    expect((await meta.getBucketLifecycle('b'))?.rules.map((r) => r.id)).toEqual(['two'])
    expect(await meta.listLifecycleBuckets({ after: '', limit: 10 })).toEqual(['b'])
    await meta.setBucketLifecycle('b', null)
    expect(await meta.getBucketLifecycle('b')).toBeNull()
    await meta.setBucketLifecycle('b', config(rule({})))
    await meta.deleteBucket('b')
    expect(await meta.listLifecycleBuckets({ after: '', limit: 10 })).toEqual([])
    await meta.createBucket({ name: 'b', tenantId: 'tenant-2', createdAt: 1 })
    expect(await meta.getBucketLifecycle('b')).toBeNull()
    await expect(meta.setBucketLifecycle('nope', null)).rejects.toMatchObject({
      code: 'NoSuchBucket',
    })
  })

  it('scans a prefix page by page with each object tags', async () => {
    await meta.putObject(object('a/1', 0, { tags: [{ key: 'k', value: 'v' }] }))
    await meta.putObject(object('a/2', 0))
    await meta.putObject(object('a/3', 0))
    await meta.putObject(object('b/1', 0))
    const first = await meta.scanLifecycleObjects('b', { prefix: 'a/', after: null, limit: 2 })
    expect(first.map((o) => [o.key, o.tags])).toEqual([
      ['a/1', [{ key: 'k', value: 'v' }]],
      ['a/2', []],
    ])
    const second = await meta.scanLifecycleObjects('b', { prefix: 'a/', after: 'a/2', limit: 2 })
    expect(second.map((o) => o.key)).toEqual(['a/3'])
  })
})

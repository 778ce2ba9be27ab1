import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MetaError } from './meta-error.js'
import type {
  BlobPart,
  ListObjectsOptions,
  ListObjectsResult,
  ListVersionsOptions,
  MetaErrorCode,
  MetaStore,
  MultipartUploadRecord,
  ObjectRecord,
  PartRecord,
  StoredWrappedKey,
  WrappedKeyCursor,
} from './meta-store.js'

/** How a driver's test file plugs into the shared MetaStore suite. */
export interface MetaStoreContractOptions {
  readonly name: string
  /** Opens the store kept at `location` (a fresh temp folder per test; the same folder reopens it). */
  readonly open: (location: string) => Promise<MetaStore>
  /** Test names to skip, each with the reason. */
  readonly skip?: Readonly<Record<string, string>>
}

/** The behaviour every MetaStore driver must show; call it from `<driver>-meta-store.test.ts`. */
export function runMetaStoreContract(options: MetaStoreContractOptions): void {
  const skip = options.skip ?? {}
  const test = (name: string, fn: () => Promise<void>) =>
    skip[name] === undefined ? it(name, fn) : it.skip(`${name} (skipped: ${skip[name]})`, fn)

  describe(`MetaStore contract: ${options.name}`, () => {
    let location: string
    let store: MetaStore
    const opened: MetaStore[] = []
    const open = async () => {
      const s = await options.open(location)
      opened.push(s)
      return s
    }

    beforeEach(async () => {
      location = await mkdtemp(join(tmpdir(), 'sovra-meta-'))
      store = await open()
      await store.createBucket(bucket('b'))
    })
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close()
      await rm(location, { recursive: true, force: true })
    })

    describe('buckets', () => {
      test('createBucket() then getBucket() returns the record', async () => {
        expect(await store.getBucket('b')).toEqual(bucket('b'))
        expect(await store.getBucket('nope')).toBeNull()
      })

      test('setBucketEncryption() sets, replaces and removes the default encryption', async () => {
        const kms = { algorithm: 'aws:kms' as const, kmsKeyId: 'k1', bucketKeyEnabled: true }
        await store.setBucketEncryption('b', kms)
        expect((await store.getBucket('b'))?.encryption).toEqual(kms)
        const aes = { algorithm: 'AES256' as const, kmsKeyId: null, bucketKeyEnabled: false }
        await store.setBucketEncryption('b', aes)
        expect((await store.getBucket('b'))?.encryption).toEqual(aes)
        await store.setBucketEncryption('b', null)
        expect(await store.getBucket('b')).toEqual(bucket('b'))
        await expectCode(store.setBucketEncryption('nope', aes), 'NoSuchBucket')
      })

      test('createBucket() fails with BucketAlreadyExists for a taken name', async () => {
        await expectCode(store.createBucket(bucket('b')), 'BucketAlreadyExists')
      })

      test('deleteBucket() fails with NoSuchBucket or BucketNotEmpty', async () => {
        await expectCode(store.deleteBucket('nope'), 'NoSuchBucket')
        await store.putObject(inline('b', 'k'))
        await expectCode(store.deleteBucket('b'), 'BucketNotEmpty')
        await store.deleteObject('b', 'k')
        expect(await store.deleteBucket('b')).toEqual({ orphaned: [] })
        expect(await store.getBucket('b')).toBeNull()
      })

      test('deleteBucket() aborts uploads and returns their part blobs', async () => {
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        await store.putPart(part('u1', 1, 'r1'))
        await store.putPart(part('u1', 2, 'r2'))
        const { orphaned } = await store.deleteBucket('b')
        expect(refs(orphaned)).toEqual(['r1', 'r2'])
        expect(await store.getMultipartUpload('b', 'u1')).toBeNull()
        expect(await store.isBlobReferenced('r1')).toBe(false)
      })

      test('object operations on a missing bucket fail with NoSuchBucket', async () => {
        await expectCode(store.putObject(inline('nope', 'k')), 'NoSuchBucket')
        await expectCode(store.deleteObject('nope', 'k'), 'NoSuchBucket')
        await expectCode(store.listObjects('nope', list({})), 'NoSuchBucket')
        await expectCode(store.createMultipartUpload(upload('nope', 'k', 'u')), 'NoSuchBucket')
        await expectCode(
          store.listMultipartUploads('nope', {
            prefix: '',
            delimiter: null,
            keyMarker: null,
            uploadIdMarker: null,
            maxUploads: 10,
          }),
          'NoSuchBucket',
        )
      })
    })

    describe('objects', () => {
      test('getObject() returns inline bytes only with withData', async () => {
        const record = inline('b', 'k', 'hello')
        expect(await store.putObject(record)).toEqual({ orphaned: [] })
        expect(await store.getObject('b', 'k', { withData: true })).toEqual(record)
        const without = await store.getObject('b', 'k')
        expect(without?.data).toEqual({ kind: 'inline', bytes: Buffer.alloc(0) })
        expect(without?.userMetadata).toEqual({ color: 'blue' })
        expect(await store.getObject('b', 'missing')).toBeNull()
      })

      test('putObject() round-trips a blob record with every field', async () => {
        const record: ObjectRecord = {
          ...blobs('b', 'k', ['r1', 'r2']),
          checksums: { CRC32: 'AAAAAA==', SHA256: 'abc=' },
          checksumType: 'COMPOSITE',
          partsCount: 2,
          partSizes: [5, 5],
          headers: { 'content-type': 'text/plain' },
        }
        await store.putObject(record)
        expect(await store.getObject('b', 'k', { withData: true })).toEqual(record)
      })

      test('putObject() over a blob object returns the replaced blobs', async () => {
        await store.putObject(blobs('b', 'k', ['r1', 'r2']))
        const { orphaned } = await store.putObject(blobs('b', 'k', ['r3']))
        expect(refs(orphaned)).toEqual(['r1', 'r2'])
        expect(orphaned[0]).toEqual({ ref: 'r1', size: 5 })
        expect(await store.isBlobReferenced('r1')).toBe(false)
        expect(await store.isBlobReferenced('r3')).toBe(true)
      })

      test('a blob referenced by two objects is orphaned only when both are gone', async () => {
        await store.putObject(blobs('b', 'k1', ['shared']))
        await store.putObject(blobs('b', 'k2', ['shared']))
        expect((await store.deleteObject('b', 'k1')).orphaned).toEqual([])
        expect(await store.isBlobReferenced('shared')).toBe(true)
        expect(refs((await store.deleteObject('b', 'k2')).orphaned)).toEqual(['shared'])
      })

      test('putObject() that keeps the same blob does not orphan it', async () => {
        await store.putObject(blobs('b', 'k', ['r1']))
        const { orphaned } = await store.putObject({ ...blobs('b', 'k', ['r1']), etag: 'e2' })
        expect(orphaned).toEqual([])
        expect(await store.isBlobReferenced('r1')).toBe(true)
      })

      test('deleteObject() reports whether it deleted and what it orphaned', async () => {
        await store.putObject(blobs('b', 'k', ['r1']))
        expect(await store.deleteObject('b', 'k')).toEqual({
          deleted: true,
          versionId: null,
          deleteMarker: false,
          orphaned: [{ ref: 'r1', size: 5 }],
        })
        expect(await store.deleteObject('b', 'k')).toEqual({
          deleted: false,
          versionId: null,
          deleteMarker: false,
          orphaned: [],
        })
        expect(await store.hasObjects('b')).toBe(false)
      })

      test('putObject() round-trips encryption: wrapped keys of inline bytes and blob pieces', async () => {
        const encryption = {
          algorithm: 'aws:kms' as const,
          kmsKeyId: 'key-1',
          customerKeyFingerprint: null,
        }
        const small: ObjectRecord = {
          ...inline('b', 'small'),
          encryption,
          data: { kind: 'inline', bytes: Buffer.from('sealed'), wrappedKey: 'dc:v1:1:abc' },
        }
        await store.putObject(small)
        expect(await store.getObject('b', 'small', { withData: true })).toEqual(small)
        const big: ObjectRecord = {
          ...blobs('b', 'big', []),
          encryption: {
            algorithm: 'AES256',
            kmsKeyId: null,
            customerKeyFingerprint: 'sse-c-hmac-v1:s:m',
          },
          data: {
            kind: 'blobs',
            parts: [
              { ref: 'r1', size: 5, wrappedKey: 'sse-c:v1:x', partNumber: 1 },
              { ref: 'r2', size: 5, wrappedKey: 'sse-c:v1:y', partNumber: 3 },
            ],
          },
        }
        await store.putObject(big)
        expect(await store.getObject('b', 'big')).toEqual(big)
        // Orphans name the blob only, never its key.
        const { orphaned } = await store.deleteObject('b', 'big')
        expect(orphaned).toEqual([
          { ref: 'r1', size: 5 },
          { ref: 'r2', size: 5 },
        ])
      })

      test('hasObjects() is true while an object remains', async () => {
        expect(await store.hasObjects('b')).toBe(false)
        await store.putObject(inline('b', 'k'))
        expect(await store.hasObjects('b')).toBe(true)
      })
    })

    describe('conditional puts', () => {
      test('ifNoneMatch "*" fails with PreconditionFailed when the key exists', async () => {
        await store.putObject(inline('b', 'k'), { ifNoneMatch: '*' })
        const err = await expectCode(
          store.putObject(inline('b', 'k', 'new'), { ifNoneMatch: '*' }),
          'PreconditionFailed',
        )
        expect(err.details.reason).toBe('exists')
        const kept = await store.getObject('b', 'k', { withData: true })
        expect(kept?.data).toEqual({ kind: 'inline', bytes: Buffer.from('data') })
      })

      test('ifMatch requires the key to exist with that etag', async () => {
        await expectCode(store.putObject(inline('b', 'k'), { ifMatch: '*' }), 'PreconditionFailed')
        await expectCode(store.putObject(inline('b', 'k'), { ifMatch: 'e1' }), 'PreconditionFailed')
        await store.putObject({ ...inline('b', 'k'), etag: 'e1' })
        await expectCode(store.putObject(inline('b', 'k'), { ifMatch: 'e2' }), 'PreconditionFailed')
        await store.putObject({ ...inline('b', 'k'), etag: 'e2' }, { ifMatch: 'e1' })
        await store.putObject({ ...inline('b', 'k'), etag: 'e3' }, { ifMatch: '*' })
        expect((await store.getObject('b', 'k'))?.etag).toBe('e3')
      })

      test('of concurrent ifNoneMatch puts to one key exactly one wins', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            store.putObject({ ...inline('b', 'k'), etag: `e${i}` }, { ifNoneMatch: '*' }),
          ),
        )
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
        for (const r of results) {
          if (r.status === 'rejected')
            expect((r.reason as MetaError).code).toBe('PreconditionFailed')
        }
      })
    })

    describe('group commit', () => {
      test('500 concurrent puts are all durable after reopening', async () => {
        const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`)
        await Promise.all(keys.map((k) => store.putObject(inline('b', k, k))))
        await store.close()
        const reopened = await open()
        const page = await reopened.listObjects('b', list({ maxKeys: 1000 }))
        expect(page.objects).toHaveLength(500)
        const one = await reopened.getObject('b', 'key-321', { withData: true })
        expect(one?.data).toEqual({ kind: 'inline', bytes: Buffer.from('key-321') })
      })

      test('a failing op in a batch does not fail the others', async () => {
        await store.putObject(inline('b', 'taken'))
        const results = await Promise.allSettled([
          store.putObject(inline('b', 'a')),
          store.putObject(inline('b', 'taken', 'x'), { ifNoneMatch: '*' }),
          store.putObject(inline('nope', 'c')),
          store.createBucket(bucket('b')),
          store.putObject(inline('b', 'd')),
        ])
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'rejected',
          'rejected',
          'rejected',
          'fulfilled',
        ])
        const page = await store.listObjects('b', list({}))
        expect(page.objects.map((o) => o.key)).toEqual(['a', 'd', 'taken'])
      })

      test('writes queued before close() still commit; later calls fail with StoreClosed', async () => {
        const pending = store.putObject(inline('b', 'late'))
        await store.close()
        await pending
        await expectCode(store.getBucket('b'), 'StoreClosed')
        await expectCode(store.putObject(inline('b', 'k')), 'StoreClosed')
        const reopened = await open()
        expect(await reopened.getObject('b', 'late')).not.toBeNull()
      })
    })

    describe('listObjects', () => {
      const put = (keys: readonly string[]) =>
        Promise.all(keys.map((k) => store.putObject(inline('b', k))))

      test('orders keys by UTF-8 bytes, not UTF-16 code units', async () => {
        // U+FFFD is EF BF BD in UTF-8; U+1F600 is F0 9F 98 80 but D83D DE00 in UTF-16.
        const keys = ['a\u{1f600}', 'a\ufffd', 'aé', 'az', 'a', 'A', 'a b']
        await put(keys)
        const page = await store.listObjects('b', list({}))
        expect(page.objects.map((o) => o.key)).toEqual(byteSorted(keys))
        expect(page.objects.map((o) => o.key)).toEqual([
          'A',
          'a',
          'a b',
          'az',
          'aé',
          'a\ufffd',
          'a\u{1f600}',
        ])
        expect(page.isTruncated).toBe(false)
      })

      test('returns summaries with checksum algorithms', async () => {
        await store.putObject({ ...inline('b', 'k'), checksums: { CRC32C: 'x', SHA1: 'y' } })
        const page = await store.listObjects('b', list({}))
        expect(page.objects[0]).toEqual({
          key: 'k',
          size: 4,
          etag: 'etag',
          lastModified: 1_700_000_000_000,
          checksumAlgorithms: ['CRC32C', 'SHA1'],
        })
      })

      test('filters by prefix and rolls keys up into common prefixes', async () => {
        await put([
          'a.b',
          'a/',
          'a/x',
          'a/y/z',
          'a0',
          'b/1',
          'b/2',
          'c',
          'photos/2024/x',
          'photos/y',
        ])
        const root = await store.listObjects('b', list({ delimiter: '/' }))
        expect(root.objects.map((o) => o.key)).toEqual(['a.b', 'a0', 'c'])
        expect(root.commonPrefixes).toEqual(['a/', 'b/', 'photos/'])
        expect(root.lastReturned).toBe('photos/')
        const photos = await store.listObjects('b', list({ prefix: 'photos/', delimiter: '/' }))
        expect(photos.objects.map((o) => o.key)).toEqual(['photos/y'])
        expect(photos.commonPrefixes).toEqual(['photos/2024/'])
        const a = await store.listObjects('b', list({ prefix: 'a/' }))
        expect(a.objects.map((o) => o.key)).toEqual(['a/', 'a/x', 'a/y/z'])
        const none = await store.listObjects('b', list({ prefix: 'zzz' }))
        expect(none).toEqual({
          objects: [],
          commonPrefixes: [],
          isTruncated: false,
          lastReturned: null,
        })
      })

      test('supports a multi-character delimiter', async () => {
        await put(['x--1--a', 'x--1--b', 'x--2', 'x-3'])
        const page = await store.listObjects('b', list({ prefix: 'x--', delimiter: '--' }))
        expect(page.commonPrefixes).toEqual(['x--1--'])
        expect(page.objects.map((o) => o.key)).toEqual(['x--2'])
      })

      test('isTruncated is exact and a common prefix counts towards maxKeys', async () => {
        await put(['a', 'b/1', 'b/2', 'c'])
        const three = await store.listObjects('b', list({ delimiter: '/', maxKeys: 3 }))
        expect(three.objects.map((o) => o.key)).toEqual(['a', 'c'])
        expect(three.commonPrefixes).toEqual(['b/'])
        expect(three.isTruncated).toBe(false)
        const two = await store.listObjects('b', list({ delimiter: '/', maxKeys: 2 }))
        expect(two.commonPrefixes).toEqual(['b/'])
        expect(two.isTruncated).toBe(true)
        expect(two.lastReturned).toBe('b/')
        const flat = await store.listObjects('b', list({ maxKeys: 4 }))
        expect(flat.isTruncated).toBe(false)
        const last = await store.listObjects('b', list({ maxKeys: 1, after: 'b/2' }))
        expect(last.objects.map((o) => o.key)).toEqual(['c'])
        expect(last.isTruncated).toBe(false)
      })

      test('ends a page on a common prefix whose keys are the last ones as not truncated', async () => {
        await put(['a', 'z/1', 'z/2'])
        const page = await store.listObjects('b', list({ delimiter: '/', maxKeys: 2 }))
        expect(page.commonPrefixes).toEqual(['z/'])
        expect(page.isTruncated).toBe(false)
      })

      test('an after equal to a returned common prefix continues past all its keys', async () => {
        await put(['a/1', 'a/2', 'a/3', 'a0', 'b'])
        const page = await store.listObjects('b', list({ delimiter: '/', after: 'a/' }))
        expect(page.commonPrefixes).toEqual([])
        expect(page.objects.map((o) => o.key)).toEqual(['a0', 'b'])
        // Without a delimiter, "a/" is just a key position.
        const flat = await store.listObjects('b', list({ after: 'a/' }))
        expect(flat.objects.map((o) => o.key)).toEqual(['a/1', 'a/2', 'a/3', 'a0', 'b'])
      })

      test('an after before the prefix starts at the prefix', async () => {
        await put(['a', 'p/1', 'p/2', 'q'])
        const page = await store.listObjects('b', list({ prefix: 'p/', after: 'a' }))
        expect(page.objects.map((o) => o.key)).toEqual(['p/1', 'p/2'])
      })

      test('pages of every size add up to the full listing', async () => {
        const keys = [
          'a',
          'b/1',
          'b/2',
          'b/3/x',
          'b0',
          'c/é/1',
          'c/é/2',
          'c/z',
          'd',
          'e\u{1f600}/1',
          'e\ufffd/1',
          'f/',
          'f//',
          'g',
        ]
        await put(keys)
        for (const delimiter of [null, '/']) {
          for (const prefix of ['', 'b', 'c/']) {
            const full = await store.listObjects('b', list({ prefix, delimiter, maxKeys: 1000 }))
            expect(entries(full)).toEqual(model(keys, prefix, delimiter))
            for (let maxKeys = 1; maxKeys <= 5; maxKeys++) {
              const seen: string[] = []
              let after: string | null = null
              for (let pages = 0; pages < 50; pages++) {
                const page: ListObjectsResult = await store.listObjects(
                  'b',
                  list({ prefix, delimiter, maxKeys, after }),
                )
                expect(page.objects.length + page.commonPrefixes.length).toBeLessThanOrEqual(
                  maxKeys,
                )
                seen.push(...entries(page))
                if (!page.isTruncated) break
                after = page.lastReturned
              }
              expect(seen).toEqual(entries(full))
            }
          }
        }
      })

      test('rolls up many keys under one prefix into a single entry', async () => {
        await put(Array.from({ length: 300 }, (_, i) => `dir/${String(i).padStart(4, '0')}`))
        await put(['after'])
        const page = await store.listObjects('b', list({ delimiter: '/', maxKeys: 1 }))
        expect(page.objects.map((o) => o.key)).toEqual(['after'])
        expect(page.isTruncated).toBe(true)
        const next = await store.listObjects('b', list({ delimiter: '/', after: 'after' }))
        expect(next.commonPrefixes).toEqual(['dir/'])
        expect(next.isTruncated).toBe(false)
      })

      test('maxKeys 0 returns nothing and reports whether keys remain', async () => {
        const empty = await store.listObjects('b', list({ maxKeys: 0 }))
        expect(empty.isTruncated).toBe(false)
        await put(['k'])
        const page = await store.listObjects('b', list({ maxKeys: 0 }))
        expect(page.objects).toEqual([])
        expect(page.isTruncated).toBe(true)
        expect(page.lastReturned).toBeNull()
      })
    })

    describe('multipart uploads', () => {
      test('putPart() records parts and replaces one of the same number', async () => {
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        expect(await store.getMultipartUpload('b', 'u1')).toEqual(upload('b', 'k', 'u1'))
        expect(await store.getMultipartUpload('other', 'u1')).toBeNull()
        expect(await store.putPart(part('u1', 1, 'r1'))).toEqual({ orphaned: [] })
        expect(await store.putPart(part('u1', 2, 'r2'))).toEqual({ orphaned: [] })
        const replaced = await store.putPart(part('u1', 1, 'r1b'))
        expect(replaced.orphaned).toEqual([{ ref: 'r1', size: 5 }])
        expect(await store.allParts('u1')).toEqual([part('u1', 1, 'r1b'), part('u1', 2, 'r2')])
        expect(await store.isBlobReferenced('r2')).toBe(true)
      })

      test('an encrypted upload keeps its encryption and each part its wrapped key', async () => {
        const encryption = {
          algorithm: 'AES256' as const,
          kmsKeyId: null,
          customerKeyFingerprint: 'sse-c-hmac-v1:s:m',
        }
        const u = { ...upload('b', 'k', 'u1'), encryption }
        await store.createMultipartUpload(u)
        expect(await store.getMultipartUpload('b', 'u1')).toEqual(u)
        const p = { ...part('u1', 1, 'r1'), blob: { ref: 'r1', size: 5, wrappedKey: 'sse-c:v1:z' } }
        await store.putPart(p)
        expect(await store.allParts('u1')).toEqual([p])
        expect((await store.listParts('u1', { after: 0, maxParts: 5 })).parts).toEqual([p])
      })

      test('putPart() on a missing upload fails with NoSuchUpload', async () => {
        await expectCode(store.putPart(part('nope', 1, 'r')), 'NoSuchUpload')
        await expectCode(store.listParts('nope', { after: 0, maxParts: 10 }), 'NoSuchUpload')
      })

      test('listParts() pages by part number with exact truncation', async () => {
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        for (const n of [1, 2, 3, 5]) await store.putPart(part('u1', n, `r${n}`))
        const first = await store.listParts('u1', { after: 0, maxParts: 2 })
        expect(first.parts.map((p) => p.partNumber)).toEqual([1, 2])
        expect(first.isTruncated).toBe(true)
        const rest = await store.listParts('u1', { after: 2, maxParts: 2 })
        expect(rest.parts.map((p) => p.partNumber)).toEqual([3, 5])
        expect(rest.isTruncated).toBe(false)
      })

      test('completeMultipartUpload() writes the object and orphans unused parts and the old object', async () => {
        await store.putObject(blobs('b', 'k', ['old']))
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        for (const n of [1, 2, 3]) await store.putPart(part('u1', n, `p${n}`))
        const record = { ...blobs('b', 'k', ['p1', 'p3']), partsCount: 2, partSizes: [5, 5] }
        const { orphaned } = await store.completeMultipartUpload('u1', record)
        expect(refs(orphaned)).toEqual(['old', 'p2'])
        expect(await store.getObject('b', 'k', { withData: true })).toEqual(record)
        expect(await store.getMultipartUpload('b', 'u1')).toBeNull()
        expect(await store.isBlobReferenced('p1')).toBe(true)
        expect(await store.isBlobReferenced('p2')).toBe(false)
        await expectCode(store.completeMultipartUpload('u1', record), 'NoSuchUpload')
      })

      test("completeMultipartUpload() keeps each part's checksums with the object", async () => {
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        for (const n of [1, 2]) await store.putPart(part('u1', n, `p${n}`))
        const record: ObjectRecord = {
          ...blobs('b', 'k', ['p1', 'p2']),
          checksums: { CRC32: 'AAAAAA==' },
          checksumType: 'FULL_OBJECT',
          partsCount: 2,
          partSizes: [5, 5],
          partChecksums: [{ CRC32: 'AQIDBA==' }, { CRC32: 'BQYHCA==' }],
        }
        await store.completeMultipartUpload('u1', record)
        expect(await store.getObject('b', 'k', { withData: true })).toEqual(record)
        // An overwrite by a single-part object drops them.
        await store.putObject(inline('b', 'k'))
        expect((await store.getObject('b', 'k'))?.partChecksums ?? null).toBeNull()
      })

      test("a noncurrent version keeps its parts' checksums", async () => {
        await store.setBucketVersioning('b', 'Enabled')
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        for (const n of [1, 2]) await store.putPart(part('u1', n, `p${n}`))
        const record: ObjectRecord = {
          ...blobs('b', 'k', ['p1', 'p2']),
          versionId: 'v1',
          checksums: { CRC32: 'AAAAAA==' },
          checksumType: 'FULL_OBJECT',
          partsCount: 2,
          partSizes: [5, 5],
          partChecksums: [{ CRC32: 'AQIDBA==' }, { CRC32: 'BQYHCA==' }],
        }
        await store.completeMultipartUpload('u1', record)
        await store.putObject({ ...inline('b', 'k'), versionId: 'v2' })
        const old = await store.getObject('b', 'k', { versionId: 'v1' })
        expect(old?.partChecksums).toEqual(record.partChecksums)
      })

      test('concurrent completions of one upload: one wins, the other gets NoSuchUpload', async () => {
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        await store.putPart(part('u1', 1, 'p1'))
        const record = blobs('b', 'k', ['p1'])
        const results = await Promise.allSettled([
          store.completeMultipartUpload('u1', record),
          store.completeMultipartUpload('u1', record),
        ])
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
        const failed = results.find((r) => r.status === 'rejected')
        expect(failed?.reason).toBeInstanceOf(MetaError)
        expect((failed?.reason as MetaError | undefined)?.code).toBe('NoSuchUpload')
        expect(await store.isBlobReferenced('p1')).toBe(true)
      })

      test('completeMultipartUpload() checks its condition and keeps the upload when it fails', async () => {
        await store.putObject(inline('b', 'k'))
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        await store.putPart(part('u1', 1, 'p1'))
        await expectCode(
          store.completeMultipartUpload('u1', blobs('b', 'k', ['p1']), { ifNoneMatch: '*' }),
          'PreconditionFailed',
        )
        expect(await store.getMultipartUpload('b', 'u1')).not.toBeNull()
        expect(await store.allParts('u1')).toHaveLength(1)
      })

      test('abortMultipartUpload() removes the upload and returns its part blobs', async () => {
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        await store.putPart(part('u1', 1, 'p1'))
        await expectCode(store.abortMultipartUpload('other', 'u1'), 'NoSuchBucket', 'NoSuchUpload')
        expect(refs((await store.abortMultipartUpload('b', 'u1')).orphaned)).toEqual(['p1'])
        await expectCode(store.abortMultipartUpload('b', 'u1'), 'NoSuchUpload')
        await expectCode(store.putPart(part('u1', 2, 'p2')), 'NoSuchUpload')
      })

      test('listMultipartUploads() orders by key then initiation and honours markers', async () => {
        await store.createMultipartUpload(upload('b', 'k2', 'u-a', 30))
        await store.createMultipartUpload(upload('b', 'k1', 'u-z', 10))
        await store.createMultipartUpload(upload('b', 'k1', 'u-b', 20))
        await store.createMultipartUpload(upload('b', 'd/x', 'u-d', 5))
        await store.createMultipartUpload(upload('b', 'd/y', 'u-e', 5))
        const opts = { prefix: '', delimiter: null, keyMarker: null, uploadIdMarker: null }
        const all = await store.listMultipartUploads('b', { ...opts, maxUploads: 100 })
        expect(all.uploads.map((u) => u.uploadId)).toEqual(['u-d', 'u-e', 'u-z', 'u-b', 'u-a'])
        expect(all.isTruncated).toBe(false)

        const first = await store.listMultipartUploads('b', { ...opts, maxUploads: 3 })
        expect(first.uploads.map((u) => u.uploadId)).toEqual(['u-d', 'u-e', 'u-z'])
        expect(first.isTruncated).toBe(true)
        expect([first.nextKeyMarker, first.nextUploadIdMarker]).toEqual(['k1', 'u-z'])
        const second = await store.listMultipartUploads('b', {
          ...opts,
          keyMarker: 'k1',
          uploadIdMarker: 'u-z',
          maxUploads: 3,
        })
        expect(second.uploads.map((u) => u.uploadId)).toEqual(['u-b', 'u-a'])
        expect(second.isTruncated).toBe(false)

        const keyOnly = await store.listMultipartUploads('b', {
          ...opts,
          keyMarker: 'k1',
          maxUploads: 10,
        })
        expect(keyOnly.uploads.map((u) => u.uploadId)).toEqual(['u-a'])

        const rolled = await store.listMultipartUploads('b', {
          ...opts,
          delimiter: '/',
          maxUploads: 2,
        })
        expect(rolled.commonPrefixes).toEqual(['d/'])
        expect(rolled.uploads.map((u) => u.uploadId)).toEqual(['u-z'])
        expect(rolled.isTruncated).toBe(true)
        const afterPrefix = await store.listMultipartUploads('b', {
          ...opts,
          delimiter: '/',
          keyMarker: 'd/',
          maxUploads: 10,
        })
        expect(afterPrefix.commonPrefixes).toEqual([])
        expect(afterPrefix.uploads.map((u) => u.uploadId)).toEqual(['u-z', 'u-b', 'u-a'])
        expect(afterPrefix.nextUploadIdMarker).toBe('u-a')

        const prefixed = await store.listMultipartUploads('b', {
          ...opts,
          prefix: 'k1',
          maxUploads: 10,
        })
        expect(prefixed.uploads.map((u) => u.uploadId)).toEqual(['u-z', 'u-b'])
      })
    })

    describe('tags and CORS rules', () => {
      const tags = [
        { key: 'team', value: 'blue' },
        { key: 'a', value: '' },
      ]
      const ev = (text: string) => ({ events: [new TextEncoder().encode(text)] })
      const outbox = async () =>
        (await store.readLedgerOutbox(100)).map((e) => new TextDecoder().decode(e.entry))

      test('an object keeps its tags in order; an overwrite without tags drops them', async () => {
        await store.putObject({ ...inline('b', 'k'), tags })
        expect((await store.getObject('b', 'k'))?.tags).toEqual(tags)
        await store.putObject(inline('b', 'k'))
        expect((await store.getObject('b', 'k'))?.tags).toBeUndefined()
      })

      test('setObjectTags() replaces only the tags, atomically with its event', async () => {
        const record = inline('b', 'k', 'bytes')
        await store.putObject(record)
        await store.setObjectTags('b', 'k', tags, ev('tagged'))
        expect(await store.getObject('b', 'k', { withData: true })).toEqual({ ...record, tags })
        await store.setObjectTags('b', 'k', [], ev('untagged'))
        expect(await store.getObject('b', 'k', { withData: true })).toEqual(record)
        expect(await outbox()).toEqual(['tagged', 'untagged'])
      })

      test('setObjectTags() on a missing key or bucket fails and logs nothing', async () => {
        await expectCode(store.setObjectTags('b', 'missing', tags, ev('x')), 'NoSuchKey')
        await expectCode(store.setObjectTags('nope', 'k', tags, ev('x')), 'NoSuchBucket')
        await store.putObject({ ...inline('b', 'k'), tags })
        await store.deleteObject('b', 'k')
        await store.putObject(inline('b', 'k'))
        expect((await store.getObject('b', 'k'))?.tags).toBeUndefined()
        expect(await outbox()).toEqual([])
      })

      test('an upload keeps the tags its object will get', async () => {
        await store.createMultipartUpload({ ...upload('b', 'k', 'u1'), tags })
        expect((await store.getMultipartUpload('b', 'u1'))?.tags).toEqual(tags)
        await store.createMultipartUpload(upload('b', 'k', 'u2'))
        expect((await store.getMultipartUpload('b', 'u2'))?.tags).toBeUndefined()
      })

      test('setBucketTags() and setBucketCors() set, replace and remove, with their events', async () => {
        const rule = {
          id: 'r1',
          allowedOrigins: ['https://*.example.com'],
          allowedMethods: ['GET', 'PUT'],
          allowedHeaders: ['*'],
          exposeHeaders: ['ETag'],
          maxAgeSeconds: 300,
        }
        await store.setBucketTags('b', tags, ev('tags'))
        await store.setBucketCors('b', [rule], ev('cors'))
        expect(await store.getBucket('b')).toEqual({ ...bucket('b'), tags, cors: [rule] })
        await store.setBucketTags('b', [tags[0] as { key: string; value: string }])
        expect((await store.getBucket('b'))?.tags).toEqual([tags[0]])
        await store.setBucketTags('b', null)
        await store.setBucketCors('b', null)
        expect(await store.getBucket('b')).toEqual(bucket('b'))
        await expectCode(store.setBucketTags('nope', tags, ev('x')), 'NoSuchBucket')
        await expectCode(store.setBucketCors('nope', [rule], ev('x')), 'NoSuchBucket')
        expect(await outbox()).toEqual(['tags', 'cors'])
      })
    })

    describe('access control', () => {
      const acl = {
        owner: 'a'.repeat(64),
        grants: [
          {
            grantee: { type: 'CanonicalUser' as const, id: 'a'.repeat(64) },
            permission: 'FULL_CONTROL' as const,
          },
          {
            grantee: {
              type: 'Group' as const,
              uri: 'http://acs.amazonaws.com/groups/global/AllUsers',
            },
            permission: 'READ' as const,
          },
        ],
      }
      const block = {
        blockPublicAcls: true,
        ignorePublicAcls: false,
        blockPublicPolicy: true,
        restrictPublicBuckets: false,
      }
      const ev = (text: string) => ({ events: [new TextEncoder().encode(text)] })
      const outbox = async () =>
        (await store.readLedgerOutbox(100)).map((e) => new TextDecoder().decode(e.entry))

      test('a bucket is created with its access settings and keeps each one apart', async () => {
        await store.createBucket({
          ...bucket('c'),
          ownership: 'BucketOwnerEnforced',
          publicAccessBlock: block,
        })
        expect(await store.getBucket('c')).toEqual({
          ...bucket('c'),
          ownership: 'BucketOwnerEnforced',
          publicAccessBlock: block,
        })
        await store.setBucketPolicy('c', '{"Statement":[]}', ev('policy'))
        await store.setBucketAcl('c', acl, ev('acl'))
        await store.setBucketOwnership('c', 'ObjectWriter', ev('ownership'))
        await store.setBucketPublicAccessBlock('c', { ...block, ignorePublicAcls: true }, ev('pab'))
        expect(await store.getBucket('c')).toEqual({
          ...bucket('c'),
          policy: '{"Statement":[]}',
          acl,
          ownership: 'ObjectWriter',
          publicAccessBlock: { ...block, ignorePublicAcls: true },
        })
        await store.setBucketPolicy('c', null)
        await store.setBucketAcl('c', null)
        await store.setBucketOwnership('c', null)
        await store.setBucketPublicAccessBlock('c', null)
        expect(await store.getBucket('c')).toEqual(bucket('c'))
        expect(await outbox()).toEqual(['policy', 'acl', 'ownership', 'pab'])
      })

      test('a bucket created with Object Lock is versioned; its default retention can change', async () => {
        await store.createBucket({ ...bucket('l'), objectLock: {}, versioning: 'Enabled' })
        expect(await store.getBucket('l')).toEqual({
          ...bucket('l'),
          objectLock: {},
          versioning: 'Enabled',
        })
        const config = { defaultRetention: { mode: 'COMPLIANCE' as const, years: 2 } }
        await store.setBucketObjectLock('l', config, ev('lock'))
        expect((await store.getBucket('l'))?.objectLock).toEqual(config)
        expect(await outbox()).toEqual(['lock'])
        await expectCode(store.setBucketObjectLock('nope', config, ev('x')), 'NoSuchBucket')
        expect(await outbox()).toEqual(['lock'])
      })

      test('the setters refuse a missing bucket and log nothing', async () => {
        await expectCode(store.setBucketPolicy('nope', '{}', ev('x')), 'NoSuchBucket')
        await expectCode(store.setBucketAcl('nope', acl, ev('x')), 'NoSuchBucket')
        await expectCode(store.setBucketOwnership('nope', 'ObjectWriter', ev('x')), 'NoSuchBucket')
        await expectCode(store.setBucketPublicAccessBlock('nope', block, ev('x')), 'NoSuchBucket')
        expect(await outbox()).toEqual([])
      })

      test('an object keeps its ACL with its row; an overwrite without one drops it', async () => {
        await store.putObject({ ...inline('b', 'k'), acl })
        expect((await store.getObject('b', 'k'))?.acl).toEqual(acl)
        await store.putObject(inline('b', 'k'))
        expect((await store.getObject('b', 'k'))?.acl).toBeUndefined()
      })

      test('setObjectAcl() replaces only the ACL, atomically with its event', async () => {
        const record = inline('b', 'k', 'bytes')
        await store.putObject(record)
        await store.setObjectAcl('b', 'k', acl, ev('acl'))
        expect(await store.getObject('b', 'k', { withData: true })).toEqual({ ...record, acl })
        await store.setObjectAcl('b', 'k', null, ev('reset'))
        expect(await store.getObject('b', 'k', { withData: true })).toEqual(record)
        await expectCode(store.setObjectAcl('b', 'missing', acl, ev('x')), 'NoSuchKey')
        expect(await outbox()).toEqual(['acl', 'reset'])
      })

      test('an upload keeps the ACL its object will get', async () => {
        await store.createMultipartUpload({ ...upload('b', 'k', 'u1'), acl })
        expect((await store.getMultipartUpload('b', 'u1'))?.acl).toEqual(acl)
        await store.createMultipartUpload(upload('b', 'k', 'u2'))
        expect((await store.getMultipartUpload('b', 'u2'))?.acl).toBeUndefined()
      })
    })

    describe('ledger outbox', () => {
      const ev = (text: string) => ({ events: [new TextEncoder().encode(text)] })
      const texts = async (m: MetaStore) =>
        (await m.readLedgerOutbox(100)).map((e) => new TextDecoder().decode(e.entry))

      test('events commit with their change, in order, and survive a reopen', async () => {
        let woken = 0
        store.onLedgerOutbox(() => woken++)
        await store.createBucket(bucket('c'), ev('create c'))
        await store.putObject(inline('c', 'k'), undefined, ev('put k'))
        await store.deleteObject('c', 'k', ev('delete k'))
        await store.deleteBucket('c', ev('delete c'))
        expect(await texts(store)).toEqual(['create c', 'put k', 'delete k', 'delete c'])
        expect(store.ledgerOutboxSize()).toBe(4)
        expect(woken).toBeGreaterThan(0)
        await store.close()
        const reopened = await open()
        expect(await texts(reopened)).toEqual(['create c', 'put k', 'delete k', 'delete c'])
        expect(reopened.ledgerOutboxSize()).toBe(4)
      })

      test('a change that fails leaves no event', async () => {
        await expectCode(store.createBucket(bucket('b'), ev('dup')), 'BucketAlreadyExists')
        await store.putObject(inline('b', 'k'))
        await expectCode(
          store.putObject(inline('b', 'k'), { ifNoneMatch: '*' }, ev('conditional')),
          'PreconditionFailed',
        )
        await expectCode(store.deleteBucket('b', ev('not empty')), 'BucketNotEmpty')
        await expectCode(
          store.completeMultipartUpload('nope', inline('b', 'k'), undefined, ev('mpu')),
          'NoSuchUpload',
        )
        expect(await texts(store)).toEqual([])
        expect(store.ledgerOutboxSize()).toBe(0)
      })

      test('ackLedgerOutbox() forgets entries up to a sequence number', async () => {
        for (const k of ['a', 'b', 'c']) await store.putObject(inline('b', k), undefined, ev(k))
        const [first, second] = await store.readLedgerOutbox(2)
        expect(first?.seq).toBeLessThan(second?.seq ?? 0)
        await store.ackLedgerOutbox(second?.seq ?? 0)
        expect(await texts(store)).toEqual(['c'])
        expect(store.ledgerOutboxSize()).toBe(1)
      })
    })

    describe('transfer progress', () => {
      const object = { key: 'k', size: 10, etag: 'e1' }

      test('counts an object once however often its progress is recorded, and survives a reopen', async () => {
        expect(await store.transferObject('t1', 'k')).toBeNull()
        await store.recordTransferObject('t1', { ...object, state: 'copied' })
        expect(await store.transferCounts('t1')).toEqual({
          objectsDone: 0,
          bytesDone: 0,
          objectsMissing: 0,
        })
        await store.recordTransferObject('t1', { ...object, state: 'done' })
        const again = await store.recordTransferObject('t1', { ...object, state: 'done' })
        expect(again).toEqual({ objectsDone: 1, bytesDone: 10, objectsMissing: 0 })
        const counts = await store.recordTransferObject('t1', {
          key: 'gone',
          size: 0,
          etag: '',
          state: 'missing',
        })
        expect(counts).toEqual({ objectsDone: 1, bytesDone: 10, objectsMissing: 1 })
        await store.close()
        const reopened = await open()
        expect(await reopened.transferObject('t1', 'k')).toEqual({ ...object, state: 'done' })
        expect(await reopened.transferCounts('t1')).toEqual(counts)
      })

      test('keeps transfers apart, and forgetTransfer() drops only the one named', async () => {
        await store.recordTransferObject('t1', { ...object, state: 'done' })
        await store.recordTransferObject('t2', { ...object, state: 'copied' })
        expect((await store.transferObject('t2', 'k'))?.state).toBe('copied')
        await store.forgetTransfer('t1')
        expect(await store.transferObject('t1', 'k')).toBeNull()
        expect((await store.transferCounts('t1')).objectsDone).toBe(0)
        expect((await store.transferObject('t2', 'k'))?.state).toBe('copied')
      })

      test('listTransferObjects() pages through one state in key order', async () => {
        for (const key of ['c', 'a', 'b', 'd']) {
          await store.recordTransferObject('t1', { ...object, key, state: 'copied' })
        }
        await store.recordTransferObject('t1', { ...object, key: 'b', state: 'done' })
        await store.recordTransferObject('t2', { ...object, key: 'a0', state: 'copied' })
        const page = (after: string) =>
          store.listTransferObjects('t1', { state: 'copied', after, limit: 2 })
        expect((await page('')).map((o) => o.key)).toEqual(['a', 'c'])
        expect((await page('c')).map((o) => o.key)).toEqual(['d'])
        expect(
          (await store.listTransferObjects('t1', { state: 'done', after: '', limit: 10 })).map(
            (o) => o.key,
          ),
        ).toEqual(['b'])
      })
    })

    describe('wrapped data keys (key rotation)', () => {
      /** Every wrapped key of bucket `b`, page by page with `limit`. */
      const allKeys = async (limit: number): Promise<StoredWrappedKey[]> => {
        const out: StoredWrappedKey[] = []
        let after: WrappedKeyCursor | null = null
        for (let pages = 0; pages < 100; pages++) {
          const page = await store.listWrappedKeys('b', { after, limit })
          out.push(...page.keys)
          if (page.next === null) return out
          after = page.next
        }
        throw new Error('listWrappedKeys() never ended')
      }
      const sealedInline = (key: string, wrappedKey: string): ObjectRecord => ({
        ...inline('b', key),
        data: { kind: 'inline', bytes: Buffer.from('sealed'), wrappedKey },
      })
      const sealedBlobs = (key: string, wrapped: readonly string[]): ObjectRecord => {
        const parts = wrapped.map((wrappedKey, i) => ({
          ref: `${key}-r${i}`,
          size: 5,
          wrappedKey,
          partNumber: i + 1,
        }))
        return { ...inline('b', key), size: 5 * parts.length, data: { kind: 'blobs', parts } }
      }
      const sealedPart = (uploadId: string, n: number, wrappedKey: string): PartRecord => {
        const p = part(uploadId, n, `${uploadId}-p${n}`)
        return { ...p, blob: { ...p.blob, wrappedKey } }
      }

      test("listWrappedKeys() pages objects by key, then open uploads' parts, in a stable order", async () => {
        await store.putObject(sealedBlobs('m', ['dc:m1', 'dc:m2']))
        await store.putObject(sealedInline('a', 'dc:a'))
        await store.putObject(inline('b', 'legacy'))
        await store.putObject(sealedInline('z', 'sse-c:z'))
        await store.createMultipartUpload(upload('b', 'up', 'u2'))
        await store.createMultipartUpload(upload('b', 'up', 'u1'))
        await store.putPart(sealedPart('u2', 1, 'dc:u2p1'))
        await store.putPart(sealedPart('u1', 2, 'dc:u1p2'))
        await store.putPart(sealedPart('u1', 1, 'dc:u1p1'))
        await store.createBucket(bucket('other'))
        await store.putObject({ ...sealedInline('a', 'dc:other'), bucket: 'other' })
        const expected = [
          { location: { kind: 'inline', key: 'a' }, wrappedKey: 'dc:a' },
          { location: { kind: 'piece', key: 'm', index: 0, ref: 'm-r0' }, wrappedKey: 'dc:m1' },
          { location: { kind: 'piece', key: 'm', index: 1, ref: 'm-r1' }, wrappedKey: 'dc:m2' },
          { location: { kind: 'inline', key: 'z' }, wrappedKey: 'sse-c:z' },
          {
            location: { kind: 'part', key: 'up', uploadId: 'u1', partNumber: 1, ref: 'u1-p1' },
            wrappedKey: 'dc:u1p1',
          },
          {
            location: { kind: 'part', key: 'up', uploadId: 'u1', partNumber: 2, ref: 'u1-p2' },
            wrappedKey: 'dc:u1p2',
          },
          {
            location: { kind: 'part', key: 'up', uploadId: 'u2', partNumber: 1, ref: 'u2-p1' },
            wrappedKey: 'dc:u2p1',
          },
        ]
        for (const limit of [1, 2, 3, 1000]) expect(await allKeys(limit)).toEqual(expected)
        await expectCode(store.listWrappedKeys('nope', { after: null, limit: 5 }), 'NoSuchBucket')
      })

      test('replaceWrappedKey() swaps a key still in place, in every kind of location', async () => {
        await store.putObject(sealedInline('a', 'dc:a'))
        await store.putObject(sealedBlobs('m', ['dc:m1', 'dc:m2']))
        await store.createMultipartUpload(upload('b', 'up', 'u1'))
        await store.putPart(sealedPart('u1', 1, 'dc:u1p1'))
        for (const stored of await allKeys(10)) {
          expect(await store.replaceWrappedKey('b', stored, `${stored.wrappedKey}-new`)).toBe(true)
        }
        const a = await store.getObject('b', 'a', { withData: true })
        expect(a?.data).toEqual({
          kind: 'inline',
          bytes: Buffer.from('sealed'),
          wrappedKey: 'dc:a-new',
        })
        const m = await store.getObject('b', 'm')
        expect(m?.data).toEqual(sealedBlobs('m', ['dc:m1-new', 'dc:m2-new']).data)
        expect((await store.allParts('u1'))[0]?.blob.wrappedKey).toBe('dc:u1p1-new')
        // Nothing else of the rows changed: the blobs keep their holders.
        expect(await store.isBlobReferenced('m-r1')).toBe(true)
        expect(await store.isBlobReferenced('u1-p1')).toBe(true)
      })

      test('replaceWrappedKey() never clobbers an overwrite, a delete or a completed upload', async () => {
        await store.putObject(sealedInline('a', 'dc:a'))
        await store.putObject(sealedBlobs('m', ['dc:m1']))
        await store.putObject(sealedInline('gone', 'dc:gone'))
        await store.createMultipartUpload(upload('b', 'up', 'u1'))
        await store.putPart(sealedPart('u1', 1, 'dc:u1p1'))
        const read = await allKeys(10)
        // Meanwhile: "a" overwritten (new data key), "m" replaced by an inline object, "gone"
        // deleted, the upload completed into an object.
        await store.putObject(sealedInline('a', 'dc:a2'))
        await store.putObject(sealedInline('m', 'dc:m-inline'))
        await store.deleteObject('b', 'gone')
        await store.completeMultipartUpload('u1', sealedBlobs('up', ['dc:u1p1']))
        for (const stored of read) {
          expect(await store.replaceWrappedKey('b', stored, 'dc:rewrapped')).toBe(false)
        }
        expect((await store.getObject('b', 'a', { withData: true }))?.data).toEqual(
          sealedInline('a', 'dc:a2').data,
        )
        expect((await store.getObject('b', 'm', { withData: true }))?.data).toEqual(
          sealedInline('m', 'dc:m-inline').data,
        )
        expect(await store.getObject('b', 'gone')).toBeNull()
        expect((await store.getObject('b', 'up'))?.data).toEqual(
          sealedBlobs('up', ['dc:u1p1']).data,
        )
        // A stale read of a key that was already swapped once is refused too.
        const [fresh] = await allKeys(10)
        expect(await store.replaceWrappedKey('b', fresh as StoredWrappedKey, 'dc:x')).toBe(true)
        expect(await store.replaceWrappedKey('b', fresh as StoredWrappedKey, 'dc:y')).toBe(false)
      })

      test('replaceWrappedKey() in another bucket is a no-op', async () => {
        await store.putObject(sealedInline('a', 'dc:a'))
        const [stored] = await allKeys(10)
        await store.createBucket(bucket('other'))
        expect(await store.replaceWrappedKey('other', stored as StoredWrappedKey, 'dc:x')).toBe(
          false,
        )
        expect(await store.replaceWrappedKey('nope', stored as StoredWrappedKey, 'dc:x')).toBe(
          false,
        )
      })
    })

    describe('blob references', () => {
      test('isBlobReferenced() follows objects and parts', async () => {
        expect(await store.isBlobReferenced('r1')).toBe(false)
        await store.putObject(blobs('b', 'k', ['r1']))
        await store.createMultipartUpload(upload('b', 'k', 'u1'))
        await store.putPart(part('u1', 1, 'p1'))
        expect(await store.isBlobReferenced('r1')).toBe(true)
        expect(await store.isBlobReferenced('p1')).toBe(true)
        await store.putObject(inline('b', 'k'))
        expect(await store.isBlobReferenced('r1')).toBe(false)
      })
    })

    describe('versions', () => {
      /** Every version of the bucket as `key@id` (`*` marks a delete marker, `!` the latest). */
      const versions = async (o: Partial<ListVersionsOptions> = {}) =>
        (await store.listObjectVersions('b', vlist(o))).versions.map(
          (v) =>
            `${v.key}@${v.versionId ?? 'null'}${v.deleteMarker ? '*' : ''}${v.isLatest ? '!' : ''}`,
        )

      test('setBucketVersioning() sets the state; getBucket() reports it', async () => {
        expect((await store.getBucket('b'))?.versioning ?? null).toBeNull()
        await store.setBucketVersioning('b', 'Enabled')
        expect((await store.getBucket('b'))?.versioning).toBe('Enabled')
        await store.setBucketVersioning('b', 'Suspended')
        expect((await store.getBucket('b'))?.versioning).toBe('Suspended')
        await expectCode(store.setBucketVersioning('nope', 'Enabled'), 'NoSuchBucket')
      })

      test('a new version keeps the old one, readable by id; listings show only the current', async () => {
        await store.putObject(versioned(inline('b', 'k', 'one'), 'v1'))
        await store.putObject(versioned(inline('b', 'k', 'two'), 'v2'))
        const current = await store.getObject('b', 'k', { withData: true })
        expect(current?.versionId).toBe('v2')
        expect(current?.data).toMatchObject({ bytes: Buffer.from('two') })
        const old = await store.getObject('b', 'k', { withData: true, versionId: 'v1' })
        expect(old?.versionId).toBe('v1')
        expect(old?.data).toMatchObject({ bytes: Buffer.from('one') })
        expect(await store.getObject('b', 'k', { versionId: 'v9' })).toBeNull()
        expect((await store.listObjects('b', list({}))).objects.map((o) => o.key)).toEqual(['k'])
        expect(await versions()).toEqual(['k@v2!', 'k@v1'])
      })

      test('a delete marker hides the key until it is itself deleted', async () => {
        await store.putObject(versioned(blobs('b', 'k', ['r1']), 'v1'))
        const marked = await store.deleteObject('b', 'k', {
          marker: { versionId: 'm1', lastModified: 5 },
        })
        expect(marked).toEqual({ deleted: true, versionId: 'm1', deleteMarker: true, orphaned: [] })
        expect(await store.getObject('b', 'k')).toBeNull()
        expect(await store.getVersion('b', 'k')).toEqual({
          kind: 'deleteMarker',
          key: 'k',
          versionId: 'm1',
          lastModified: 5,
          isLatest: true,
        })
        expect(await store.getObject('b', 'k', { versionId: 'm1' })).toBeNull()
        expect((await store.getVersion('b', 'k', { versionId: 'm1' }))?.kind).toBe('deleteMarker')
        expect(await store.hasObjects('b')).toBe(false)
        expect((await store.listObjects('b', list({}))).objects).toEqual([])
        expect(await versions()).toEqual(['k@m1*!', 'k@v1'])
        await expectCode(store.deleteBucket('b'), 'BucketNotEmpty')
        expect(await store.isBlobReferenced('r1')).toBe(true)

        const removed = await store.deleteObject('b', 'k', { versionId: 'm1' })
        expect(removed).toEqual({
          deleted: true,
          versionId: 'm1',
          deleteMarker: true,
          orphaned: [],
        })
        expect((await store.getObject('b', 'k'))?.versionId).toBe('v1')
        expect(await versions()).toEqual(['k@v1!'])
      })

      test('deleting the current version by id makes the next newest current', async () => {
        await store.putObject(versioned(blobs('b', 'k', ['r1']), 'v1'))
        await store.putObject(versioned(blobs('b', 'k', ['r2']), 'v2'))
        const out = await store.deleteObject('b', 'k', { versionId: 'v2' })
        expect(out).toEqual({
          deleted: true,
          versionId: 'v2',
          deleteMarker: false,
          orphaned: [{ ref: 'r2', size: 5 }],
        })
        expect((await store.getObject('b', 'k'))?.versionId).toBe('v1')
        expect((await store.deleteObject('b', 'k', { versionId: 'v2' })).deleted).toBe(false)
        const last = await store.deleteObject('b', 'k', { versionId: 'v1' })
        expect(refs(last.orphaned)).toEqual(['r1'])
        expect(await versions()).toEqual([])
        await store.deleteBucket('b')
      })

      test('the null version is replaced in place; other versions stay (suspended bucket)', async () => {
        await store.putObject(versioned(blobs('b', 'k', ['r1']), 'v1'))
        const first = await store.putObject(blobs('b', 'k', ['n1']))
        expect(first.orphaned).toEqual([])
        await store.putObject(versioned(blobs('b', 'k', ['r2']), 'v2'))
        expect(await versions()).toEqual(['k@v2!', 'k@null', 'k@v1'])
        // Another null write replaces the noncurrent null version and becomes the newest.
        const second = await store.putObject(blobs('b', 'k', ['n2']))
        expect(refs(second.orphaned)).toEqual(['n1'])
        expect(await versions()).toEqual(['k@null!', 'k@v2', 'k@v1'])
        // A null delete marker replaces the null version too.
        const marker = await store.deleteObject('b', 'k', {
          marker: { versionId: null, lastModified: 9 },
        })
        expect(refs(marker.orphaned)).toEqual(['n2'])
        expect(await versions()).toEqual(['k@null*!', 'k@v2', 'k@v1'])
        expect((await store.getObject('b', 'k', { versionId: 'v2' }))?.versionId).toBe('v2')
      })

      test('conditional writes test the current version; a delete marker counts as missing', async () => {
        await store.putObject(versioned(inline('b', 'k'), 'v1'))
        await expectCode(
          store.putObject(versioned(inline('b', 'k'), 'v2'), { ifNoneMatch: '*' }),
          'PreconditionFailed',
        )
        await store.deleteObject('b', 'k', { marker: { versionId: 'm1', lastModified: 1 } })
        await store.putObject(versioned(inline('b', 'k'), 'v3'), { ifNoneMatch: '*' })
        expect((await store.getObject('b', 'k'))?.versionId).toBe('v3')
      })

      test('setObjectTags() tags a named version; NoSuchVersion for an unknown one', async () => {
        await store.putObject(versioned(inline('b', 'k'), 'v1'))
        await store.putObject(versioned(inline('b', 'k'), 'v2'))
        const tags = [{ key: 'a', value: '1' }]
        await store.setObjectTags('b', 'k', tags, { versionId: 'v1' })
        expect((await store.getObject('b', 'k', { versionId: 'v1' }))?.tags).toEqual(tags)
        expect((await store.getObject('b', 'k'))?.tags).toBeUndefined()
        await store.setObjectTags('b', 'k', tags, { versionId: 'v2' })
        expect((await store.getObject('b', 'k'))?.tags).toEqual(tags)
        await expectCode(store.setObjectTags('b', 'k', tags, { versionId: 'v9' }), 'NoSuchVersion')
      })

      test('listObjectVersions() pages by key and version markers, with common prefixes', async () => {
        const ids = ['v1', 'v2', 'v3']
        for (const key of ['a', 'd/x', 'd/y', 'z']) {
          for (const id of ids) await store.putObject(versioned(inline('b', key), `${key}-${id}`))
        }
        await store.deleteObject('b', 'z', { marker: { versionId: 'z-m', lastModified: 1 } })
        const all = await versions()
        expect(all).toEqual([
          'a@a-v3!',
          'a@a-v2',
          'a@a-v1',
          'd/x@d/x-v3!',
          'd/x@d/x-v2',
          'd/x@d/x-v1',
          'd/y@d/y-v3!',
          'd/y@d/y-v2',
          'd/y@d/y-v1',
          'z@z-m*!',
          'z@z-v3',
          'z@z-v2',
          'z@z-v1',
        ])
        for (const maxKeys of [1, 2, 4, 5]) {
          const seen: string[] = []
          let keyMarker: string | null = null
          let versionIdMarker: string | null = null
          for (let page = 0; page < 50; page++) {
            const out = await store.listObjectVersions(
              'b',
              vlist({ keyMarker, versionIdMarker, maxKeys }),
            )
            expect(out.versions.length).toBeLessThanOrEqual(maxKeys)
            seen.push(
              ...out.versions.map(
                (v) =>
                  `${v.key}@${v.versionId}${v.deleteMarker ? '*' : ''}${v.isLatest ? '!' : ''}`,
              ),
            )
            if (!out.isTruncated) break
            keyMarker = out.nextKeyMarker
            versionIdMarker = out.nextVersionIdMarker
          }
          expect(seen).toEqual(all)
        }
        const rolled = await store.listObjectVersions('b', vlist({ delimiter: '/' }))
        expect(rolled.commonPrefixes).toEqual(['d/'])
        expect(rolled.versions.map((v) => v.key)).toEqual(['a', 'a', 'a', 'z', 'z', 'z', 'z'])
        expect(await versions({ prefix: 'd/', keyMarker: 'd/x' })).toEqual([
          'd/y@d/y-v3!',
          'd/y@d/y-v2',
          'd/y@d/y-v1',
        ])
      })

      test('key rotation lists and re-wraps noncurrent versions too', async () => {
        const sealed = (key: string, id: string, wrapped: string): ObjectRecord =>
          versioned(
            {
              ...inline('b', key),
              data: { kind: 'inline', bytes: Buffer.from('x'), wrappedKey: wrapped },
            },
            id,
          )
        await store.putObject(sealed('k', 'v1', 'dc:old-1'))
        await store.putObject({
          ...versioned(blobs('b', 'k', ['r2']), 'v2'),
          data: { kind: 'blobs', parts: [{ ref: 'r2', size: 5, wrappedKey: 'dc:old-2' }] },
        })
        await store.putObject(sealed('k', 'v3', 'dc:old-3'))
        const found: StoredWrappedKey[] = []
        let after: WrappedKeyCursor | null = null
        for (let i = 0; i < 20; i++) {
          const page = await store.listWrappedKeys('b', { after, limit: 1 })
          found.push(...page.keys)
          if (page.next === null) break
          after = page.next
        }
        expect(found.map((k) => k.wrappedKey).sort()).toEqual(['dc:old-1', 'dc:old-2', 'dc:old-3'])
        // v3 becomes noncurrent after it was listed: the swap still finds it.
        await store.putObject(sealed('k', 'v4', 'dc:old-4'))
        for (const stored of found) {
          expect(await store.replaceWrappedKey('b', stored, `${stored.wrappedKey}-new`)).toBe(true)
        }
        for (const id of ['v1', 'v3']) {
          const r = await store.getObject('b', 'k', { versionId: id, withData: true })
          expect(r?.data.kind === 'inline' ? r.data.wrappedKey : null).toMatch(/-new$/)
        }
        const v2 = await store.getObject('b', 'k', { versionId: 'v2' })
        expect(v2?.data).toEqual({
          kind: 'blobs',
          parts: [{ ref: 'r2', size: 5, wrappedKey: 'dc:old-2-new' }],
        })
      })

      test('versions and markers survive a reopen', async () => {
        await store.setBucketVersioning('b', 'Enabled')
        await store.putObject(versioned(inline('b', 'k', 'one'), 'v1'))
        await store.deleteObject('b', 'k', { marker: { versionId: 'm1', lastModified: 1 } })
        await store.close()
        const again = await open()
        expect((await again.getBucket('b'))?.versioning).toBe('Enabled')
        expect((await again.getVersion('b', 'k'))?.kind).toBe('deleteMarker')
        const old = await again.getObject('b', 'k', { versionId: 'v1', withData: true })
        expect(old?.data).toMatchObject({ bytes: Buffer.from('one') })
        // Versions written after the reopen are still the newest.
        await again.putObject(versioned(inline('b', 'k', 'two'), 'v2'))
        expect((await again.getObject('b', 'k'))?.versionId).toBe('v2')
      })
    })

    describe('object lock', () => {
      const T0 = 1_700_000_000_000
      const DAY = 86_400_000

      test('a legal hold blocks removing the version until it is released', async () => {
        await store.putObject(versioned(blobs('b', 'k', ['r1']), 'v1'))
        await store.setObjectLegalHold('b', 'k', true, { versionId: 'v1' })
        expect((await store.getObject('b', 'k'))?.legalHold).toBe(true)
        await expectCode(store.deleteObject('b', 'k', { versionId: 'v1' }), 'ObjectLocked')
        await expectCode(
          store.deleteObject('b', 'k', { versionId: 'v1', bypassGovernance: true }),
          'ObjectLocked',
        )
        // A delete marker removes nothing: allowed, and the held version stays.
        await store.deleteObject('b', 'k', { marker: { versionId: 'm1', lastModified: T0 } })
        await expectCode(store.deleteObject('b', 'k', { versionId: 'v1' }), 'ObjectLocked')
        expect(await store.isBlobReferenced('r1')).toBe(true)
        await store.setObjectLegalHold('b', 'k', false, { versionId: 'v1' })
        const out = await store.deleteObject('b', 'k', { versionId: 'v1' })
        expect(refs(out.orphaned)).toEqual(['r1'])
      })

      test('GOVERNANCE retention yields only to the bypass, and only until it expires', async () => {
        await store.putObject({
          ...versioned(inline('b', 'k'), 'v1'),
          retention: { mode: 'GOVERNANCE', retainUntil: T0 + DAY },
        })
        expect((await store.getObject('b', 'k'))?.retention).toEqual({
          mode: 'GOVERNANCE',
          retainUntil: T0 + DAY,
        })
        await expectCode(store.deleteObject('b', 'k', { versionId: 'v1', now: T0 }), 'ObjectLocked')
        await expectCode(
          store.setObjectRetention('b', 'k', null, { versionId: 'v1', now: T0 }),
          'ObjectLocked',
        )
        // Extending needs no bypass; shortening does.
        await store.setObjectRetention(
          'b',
          'k',
          { mode: 'GOVERNANCE', retainUntil: T0 + 2 * DAY },
          { versionId: 'v1', now: T0 },
        )
        await store.setObjectRetention(
          'b',
          'k',
          { mode: 'GOVERNANCE', retainUntil: T0 + DAY },
          { versionId: 'v1', now: T0, bypassGovernance: true },
        )
        // Expired: removable by anyone.
        await store.deleteObject('b', 'k', { versionId: 'v1', now: T0 + DAY + 1 })
        expect(await store.getObject('b', 'k')).toBeNull()
        await store.putObject({
          ...versioned(inline('b', 'k'), 'v2'),
          retention: { mode: 'GOVERNANCE', retainUntil: T0 + DAY },
        })
        await store.deleteObject('b', 'k', { versionId: 'v2', now: T0, bypassGovernance: true })
      })

      test('COMPLIANCE retention can be extended, never shortened, removed or bypassed', async () => {
        await store.putObject({
          ...versioned(inline('b', 'k'), 'v1'),
          retention: { mode: 'COMPLIANCE', retainUntil: T0 + DAY },
        })
        const lock = { versionId: 'v1', now: T0, bypassGovernance: true }
        await expectCode(store.deleteObject('b', 'k', lock), 'ObjectLocked')
        for (const next of [
          null,
          { mode: 'COMPLIANCE' as const, retainUntil: T0 + DAY - 1 },
          { mode: 'GOVERNANCE' as const, retainUntil: T0 + 9 * DAY },
        ]) {
          await expectCode(store.setObjectRetention('b', 'k', next, lock), 'ObjectLocked')
        }
        await store.setObjectRetention(
          'b',
          'k',
          { mode: 'COMPLIANCE', retainUntil: T0 + 3 * DAY },
          lock,
        )
        await expectCode(
          store.deleteObject('b', 'k', { ...lock, now: T0 + 2 * DAY }),
          'ObjectLocked',
        )
        await store.deleteObject('b', 'k', { versionId: 'v1', now: T0 + 3 * DAY + 1 })
      })

      test('a locked null version is not replaced by a write or a null marker', async () => {
        await store.putObject({
          ...inline('b', 'k', 'kept'),
          lastModified: T0,
          retention: { mode: 'COMPLIANCE', retainUntil: T0 + DAY },
        })
        await expectCode(store.putObject({ ...inline('b', 'k'), lastModified: T0 }), 'ObjectLocked')
        await expectCode(
          store.deleteObject('b', 'k', { marker: { versionId: null, lastModified: T0 } }),
          'ObjectLocked',
        )
        const kept = await store.getObject('b', 'k', { withData: true })
        expect(kept?.data).toMatchObject({ bytes: Buffer.from('kept') })
        // A new version with an id leaves it alone (noncurrent, still locked).
        await store.putObject({ ...versioned(inline('b', 'k'), 'v2'), lastModified: T0 })
        await expectCode(
          store.deleteObject('b', 'k', { versionId: 'null', now: T0 }),
          'ObjectLocked',
        )
      })

      test('locks survive a reopen and move with their version', async () => {
        await store.putObject(versioned(inline('b', 'k'), 'v1'))
        await store.setObjectLegalHold('b', 'k', true)
        await store.putObject(versioned(inline('b', 'k'), 'v2'))
        await expectCode(
          store.setObjectLegalHold('b', 'k', true, { versionId: 'nope' }),
          'NoSuchVersion',
        )
        await store.close()
        const again = await open()
        expect((await again.getObject('b', 'k', { versionId: 'v1' }))?.legalHold).toBe(true)
        expect((await again.getObject('b', 'k'))?.legalHold).toBeUndefined()
        await expectCode(again.deleteObject('b', 'k', { versionId: 'v1' }), 'ObjectLocked')
        // Deleting v2 promotes v1, still held.
        await again.deleteObject('b', 'k', { versionId: 'v2' })
        expect((await again.getObject('b', 'k'))?.legalHold).toBe(true)
        await expectCode(again.deleteObject('b', 'k'), 'ObjectLocked')
      })
    })
  })
}

// ── fixtures ──────────────────────────────────────────────────────────────────

function bucket(name: string) {
  return { name, tenantId: 't1', createdAt: 1_700_000_000_000 }
}

function inline(bucketName: string, key: string, body = 'data'): ObjectRecord {
  const bytes = Buffer.from(body)
  return {
    bucket: bucketName,
    key,
    versionId: null,
    size: bytes.length,
    etag: 'etag',
    lastModified: 1_700_000_000_000,
    headers: {},
    userMetadata: { color: 'blue' },
    checksums: {},
    checksumType: null,
    partsCount: null,
    partSizes: null,
    encryption: null,
    data: { kind: 'inline', bytes },
  }
}

function blobs(bucketName: string, key: string, blobRefs: readonly string[]): ObjectRecord {
  const parts: BlobPart[] = blobRefs.map((ref) => ({ ref, size: 5 }))
  return { ...inline(bucketName, key), size: parts.length * 5, data: { kind: 'blobs', parts } }
}

function upload(
  bucketName: string,
  key: string,
  uploadId: string,
  initiated = 1,
): MultipartUploadRecord {
  return {
    uploadId,
    bucket: bucketName,
    key,
    initiated,
    tenantId: 't1',
    headers: { 'content-type': 'text/plain' },
    userMetadata: {},
    checksumAlgorithm: 'CRC32',
    checksumType: 'COMPOSITE',
    encryption: null,
  }
}

function part(uploadId: string, partNumber: number, ref: string): PartRecord {
  return {
    uploadId,
    partNumber,
    size: 5,
    etag: `etag-${partNumber}`,
    lastModified: 1_700_000_000_000,
    checksums: { CRC32: 'AAAAAA==' },
    blob: { ref, size: 5 },
  }
}

function versioned(record: ObjectRecord, versionId: string): ObjectRecord {
  return { ...record, versionId }
}

function vlist(o: Partial<ListVersionsOptions>): ListVersionsOptions {
  return {
    prefix: '',
    delimiter: null,
    keyMarker: null,
    versionIdMarker: null,
    maxKeys: 1000,
    ...o,
  }
}

function list(o: Partial<ListObjectsOptions>): ListObjectsOptions {
  return { prefix: '', delimiter: null, after: null, maxKeys: 1000, ...o }
}

function refs(parts: readonly BlobPart[]): string[] {
  return parts.map((p) => p.ref).sort()
}

function byteSorted(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
}

/** Keys and common prefixes of a page in listing order (a prefix shown with a trailing "*"). */
function entries(page: ListObjectsResult): string[] {
  const all = [...page.objects.map((o) => o.key), ...page.commonPrefixes.map((p) => `${p}*`)]
  return all.sort((a, b) =>
    Buffer.compare(Buffer.from(a.replace(/\*$/, '')), Buffer.from(b.replace(/\*$/, ''))),
  )
}

/** The obviously correct listing: filter, roll up, dedupe, in byte order. */
function model(keys: readonly string[], prefix: string, delimiter: string | null): string[] {
  const out: string[] = []
  for (const key of byteSorted(keys)) {
    if (!key.startsWith(prefix)) continue
    const at = delimiter === null ? -1 : key.indexOf(delimiter, prefix.length)
    const entry = at < 0 ? key : `${key.slice(0, at + (delimiter?.length ?? 0))}*`
    if (out[out.length - 1] !== entry) out.push(entry)
  }
  return out
}

async function expectCode(
  promise: Promise<unknown>,
  ...codes: MetaErrorCode[]
): Promise<MetaError> {
  const err = await promise.then(
    () => {
      throw new Error(`Expected a MetaError "${codes.join('" or "')}": the call succeeded`)
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(MetaError)
  expect(codes).toContain((err as MetaError).code)
  return err as MetaError
}

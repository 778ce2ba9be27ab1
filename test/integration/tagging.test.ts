// Object and bucket tagging through the AWS SDK v3: tags on PutObject, CreateMultipartUpload and
// CopyObject (COPY and REPLACE), the ?tagging operations, x-amz-tagging-count, the exact AWS
// errors for bad tag sets (and that they change nothing), GetObjectAttributes,
// x-amz-expected-bucket-owner, and the ledger events that log tag changes without their text.
import { randomBytes } from 'node:crypto'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type Tag,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LedgerEvent } from '../../src/ledger/index.js'
import { publicEvents } from '../support/public-log.js'
import { rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let ep: string
const Bucket = 'tagging'
beforeAll(async () => {
  server = await startSovra()
  ep = server.endpoint('us-west-1')
  registerRegion(ep, 'us-west-1')
  await s3().send(new CreateBucketCommand({ Bucket }))
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'us-west-1')
const tagsOf = async (Key: string) =>
  (await s3().send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet
const code = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1]
const tagging = (pairs: Array<[string, string]>) =>
  `<Tagging><TagSet>${pairs.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`

describe('object tagging', () => {
  it('PutObjectTagging, GetObjectTagging and DeleteObjectTagging round-trip a tag set', async () => {
    await s3().send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'hello' }))
    expect(await tagsOf('plain')).toEqual([])
    const TagSet: Tag[] = [
      { Key: 'team', Value: 'blue sky' },
      { Key: 'cost-centre', Value: '' },
      { Key: 'ünï:cødé/+=.@_-', Value: '文字 42' },
    ]
    await s3().send(new PutObjectTaggingCommand({ Bucket, Key: 'plain', Tagging: { TagSet } }))
    expect(await tagsOf('plain')).toEqual(TagSet)
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'plain' }))
    expect(got.TagCount).toBe(3)
    expect(await got.Body?.transformToString()).toBe('hello')
    await s3().send(new DeleteObjectTaggingCommand({ Bucket, Key: 'plain' }))
    expect(await tagsOf('plain')).toEqual([])
    // An empty TagSet is a valid document: it leaves the object without tags.
    await s3().send(new PutObjectTaggingCommand({ Bucket, Key: 'plain', Tagging: { TagSet } }))
    await s3().send(new PutObjectTaggingCommand({ Bucket, Key: 'plain', Tagging: { TagSet: [] } }))
    expect(await tagsOf('plain')).toEqual([])
    const head = await s3().send(new GetObjectCommand({ Bucket, Key: 'plain' }))
    expect(head.TagCount).toBeUndefined()
    await head.Body?.transformToString()
  })

  it('x-amz-tagging on PutObject tags the object; an overwrite replaces the tags, a delete drops them', async () => {
    await s3().send(
      new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'x', Tagging: 'a=1&b%20c=d%2Fe&empty=' }),
    )
    expect(await tagsOf('tagged')).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b c', Value: 'd/e' },
      { Key: 'empty', Value: '' },
    ])
    await s3().send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'y', Tagging: 'z=9' }))
    expect(await tagsOf('tagged')).toEqual([{ Key: 'z', Value: '9' }])
    await s3().send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'y' }))
    expect(await tagsOf('tagged')).toEqual([])
    await s3().send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'y', Tagging: 'z=9' }))
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'tagged' }))
    await s3().send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'y' }))
    expect(await tagsOf('tagged')).toEqual([])
  })

  it('CopyObject copies the source tags by default and takes x-amz-tagging with REPLACE', async () => {
    await s3().send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x', Tagging: 'k=v' }))
    await s3().send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/src` }))
    expect(await tagsOf('copy')).toEqual([{ Key: 'k', Value: 'v' }])
    await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'replaced',
        CopySource: `${Bucket}/src`,
        TaggingDirective: 'REPLACE',
        Tagging: 'other=1',
      }),
    )
    expect(await tagsOf('replaced')).toEqual([{ Key: 'other', Value: '1' }])
    await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'untagged',
        CopySource: `${Bucket}/src`,
        TaggingDirective: 'REPLACE',
      }),
    )
    expect(await tagsOf('untagged')).toEqual([])
    const bad = await rawRequest(ep, `/${Bucket}/bad-directive`, {
      method: 'PUT',
      headers: { 'x-amz-copy-source': `/${Bucket}/src`, 'x-amz-tagging-directive': 'MERGE' },
    })
    expect([bad.status, code(bad.body)]).toEqual([400, 'InvalidArgument'])
  })

  it('tags given at CreateMultipartUpload are on the completed object', async () => {
    const Key = 'multipart'
    const { UploadId } = await s3().send(
      new CreateMultipartUploadCommand({ Bucket, Key, Tagging: 'phase=one&owner=ops' }),
    )
    const part = await s3().send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(1000) }),
    )
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
    expect(await tagsOf(Key)).toEqual([
      { Key: 'phase', Value: 'one' },
      { Key: 'owner', Value: 'ops' },
    ])
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key }))
    expect(head.$metadata.httpStatusCode).toBe(200)
  })

  it('NoSuchKey for tagging a key that does not exist', async () => {
    for (const send of [
      () => s3().send(new GetObjectTaggingCommand({ Bucket, Key: 'missing' })),
      () =>
        s3().send(new PutObjectTaggingCommand({ Bucket, Key: 'missing', Tagging: { TagSet: [] } })),
      () => s3().send(new DeleteObjectTaggingCommand({ Bucket, Key: 'missing' })),
    ]) {
      const err = await s3Error(send())
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404])
    }
  })

  describe('bad tag sets get the AWS error and change nothing', () => {
    const Key = 'guarded'
    const kept = [{ Key: 'keep', Value: 'me' }]
    beforeAll(async () => {
      await s3().send(new PutObjectCommand({ Bucket, Key, Body: 'x', Tagging: 'keep=me' }))
    })

    it.each<[string, string, Tag[]]>([
      [
        '11 tags',
        'BadRequest',
        Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
      ],
      [
        'a key given twice',
        'InvalidTag',
        [
          { Key: 'a', Value: '1' },
          { Key: 'a', Value: '2' },
        ],
      ],
      ['a key of 129 characters', 'InvalidTag', [{ Key: 'k'.repeat(129), Value: 'v' }]],
      ['a value of 257 characters', 'InvalidTag', [{ Key: 'k', Value: 'v'.repeat(257) }]],
      ['an empty key', 'InvalidTag', [{ Key: '', Value: 'v' }]],
      ['a character S3 does not allow', 'InvalidTag', [{ Key: 'a*b', Value: 'v' }]],
      ['the reserved aws: prefix', 'InvalidTag', [{ Key: 'aws:cost', Value: 'v' }]],
    ])('%s → 400 %s', async (_name, expected, TagSet) => {
      const err = await s3Error(
        s3().send(new PutObjectTaggingCommand({ Bucket, Key, Tagging: { TagSet } })),
      )
      expect([err.name, err.$metadata.httpStatusCode]).toEqual([expected, 400])
      expect(await tagsOf(Key)).toEqual(kept)
    })

    it('limits are inclusive: 10 tags, a 128-character key and a 256-character value are fine', async () => {
      const TagSet = Array.from({ length: 10 }, (_, i) => ({
        Key: `${i}`.padEnd(128, 'k'),
        Value: 'v'.repeat(256),
      }))
      await s3().send(new PutObjectTaggingCommand({ Bucket, Key: 'plain', Tagging: { TagSet } }))
      expect(await tagsOf('plain')).toEqual(TagSet)
    })

    it.each([
      ['a document that does not end', '<Tagging><TagSet>'],
      ['a document without a TagSet', '<Tagging></Tagging>'],
      ['a tag without a Value', '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>'],
      ['another root element', '<Tags><TagSet></TagSet></Tags>'],
    ])('%s → 400 MalformedXML', async (_name, body) => {
      const res = await rawRequest(ep, `/${Bucket}/${Key}?tagging`, { method: 'PUT', body })
      expect([res.status, code(res.body)]).toEqual([400, 'MalformedXML'])
      expect(await tagsOf(Key)).toEqual(kept)
    })

    it.each([
      ['a key given twice', 'a=1&a=2', 'InvalidArgument'],
      ['a tag without a key', '=1', 'InvalidArgument'],
      ['a value that is not UTF-8', 'a=%FF', 'InvalidArgument'],
      ['11 tags', Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&'), 'BadRequest'],
      ['a key S3 does not allow', 'a%2Cb=1', 'InvalidTag'],
    ])('x-amz-tagging with %s (%s) → 400 %s, nothing written', async (_n, header, expected) => {
      const res = await rawRequest(ep, `/${Bucket}/never-${expected}`, {
        method: 'PUT',
        body: 'x',
        headers: { 'x-amz-tagging': header },
      })
      expect([res.status, code(res.body)]).toEqual([400, expected])
      const err = await s3Error(
        s3().send(new HeadObjectCommand({ Bucket, Key: `never-${expected}` })),
      )
      expect(err.$metadata.httpStatusCode).toBe(404)
    })
  })
})

describe('bucket tagging', () => {
  it('NoSuchTagSet until tags are set; PutBucketTagging replaces, DeleteBucketTagging removes', async () => {
    const none = await s3Error(s3().send(new GetBucketTaggingCommand({ Bucket })))
    expect([none.name, none.$metadata.httpStatusCode]).toEqual(['NoSuchTagSet', 404])
    const TagSet = Array.from({ length: 50 }, (_, i) => ({ Key: `key-${i}`, Value: `v${i}` }))
    await s3().send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet } }))
    expect((await s3().send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual(TagSet)
    const replaced = [{ Key: 'env', Value: 'prod' }]
    await s3().send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: replaced } }))
    expect((await s3().send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual(replaced)

    const tooMany = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' }))
    const err = await s3Error(
      s3().send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: tooMany } })),
    )
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(['BadRequest', 400])
    const dup = await s3Error(
      s3().send(
        new PutBucketTaggingCommand({
          Bucket,
          Tagging: {
            TagSet: [
              { Key: 'x', Value: '1' },
              { Key: 'x', Value: '2' },
            ],
          },
        }),
      ),
    )
    expect(dup.name).toBe('InvalidTag')
    const malformed = await rawRequest(ep, `/${Bucket}?tagging`, {
      method: 'PUT',
      body: tagging([['a', '1']]).replace('</Tagging>', ''),
    })
    expect([malformed.status, code(malformed.body)]).toEqual([400, 'MalformedXML'])
    expect((await s3().send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual(replaced)

    await s3().send(new DeleteBucketTaggingCommand({ Bucket }))
    const gone = await s3Error(s3().send(new GetBucketTaggingCommand({ Bucket })))
    expect(gone.name).toBe('NoSuchTagSet')
  })
})

describe('GetObjectAttributes', () => {
  it('answers ETag, size, storage class and checksum of a single-part object', async () => {
    const put = await s3().send(
      new PutObjectCommand({
        Bucket,
        Key: 'attrs',
        Body: 'attributes',
        ChecksumAlgorithm: 'SHA256',
      }),
    )
    const out = await s3().send(
      new GetObjectAttributesCommand({
        Bucket,
        Key: 'attrs',
        ObjectAttributes: ['ETag', 'ObjectSize', 'StorageClass', 'Checksum', 'ObjectParts'],
      }),
    )
    expect(out.ETag).toBe(put.ETag?.replaceAll('"', ''))
    expect(out.ObjectSize).toBe(10)
    expect(out.StorageClass).toBe('STANDARD')
    expect(out.Checksum?.ChecksumSHA256).toBe(put.ChecksumSHA256)
    expect(out.ObjectParts).toBeUndefined()
    expect(out.LastModified).toBeInstanceOf(Date)
  })

  it('gives the part count of a multipart object, and only the attributes asked for', async () => {
    const out = await s3().send(
      new GetObjectAttributesCommand({
        Bucket,
        Key: 'multipart',
        ObjectAttributes: ['ObjectParts'],
      }),
    )
    expect(out.ObjectParts?.TotalPartsCount).toBe(1)
    expect(out.ETag).toBeUndefined()
    expect(out.ObjectSize).toBeUndefined()
  })

  it('refuses a missing or unknown attribute name and a missing key', async () => {
    const none = await rawRequest(ep, `/${Bucket}/attrs?attributes`)
    expect([none.status, code(none.body)]).toEqual([400, 'InvalidRequest'])
    const unknown = await rawRequest(ep, `/${Bucket}/attrs?attributes`, {
      headers: { 'x-amz-object-attributes': 'ETag,Colour' },
    })
    expect([unknown.status, code(unknown.body)]).toEqual([400, 'InvalidArgument'])
    const err = await s3Error(
      s3().send(
        new GetObjectAttributesCommand({ Bucket, Key: 'missing', ObjectAttributes: ['ETag'] }),
      ),
    )
    expect(err.name).toBe('NoSuchKey')
  })
})

describe('x-amz-expected-bucket-owner', () => {
  it('passes with the owner ListBuckets shows and is refused with 403 AccessDenied otherwise', async () => {
    const owner = (await s3().send(new ListBucketsCommand({}))).Owner?.ID as string
    expect(owner).toMatch(/^[0-9a-f]{64}$/)
    const ok = await s3().send(
      new GetObjectTaggingCommand({ Bucket, Key: 'plain', ExpectedBucketOwner: owner }),
    )
    expect(ok.TagSet).toBeDefined()
    const other = '1'.repeat(64)
    for (const send of [
      () => s3().send(new GetObjectCommand({ Bucket, Key: 'plain', ExpectedBucketOwner: other })),
      () =>
        s3().send(
          new PutObjectCommand({
            Bucket,
            Key: 'not-written',
            Body: 'x',
            ExpectedBucketOwner: other,
          }),
        ),
      () =>
        s3().send(
          new PutBucketTaggingCommand({
            Bucket,
            Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
            ExpectedBucketOwner: other,
          }),
        ),
      () =>
        s3().send(
          new CopyObjectCommand({
            Bucket,
            Key: 'not-copied',
            CopySource: `${Bucket}/plain`,
            ExpectedSourceBucketOwner: other,
          }),
        ),
    ]) {
      const err = await s3Error(send())
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
    }
    for (const Key of ['not-written', 'not-copied']) {
      const err = await s3Error(s3().send(new HeadObjectCommand({ Bucket, Key })))
      expect(err.$metadata.httpStatusCode).toBe(404)
    }
    const gone = await s3Error(s3().send(new GetBucketTaggingCommand({ Bucket })))
    expect(gone.name).toBe('NoSuchTagSet')
  })
})

describe('ledger', () => {
  it('logs tag changes as object.tagging and bucket.config events with commitments, never the tag text', async () => {
    // Earlier tests changed this bucket's tagging too: only events from here on are this test's.
    const since = Date.now()
    const ours = (all: LedgerEvent[]) =>
      all.filter((e) => e.type === 'bucket.config' && Date.parse(e.at) >= since)
    await s3().send(new PutObjectCommand({ Bucket, Key: 'logged', Body: 'x' }))
    await s3().send(
      new PutObjectTaggingCommand({
        Bucket,
        Key: 'logged',
        Tagging: { TagSet: [{ Key: 'secret-tag-key', Value: 'secret-tag-value' }] },
      }),
    )
    await s3().send(
      new PutBucketTaggingCommand({
        Bucket,
        Tagging: { TagSet: [{ Key: 'secret-bucket-tag', Value: 'v' }] },
      }),
    )
    await s3().send(new DeleteBucketTaggingCommand({ Bucket }))
    let events: LedgerEvent[] = []
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      events = await publicEvents(server.sovra.adminEndpoint, 'us-west-1')
      if (ours(events).length >= 2) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const tagged = events.filter((e) => e.type === 'object.tagging')
    expect(tagged.length).toBeGreaterThan(0)
    expect(tagged.at(-1)).toMatchObject({ key: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect((tagged.at(-1) as { tags?: string }).tags).toMatch(/^[0-9a-f]{64}$/)
    const configs = ours(events) as Extract<LedgerEvent, { type: 'bucket.config' }>[]
    expect(configs.map((e) => [e.setting, e.config === undefined])).toEqual([
      ['tagging', false],
      ['tagging', true],
    ])
    const text = JSON.stringify(events)
    for (const secret of ['secret-tag-key', 'secret-tag-value', 'secret-bucket-tag']) {
      expect(text).not.toContain(secret)
    }
  })
})

// S3 versioning through the AWS SDK v3: a versioned bucket's whole life (put, overwrite, delete
// marker, restore an old version with CopyObject, version listings across pages), the `null`
// version of a suspended bucket, DeleteObjects with version ids, per-version tags and
// attributes, the exact AWS errors for bad input, and versions surviving a restart.
import { randomBytes } from 'node:crypto'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliOf } from '../support/cli.js'
import { rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const dir = tempDir()
let server: TestSovra
let ep: string
const DC = 'us-west-1'
beforeAll(async () => {
  server = await startSovra({ dataDir: dir.path })
  ep = server.endpoint(DC)
  registerRegion(ep, DC)
})
afterAll(async () => {
  await server?.stop()
  dir.remove()
})

const s3 = () => s3For(server, DC)
const text = async (Bucket: string, Key: string, VersionId?: string) =>
  (await s3().send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body?.transformToString()
const enable = (Bucket: string, Status: 'Enabled' | 'Suspended' = 'Enabled') =>
  s3().send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }))
/** Every version as `key@id` (`*` delete marker, `!` latest), in the server's order. */
const entries = (out: ListObjectVersionsCommandOutput, ids: Map<string, string>) => {
  const name = (id: string | undefined) => ids.get(id ?? '') ?? id
  // The SDK splits Version and DeleteMarker; the raw listing test checks the interleaving.
  return [
    ...(out.Versions ?? []).map((v) => `${v.Key}@${name(v.VersionId)}${v.IsLatest ? '!' : ''}`),
    ...(out.DeleteMarkers ?? []).map(
      (m) => `${m.Key}@${name(m.VersionId)}*${m.IsLatest ? '!' : ''}`,
    ),
  ]
}

describe('bucket versioning configuration', () => {
  it('is empty until set, then reports Enabled or Suspended', async () => {
    const Bucket = 'vconf'
    await s3().send(new CreateBucketCommand({ Bucket }))
    const before = await s3().send(new GetBucketVersioningCommand({ Bucket }))
    expect(before.Status).toBeUndefined()
    await enable(Bucket)
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
    await enable(Bucket, 'Suspended')
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Suspended')
  })

  it('refuses malformed configurations and MFA delete, changing nothing', async () => {
    const Bucket = 'vconf-bad'
    await s3().send(new CreateBucketCommand({ Bucket }))
    const put = (body: string) => rawRequest(ep, `/${Bucket}?versioning`, { method: 'PUT', body })
    for (const body of [
      '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>',
      '<VersioningConfiguration></VersioningConfiguration>',
      '<Versioning><Status>Enabled</Status></Versioning>',
      '<VersioningConfiguration><Status>Enabled</Status>',
    ]) {
      const res = await put(body)
      expect(res.status, body).toBe(400)
      expect(res.body).toContain('<Code>MalformedXML</Code>')
    }
    const mfa = await s3Error(
      s3().send(
        new PutBucketVersioningCommand({
          Bucket,
          VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' },
        }),
      ),
    )
    expect(mfa.name).toBe('AccessDenied')
    expect(mfa.$metadata.httpStatusCode).toBe(403)
    expect(mfa.message).toBe('Mfa Authentication must be used for this request')
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBeUndefined()
    // MFADelete Disabled is what every bucket is: accepted.
    await s3().send(
      new PutBucketVersioningCommand({
        Bucket,
        VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' },
      }),
    )
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
  })
})

describe('a versioned bucket', () => {
  const Bucket = 'versioned'
  const ids = new Map<string, string>()
  let v1 = ''
  let v2 = ''
  let marker = ''

  beforeAll(async () => {
    await s3().send(new CreateBucketCommand({ Bucket }))
    await enable(Bucket)
  })

  it('keeps every version a PUT writes, each readable by its id', async () => {
    const first = await s3().send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'first' }))
    // Larger than the inline limit: the old version's bytes live in a blob file.
    const big = randomBytes(300 * 1024).toString('base64')
    const second = await s3().send(new PutObjectCommand({ Bucket, Key: 'doc', Body: big }))
    v1 = first.VersionId ?? ''
    v2 = second.VersionId ?? ''
    ids.set(v1, 'v1').set(v2, 'v2')
    expect(v1).toMatch(/^[0-9a-v]{30}$/)
    expect(v2).toMatch(/^[0-9a-v]{30}$/)
    expect(v2).not.toBe(v1)
    expect(await text(Bucket, 'doc')).toBe(big)
    expect(await text(Bucket, 'doc', v1)).toBe('first')
    expect(await text(Bucket, 'doc', v2)).toBe(big)
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'doc', VersionId: v1 }))
    expect(head.VersionId).toBe(v1)
    expect(head.ContentLength).toBe(5)
    const get = await s3().send(new GetObjectCommand({ Bucket, Key: 'doc' }))
    expect(get.VersionId).toBe(v2)
    await get.Body?.transformToString()
    const listed = await s3().send(new ListObjectsV2Command({ Bucket }))
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['doc'])
  })

  it('a DELETE writes a delete marker: GET answers 404 with x-amz-delete-marker, old versions stay', async () => {
    const del = await s3().send(new DeleteObjectCommand({ Bucket, Key: 'doc' }))
    expect(del.DeleteMarker).toBe(true)
    marker = del.VersionId ?? ''
    expect(marker).toMatch(/^[0-9a-v]{30}$/)
    ids.set(marker, 'm')
    const missing = await s3Error(s3().send(new GetObjectCommand({ Bucket, Key: 'doc' })))
    expect(missing.name).toBe('NoSuchKey')
    const raw = await rawRequest(ep, `/${Bucket}/doc`)
    expect(raw.status).toBe(404)
    expect(raw.headers['x-amz-delete-marker']).toBe('true')
    expect(raw.headers['x-amz-version-id']).toBe(marker)
    const head = await rawRequest(ep, `/${Bucket}/doc`, { method: 'HEAD' })
    expect(head.status).toBe(404)
    expect(head.headers['x-amz-delete-marker']).toBe('true')
    // Naming the marker itself is 405, as AWS answers.
    const named = await rawRequest(ep, `/${Bucket}/doc?versionId=${marker}`)
    expect(named.status).toBe(405)
    expect(named.body).toContain('<Code>MethodNotAllowed</Code>')
    expect(named.headers['x-amz-delete-marker']).toBe('true')
    expect(named.headers['last-modified']).toBeDefined()
    expect(await text(Bucket, 'doc', v1)).toBe('first')
    expect((await s3().send(new ListObjectsV2Command({ Bucket }))).KeyCount).toBe(0)
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket }))
    expect(entries(versions, ids)).toEqual(['doc@v2', 'doc@v1', 'doc@m*!'])
  })

  it('CopyObject of an old version onto its key restores it as a new current version', async () => {
    const copy = await s3().send(
      new CopyObjectCommand({ Bucket, Key: 'doc', CopySource: `${Bucket}/doc?versionId=${v1}` }),
    )
    expect(copy.CopySourceVersionId).toBe(v1)
    const restored = copy.VersionId ?? ''
    expect(restored).toMatch(/^[0-9a-v]{30}$/)
    ids.set(restored, 'r')
    expect(await text(Bucket, 'doc')).toBe('first')
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket }))
    expect(entries(versions, ids)).toEqual(['doc@r!', 'doc@v2', 'doc@v1', 'doc@m*'])
    // A copy source naming a delete marker is refused; an unknown version is NoSuchVersion.
    const fromMarker = await s3Error(
      s3().send(
        new CopyObjectCommand({
          Bucket,
          Key: 'other',
          CopySource: `${Bucket}/doc?versionId=${marker}`,
        }),
      ),
    )
    expect(fromMarker.name).toBe('InvalidRequest')
    const unknown = await s3Error(
      s3().send(
        new CopyObjectCommand({
          Bucket,
          Key: 'other',
          CopySource: `${Bucket}/doc?versionId=${'0'.repeat(30)}`,
        }),
      ),
    )
    expect(unknown.name).toBe('NoSuchVersion')
    expect(unknown.$metadata.httpStatusCode).toBe(404)
  })

  it('tags and attributes of one version, leaving the others alone', async () => {
    await s3().send(
      new PutObjectTaggingCommand({
        Bucket,
        Key: 'doc',
        VersionId: v1,
        Tagging: { TagSet: [{ Key: 'era', Value: 'old' }] },
      }),
    )
    const tagged = await s3().send(
      new GetObjectTaggingCommand({ Bucket, Key: 'doc', VersionId: v1 }),
    )
    expect(tagged.TagSet).toEqual([{ Key: 'era', Value: 'old' }])
    expect(tagged.VersionId).toBe(v1)
    expect((await s3().send(new GetObjectTaggingCommand({ Bucket, Key: 'doc' }))).TagSet).toEqual(
      [],
    )
    const attrs = await s3().send(
      new GetObjectAttributesCommand({
        Bucket,
        Key: 'doc',
        VersionId: v2,
        ObjectAttributes: ['ObjectSize'],
      }),
    )
    expect(attrs.ObjectSize).toBe(400 * 1024)
    expect(attrs.VersionId).toBe(v2)
  })

  it('lists versions across pages with key and version-id markers', async () => {
    const Bucket = 'vpages'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await enable(Bucket)
    const names = new Map<string, string>()
    const expected: string[] = []
    for (const key of ['a', 'b/1', 'b/2', 'c']) {
      const made: string[] = []
      for (let i = 1; i <= 3; i++) {
        const out = await s3().send(new PutObjectCommand({ Bucket, Key: key, Body: `${key}${i}` }))
        names.set(out.VersionId ?? '', `${key}.${i}`)
        made.unshift(`${key}@${key}.${i}${i === 3 ? '!' : ''}`)
      }
      expected.push(...made)
    }
    const all: string[] = []
    let KeyMarker: string | undefined
    let VersionIdMarker: string | undefined
    let pages = 0
    for (;;) {
      const page = await s3().send(
        new ListObjectVersionsCommand({ Bucket, MaxKeys: 5, KeyMarker, VersionIdMarker }),
      )
      pages++
      expect((page.Versions ?? []).length).toBeLessThanOrEqual(5)
      all.push(...entries(page, names))
      if (page.IsTruncated !== true) break
      KeyMarker = page.NextKeyMarker
      VersionIdMarker = page.NextVersionIdMarker
    }
    expect(pages).toBe(3)
    expect(all).toEqual(expected)
    const rolled = await s3().send(new ListObjectVersionsCommand({ Bucket, Delimiter: '/' }))
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/'])
    expect(entries(rolled, names)).toEqual(expected.filter((e) => !e.startsWith('b/')))
    const prefixed = await s3().send(
      new ListObjectVersionsCommand({ Bucket, Prefix: 'b/', KeyMarker: 'b/1' }),
    )
    expect(entries(prefixed, names)).toEqual(['b/2@b/2.3!', 'b/2@b/2.2', 'b/2@b/2.1'])
    // The raw document interleaves Version and DeleteMarker in key order, newest first.
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'a' }))
    const raw = await rawRequest(ep, `/${Bucket}?versions&prefix=a&encoding-type=url`)
    expect(raw.status).toBe(200)
    const order = [...raw.body.matchAll(/<(Version|DeleteMarker)><Key>/g)].map((m) => m[1])
    expect(order).toEqual(['DeleteMarker', 'Version', 'Version', 'Version'])
    const bad = await rawRequest(ep, `/${Bucket}?versions&version-id-marker=null`)
    expect(bad.status).toBe(400)
    expect(bad.body).toContain('<Code>InvalidArgument</Code>')
  })

  it('a suspended bucket writes the null version, replacing it in place; other versions stay', async () => {
    const Bucket = 'vsuspended'
    await s3().send(new CreateBucketCommand({ Bucket }))
    // Written before versioning: the null version.
    await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'plain' }))
    await enable(Bucket)
    const kept = (await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'kept' })))
      .VersionId as string
    await enable(Bucket, 'Suspended')
    const put = await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'null one' }))
    expect(put.VersionId).toBe('null')
    await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'null two' }))
    const names = new Map([
      [kept, 'kept'],
      ['null', 'null'],
    ])
    expect(entries(await s3().send(new ListObjectVersionsCommand({ Bucket })), names)).toEqual([
      'k@null!',
      'k@kept',
    ])
    expect(await text(Bucket, 'k')).toBe('null two')
    expect(await text(Bucket, 'k', 'null')).toBe('null two')
    expect(await text(Bucket, 'k', kept)).toBe('kept')
    // A DELETE writes a null delete marker, replacing the null version.
    const del = await s3().send(new DeleteObjectCommand({ Bucket, Key: 'k' }))
    expect(del.DeleteMarker).toBe(true)
    expect(del.VersionId).toBe('null')
    expect(entries(await s3().send(new ListObjectVersionsCommand({ Bucket })), names)).toEqual([
      'k@kept',
      'k@null*!',
    ])
  })

  it('DeleteObjects removes named versions and writes markers for plain keys', async () => {
    const Bucket = 'vbatch'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await enable(Bucket)
    const a1 = (await s3().send(new PutObjectCommand({ Bucket, Key: 'a', Body: '1' }))).VersionId
    const a2 = (await s3().send(new PutObjectCommand({ Bucket, Key: 'a', Body: '2' }))).VersionId
    await s3().send(new PutObjectCommand({ Bucket, Key: 'b', Body: 'b' }))
    const out = await s3().send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: {
          Objects: [
            { Key: 'a', VersionId: a2 },
            { Key: 'b' },
            { Key: 'c', VersionId: 'not-a-version' },
          ],
        },
      }),
    )
    const deleted = [...(out.Deleted ?? [])].sort((x, y) =>
      (x.Key ?? '').localeCompare(y.Key ?? ''),
    )
    expect(deleted[0]).toEqual({ Key: 'a', VersionId: a2 })
    expect(deleted[1]?.Key).toBe('b')
    expect(deleted[1]?.DeleteMarker).toBe(true)
    const bMarker = deleted[1]?.DeleteMarkerVersionId as string
    expect(bMarker).toMatch(/^[0-9a-v]{30}$/)
    expect(out.Errors).toEqual([
      {
        Key: 'c',
        VersionId: 'not-a-version',
        Code: 'InvalidArgument',
        Message: 'Invalid version id specified',
      },
    ])
    expect(await text(Bucket, 'a')).toBe('1')
    // Deleting the marker by id brings b back; the batch reports it was a marker.
    const undo = await s3().send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'b', VersionId: bMarker }] } }),
    )
    expect(undo.Deleted).toEqual([
      { Key: 'b', VersionId: bMarker, DeleteMarker: true, DeleteMarkerVersionId: bMarker },
    ])
    expect(await text(Bucket, 'b')).toBe('b')
    // The bucket is not empty while any version remains.
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'a', VersionId: a1 }))
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'b' }))
    const notEmpty = await s3Error(s3().send(new DeleteBucketCommand({ Bucket })))
    expect(notEmpty.name).toBe('BucketNotEmpty')
    const left = await s3().send(new ListObjectVersionsCommand({ Bucket }))
    for (const v of [...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])]) {
      await s3().send(new DeleteObjectCommand({ Bucket, Key: v.Key, VersionId: v.VersionId }))
    }
    await s3().send(new DeleteBucketCommand({ Bucket }))
  })

  it('CompleteMultipartUpload returns the new version id', async () => {
    const Key = 'multi'
    const { UploadId } = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key }))
    const part = await s3().send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'one part' }),
    )
    const done = await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
    expect(done.VersionId).toMatch(/^[0-9a-v]{30}$/)
    expect(await text(Bucket, Key, done.VersionId)).toBe('one part')
    await s3().send(new PutObjectCommand({ Bucket, Key, Body: 'later' }))
    // The multipart version (its parts sealed before it had an id) still opens.
    expect(await text(Bucket, Key, done.VersionId)).toBe('one part')
  })

  it('bad version ids get InvalidArgument, unknown ones NoSuchVersion, and change nothing', async () => {
    for (const path of [
      `/${Bucket}/doc?versionId=nope`,
      `/${Bucket}/doc?versionId=${'z'.repeat(30)}`,
      `/${Bucket}/doc?tagging&versionId=%2F%2E%2E`,
    ]) {
      const res = await rawRequest(ep, path)
      expect(res.status, path).toBe(400)
      expect(res.body).toContain('<Code>InvalidArgument</Code>')
      expect(res.body).toContain('<Message>Invalid version id specified</Message>')
    }
    const del = await rawRequest(ep, `/${Bucket}/doc?versionId=bad`, { method: 'DELETE' })
    expect(del.status).toBe(400)
    const unknown = await s3Error(
      s3().send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId: '0'.repeat(30) })),
    )
    expect(unknown.name).toBe('NoSuchVersion')
    expect(unknown.$metadata.httpStatusCode).toBe(404)
    expect(await text(Bucket, 'doc', v1)).toBe('first')
  })

  it('bucket key rotation re-wraps the data keys of noncurrent versions too', async () => {
    const Bucket = 'vrotate'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await enable(Bucket)
    const big = randomBytes(200 * 1024)
    const old = (await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'small old' })))
      .VersionId
    const mid = (await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: big }))).VersionId
    await s3().send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'current' }))
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'other' }))
    const env = { AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey }
    const cli = (args: string[]) => cliOf(server)(args, env)
    const started = await cli(['bucket', 'rotate-key', Bucket, '--json'])
    expect(started.code, started.stderr).toBe(0)
    const status = async () =>
      JSON.parse((await cli(['bucket', 'key-rotation', Bucket, '--json'])).stdout) as {
        state: string
        rewrapped: number
        failed: number
        keyVersion: number
      }
    await expect
      .poll(async () => (await status()).state, { timeout: 30_000, interval: 100 })
      .toBe('done')
    const done = await status()
    expect(done).toMatchObject({ rewrapped: 3, failed: 0 })
    // Every version's wrapped key, current or not, is under the new key version.
    const db = new Database(`${dir.path}/dcs/${DC}/meta.sqlite`, { readonly: true })
    try {
      const rows = db
        .prepare(
          `SELECT inline_key, blob_parts FROM object_versions
           WHERE bucket = ? AND delete_marker = 0`,
        )
        .all(Bucket) as Array<{ inline_key: string | null; blob_parts: string | null }>
      const keys = rows.flatMap((r) =>
        r.blob_parts === null
          ? [r.inline_key]
          : (JSON.parse(r.blob_parts) as Array<{ wrappedKey: string }>).map((p) => p.wrappedKey),
      )
      expect(keys).toHaveLength(2)
      for (const k of keys) expect(k).toMatch(new RegExp(`^dc:v1:${done.keyVersion}:`))
    } finally {
      db.close()
    }
    expect(await text(Bucket, 'k', old)).toBe('small old')
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: mid }))
    expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(big)).toBe(true)
  })

  it('versions and delete markers survive a restart', async () => {
    await server.stop()
    server = await startSovra({ dataDir: dir.path })
    ep = server.endpoint(DC)
    registerRegion(ep, DC)
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
    expect(await text(Bucket, 'doc', v1)).toBe('first')
    expect((await text(Bucket, 'doc', v2))?.length).toBe(400 * 1024)
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket, Prefix: 'doc' }))
    expect(entries(versions, ids)).toEqual(['doc@r!', 'doc@v2', 'doc@v1', 'doc@m*'])
  })
})

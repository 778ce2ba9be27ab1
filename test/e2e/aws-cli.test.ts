// The Debian aws cli v2 (/usr/bin/aws) against the built server: buckets in several data
// centers, object round trips, a multipart upload, sync of awkward names, presigned URLs, the
// cross-DC redirect and the errors the cli must see for bad input.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import {
  awsCliFor,
  bucketName,
  hashTree,
  rawFetch,
  sha256,
  sha256File,
  tempDir,
  writeAwkwardTree,
  writeRandomFile,
  xmlText,
} from './lib/e2e-helpers.js'

let server: SpawnedSovra
let work: { path: string; remove: () => void }
let cli: ReturnType<typeof awsCliFor>

/** Runs `aws` against one data center's endpoint, signing for that data center. */
const aws = (dcId: string, args: string[], options: { secret?: string } = {}) =>
  cli.aws(dcId, args, options)
const awsOk = (dcId: string, args: string[]) => cli.awsOk(dcId, args)

beforeAll(async () => {
  server = await spawnSovra()
  work = tempDir()
  cli = awsCliFor(server, work.path)
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('aws cli', () => {
  const homes = ['us-west-1', 'ap-southeast-1', 'me-east-1'] as const
  const buckets = new Map<string, string>(homes.map((dc) => [dc, bucketName(`awscli-${dc}`)]))

  it('creates a bucket in three data centers, each at its own endpoint', async () => {
    for (const dc of homes) {
      await awsOk(dc, [
        's3api',
        'create-bucket',
        '--bucket',
        buckets.get(dc) as string,
        '--create-bucket-configuration',
        `LocationConstraint=${dc}`,
      ])
    }
    const location = JSON.parse(
      (
        await awsOk('me-east-1', [
          's3api',
          'get-bucket-location',
          '--bucket',
          buckets.get('me-east-1') as string,
        ])
      ).stdout,
    )
    expect(location.LocationConstraint).toBe('me-east-1')
    const listed = JSON.parse((await awsOk('us-west-1', ['s3api', 'list-buckets'])).stdout) as {
      Buckets: Array<{ Name: string }>
    }
    for (const bucket of buckets.values())
      expect(listed.Buckets.map((b) => b.Name)).toContain(bucket)
  })

  it('puts and gets objects in each data center; lists and deletes them', async () => {
    for (const dc of homes) {
      const bucket = buckets.get(dc) as string
      const src = join(work.path, `up-${dc}.bin`)
      const sum = writeRandomFile(src, 300_000)
      await awsOk(dc, ['s3', 'cp', '--no-progress', src, `s3://${bucket}/dir/obj.bin`])
      const dst = join(work.path, `down-${dc}.bin`)
      await awsOk(dc, ['s3', 'cp', '--no-progress', `s3://${bucket}/dir/obj.bin`, dst])
      expect(await sha256File(dst)).toBe(sum)
    }
    const dc = 'us-west-1'
    const bucket = buckets.get(dc) as string
    const listing = JSON.parse(
      (await awsOk(dc, ['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'dir/']))
        .stdout,
    ) as { Contents: Array<{ Key: string; Size: number }> }
    expect(listing.Contents.map((c) => [c.Key, c.Size])).toEqual([['dir/obj.bin', 300_000]])
    await awsOk(dc, ['s3', 'rm', `s3://${bucket}/dir/obj.bin`])
    const after = JSON.parse(
      (await awsOk(dc, ['s3api', 'list-objects-v2', '--bucket', bucket])).stdout || '{}',
    )
    expect(after.Contents ?? []).toEqual([])
  })

  it('tags an object on upload and with put/get/delete-object-tagging', async () => {
    const dc = 'us-west-1'
    const bucket = buckets.get(dc) as string
    const src = join(work.path, 'tagged.txt')
    writeFileSync(src, 'tagged')
    const tagsOf = async () =>
      JSON.parse(
        (await awsOk(dc, ['s3api', 'get-object-tagging', '--bucket', bucket, '--key', 'tagged']))
          .stdout,
      ).TagSet as Array<{ Key: string; Value: string }>
    const base = ['--bucket', bucket, '--key', 'tagged']
    await awsOk(dc, [
      's3api',
      'put-object',
      ...base,
      '--body',
      src,
      '--tagging',
      'team=blue&cost=42',
    ])
    expect(await tagsOf()).toEqual([
      { Key: 'team', Value: 'blue' },
      { Key: 'cost', Value: '42' },
    ])
    await awsOk(dc, [
      's3api',
      'put-object-tagging',
      ...base,
      '--tagging',
      'TagSet=[{Key=env,Value=prod}]',
    ])
    expect(await tagsOf()).toEqual([{ Key: 'env', Value: 'prod' }])
    const dup = await aws(dc, [
      's3api',
      'put-object-tagging',
      ...base,
      '--tagging',
      'TagSet=[{Key=a,Value=1},{Key=a,Value=2}]',
    ])
    expect(dup.code).not.toBe(0)
    expect(dup.stderr).toContain('InvalidTag')
    expect(await tagsOf()).toEqual([{ Key: 'env', Value: 'prod' }])
    await awsOk(dc, ['s3api', 'delete-object-tagging', ...base])
    expect(await tagsOf()).toEqual([])
  })

  it('stores and reads an SSE-C object with --sse-c, and refuses a read without the key', async () => {
    const dc = 'me-east-1'
    const bucket = buckets.get(dc) as string
    const keyFile = join(work.path, 'sse-c.key')
    writeFileSync(keyFile, Buffer.alloc(32, 7))
    const sseC = ['--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]
    const src = join(work.path, 'sse-c-up.bin')
    const sum = writeRandomFile(src, 200_000)
    await awsOk(dc, ['s3', 'cp', '--no-progress', src, `s3://${bucket}/secret.bin`, ...sseC])
    const dst = join(work.path, 'sse-c-down.bin')
    await awsOk(dc, ['s3', 'cp', '--no-progress', `s3://${bucket}/secret.bin`, dst, ...sseC])
    expect(await sha256File(dst)).toBe(sum)
    const head = JSON.parse(
      (
        await awsOk(dc, [
          's3api',
          'head-object',
          '--bucket',
          bucket,
          '--key',
          'secret.bin',
          '--sse-customer-algorithm',
          'AES256',
          '--sse-customer-key',
          `fileb://${keyFile}`,
        ])
      ).stdout,
    ) as { SSECustomerAlgorithm?: string; SSECustomerKeyMD5?: string }
    expect(head.SSECustomerAlgorithm).toBe('AES256')
    expect(head.SSECustomerKeyMD5).toBe(
      createHash('md5').update(Buffer.alloc(32, 7)).digest('base64'),
    )
    // Without the key the object cannot be read: 400 InvalidRequest, as S3 answers.
    const refused = await aws(dc, [
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      'secret.bin',
      join(work.path, 'nope.bin'),
    ])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('InvalidRequest')
    await awsOk(dc, ['s3', 'rm', `s3://${bucket}/secret.bin`])
  })

  it('uploads 40 MiB as multipart and downloads it intact', async () => {
    const dc = 'ap-southeast-1'
    const bucket = buckets.get(dc) as string
    const src = join(work.path, 'big.bin')
    const sum = writeRandomFile(src, 40 * 1024 * 1024)
    await awsOk(dc, ['s3', 'cp', '--no-progress', src, `s3://${bucket}/big/forty.bin`])
    const head = JSON.parse(
      (await awsOk(dc, ['s3api', 'head-object', '--bucket', bucket, '--key', 'big/forty.bin']))
        .stdout,
    ) as { ContentLength: number; ETag: string }
    expect(head.ContentLength).toBe(40 * 1024 * 1024)
    // 8 MiB parts by default: a multipart ETag ends in "-5".
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-5"$/)
    const dst = join(work.path, 'big-down.bin')
    await awsOk(dc, ['s3', 'cp', '--no-progress', `s3://${bucket}/big/forty.bin`, dst])
    expect(await sha256File(dst)).toBe(sum)
  })

  it('syncs a folder of awkward names up and down again, byte for byte', async () => {
    const dc = 'me-east-1'
    const bucket = buckets.get(dc) as string
    const up = join(work.path, 'sync-up')
    const expected = writeAwkwardTree(up)
    await awsOk(dc, ['s3', 'sync', '--no-progress', up, `s3://${bucket}/tree/`])
    const listing = JSON.parse(
      (await awsOk(dc, ['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'tree/']))
        .stdout,
    ) as { Contents: Array<{ Key: string }> }
    expect(listing.Contents.map((c) => c.Key).sort()).toEqual(
      [...expected.keys()].map((k) => `tree/${k}`).sort(),
    )
    const down = join(work.path, 'sync-down')
    await awsOk(dc, ['s3', 'sync', '--no-progress', `s3://${bucket}/tree/`, down])
    expect(await hashTree(down)).toEqual(expected)
    // A second sync finds nothing to do: sizes and times the server reports match the files.
    const again = await awsOk(dc, ['s3', 'sync', '--no-progress', up, `s3://${bucket}/tree/`])
    expect(again.stdout.trim()).toBe('')
  })

  it('serves a presigned GET from `aws s3 presign`, and refuses it once expired', async () => {
    const dc = 'us-west-1'
    const bucket = buckets.get(dc) as string
    const src = join(work.path, 'presign.bin')
    const sum = writeRandomFile(src, 70_000)
    await awsOk(dc, ['s3', 'cp', '--no-progress', src, `s3://${bucket}/pre signed+key.bin`])
    const url = (
      await awsOk(dc, ['s3', 'presign', `s3://${bucket}/pre signed+key.bin`, '--expires-in', '300'])
    ).stdout.trim()
    expect(url.startsWith(`${server.endpoint(dc)}/${bucket}/`)).toBe(true)
    const got = await rawFetch(url)
    expect(got.status).toBe(200)
    expect(sha256(got.body)).toBe(sum)

    const short = (
      await awsOk(dc, ['s3', 'presign', `s3://${bucket}/pre signed+key.bin`, '--expires-in', '1'])
    ).stdout.trim()
    await new Promise((r) => setTimeout(r, 2_100))
    const expired = await rawFetch(short)
    expect(expired.status).toBe(403)
    expect(xmlText(expired.body.toString('utf8'), 'Code')).toBe('AccessDenied')
    expect(expired.body.includes(readFileSync(src).subarray(0, 64))).toBe(false)
  })

  it('gets a 301 with the home region, never the bytes, for a bucket of another data center', async () => {
    const home = 'us-west-1'
    const bucket = buckets.get(home) as string
    const src = join(work.path, 'redirect.bin')
    const sum = writeRandomFile(src, 50_000)
    await awsOk(home, ['s3', 'cp', '--no-progress', src, `s3://${bucket}/redirect.bin`])
    const out = join(work.path, 'redirect-out.bin')
    const r = await aws('ap-southeast-1', [
      '--debug',
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      'redirect.bin',
      out,
    ])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/'x-amz-bucket-region': 'us-west-1'/)
    expect(r.stderr).toMatch(/PermanentRedirect|\(301\)|Moved Permanently/)
    expect(r.stderr).toContain(`<Endpoint>${server.hostPort(home)}</Endpoint>`)
    const wrote = await sha256File(out).catch(() => null)
    expect(wrote).not.toBe(sum)
  })

  it('maps bad input to the S3 errors the cli expects', async () => {
    const dc = 'us-east-1'
    const badName = await aws(dc, ['s3api', 'create-bucket', '--bucket', 'Bad_Bucket.Name'])
    expect(badName.code).not.toBe(0)
    expect(badName.stderr).toContain('InvalidBucketName')

    const planned = await aws('ap-south-1', [
      's3api',
      'create-bucket',
      '--bucket',
      bucketName('awscli-planned'),
      '--create-bucket-configuration',
      'LocationConstraint=ap-south-1',
    ])
    expect(planned.code).not.toBe(0)
    expect(planned.stderr).toMatch(/IllegalLocationConstraintException|InvalidLocationConstraint/)

    const bucket = buckets.get('us-west-1') as string
    const missing = await aws('us-west-1', [
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      'no/such key',
      join(work.path, 'x'),
    ])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('NoSuchKey')

    const noBucket = await aws('us-west-1', [
      's3api',
      'head-bucket',
      '--bucket',
      bucketName('awscli-missing'),
    ])
    expect(noBucket.code).not.toBe(0)
    expect(noBucket.stderr).toMatch(/\(404\)|Not Found/)

    const wrongSecret = await aws('us-west-1', ['s3api', 'list-objects-v2', '--bucket', bucket], {
      secret: 'this-is-not-the-right-secret-key-at-all00',
    })
    expect(wrongSecret.code).not.toBe(0)
    expect(wrongSecret.stderr).toContain('SignatureDoesNotMatch')
  })
})

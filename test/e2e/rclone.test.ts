// Debian's rclone (/usr/bin/rclone, aws-sdk-go v1 inside) against the built server: one remote
// per data center in a generated config file, provider "Other", path-style addressing.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import {
  bucketName,
  clientEnv,
  hashTree,
  RCLONE,
  rawFetch,
  run,
  sha256,
  sha256File,
  tempDir,
  writeAwkwardTree,
  writeRandomFile,
} from './lib/e2e-helpers.js'

let server: SpawnedSovra
let work: { path: string; remove: () => void }
let env: NodeJS.ProcessEnv
let configFile: string

const homes = ['us-east-1', 'ap-southeast-1', 'cn-hangzhou'] as const

function rclone(args: string[], options: { timeoutMs?: number } = {}) {
  return run(
    RCLONE,
    ['--config', configFile, '--retries', '1', '--low-level-retries', '2', ...args],
    {
      env,
      timeoutMs: options.timeoutMs ?? 120_000,
    },
  )
}
async function rcloneOk(args: string[]) {
  const r = await rclone(args)
  if (r.code !== 0)
    throw new Error(`rclone ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
  return r
}

beforeAll(async () => {
  server = await spawnSovra()
  work = tempDir()
  configFile = join(work.path, 'rclone.conf')
  const remote = (name: string, dc: string, secret: string) =>
    [
      `[${name}]`,
      'type = s3',
      'provider = Other',
      'env_auth = false',
      `access_key_id = ${server.credentials.accessKeyId}`,
      `secret_access_key = ${secret}`,
      `endpoint = ${server.endpoint(dc)}`,
      `region = ${dc}`,
      `location_constraint = ${dc === 'us-east-1' ? '' : dc}`,
      'force_path_style = true',
      '',
    ].join('\n')
  const dcs = server.dataCenters.map((dc) => dc.id)
  writeFileSync(
    configFile,
    dcs.map((dc) => remote(dc, dc, server.credentials.secretAccessKey)).join('\n') +
      remote('wrong-secret', 'us-east-1', 'not-the-secret-0123456789abcdefghijklmno'),
  )
  // rclone refuses plain http when AWS_CA_BUNDLE is set; clientEnv drops it.
  env = clientEnv(work.path)
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('rclone', () => {
  const buckets = Object.fromEntries(homes.map((dc) => [dc, bucketName(`rclone-${dc}`)])) as Record<
    string,
    string
  >

  it('makes a bucket in three data centers and copies, lists, reads and deletes objects in each', async () => {
    for (const dc of homes) {
      const bucket = buckets[dc] as string
      await rcloneOk(['mkdir', `${dc}:${bucket}`])
      const src = join(work.path, `up-${dc}.bin`)
      const sum = writeRandomFile(src, 250_000)
      await rcloneOk(['copyto', src, `${dc}:${bucket}/dir/obj.bin`])
      const listed = JSON.parse(
        (await rcloneOk(['lsjson', '-R', '--files-only', `${dc}:${bucket}`])).stdout,
      ) as Array<{
        Path: string
        Size: number
      }>
      expect(listed.map((o) => [o.Path, o.Size])).toEqual([['dir/obj.bin', 250_000]])
      const dst = join(work.path, `down-${dc}.bin`)
      await rcloneOk(['copyto', `${dc}:${bucket}/dir/obj.bin`, dst])
      expect(await sha256File(dst)).toBe(sum)
      await rcloneOk(['deletefile', `${dc}:${bucket}/dir/obj.bin`])
      const after = JSON.parse(
        (await rcloneOk(['lsjson', '-R', '--files-only', `${dc}:${bucket}`])).stdout,
      )
      expect(after).toEqual([])
    }
  })

  it('uploads 40 MiB as multipart (8 MiB chunks) and downloads it intact', async () => {
    const dc = 'ap-southeast-1'
    const bucket = buckets[dc] as string
    const src = join(work.path, 'big.bin')
    const sum = writeRandomFile(src, 40 * 1024 * 1024)
    const up = await rclone([
      'copyto',
      src,
      `${dc}:${bucket}/big/forty.bin`,
      '--s3-upload-cutoff',
      '8M',
      '--s3-chunk-size',
      '8M',
      '--dump',
      'headers',
      '-v',
    ])
    // rclone marshals CompleteMultipartUpload with Go's encoding/xml, which writes the quotes of
    // each ETag as the character reference &#34;.
    expect(up.stderr).toMatch(/POST \/[^ ]*\?uploads/)
    expect(
      up.code,
      up.stderr
        .split('\n')
        .filter((l) => /ERROR|Failed|InvalidPart/.test(l))
        .join('\n'),
    ).toBe(0)
    const dst = join(work.path, 'big-down.bin')
    await rcloneOk(['copyto', `${dc}:${bucket}/big/forty.bin`, dst])
    expect(await sha256File(dst)).toBe(sum)
  })

  it('syncs a folder of awkward names up, checks it, and syncs it down byte for byte', async () => {
    const dc = 'cn-hangzhou'
    const bucket = buckets[dc] as string
    const up = join(work.path, 'sync-up')
    const expected = writeAwkwardTree(up)
    await rcloneOk(['sync', up, `${dc}:${bucket}/tree`])
    const listed = JSON.parse(
      (await rcloneOk(['lsjson', '-R', '--files-only', `${dc}:${bucket}/tree`])).stdout,
    ) as Array<{
      Path: string
    }>
    expect(listed.map((o) => o.Path).sort()).toEqual([...expected.keys()].sort())
    // rclone check compares sizes and MD5s (the ETags) of every file.
    await rcloneOk(['check', up, `${dc}:${bucket}/tree`])
    const down = join(work.path, 'sync-down')
    await rcloneOk(['sync', `${dc}:${bucket}/tree`, down])
    expect(await hashTree(down)).toEqual(expected)
  })

  it('serves a presigned GET made by `rclone link`', async () => {
    const dc = 'us-east-1'
    const bucket = buckets[dc] as string
    const src = join(work.path, 'link.bin')
    const sum = writeRandomFile(src, 33_333)
    await rcloneOk(['copyto', src, `${dc}:${bucket}/shared link.bin`])
    const url = (
      await rcloneOk(['link', '--expire', '1h', `${dc}:${bucket}/shared link.bin`])
    ).stdout.trim()
    expect(url).toContain('X-Amz-Signature=')
    const got = await rawFetch(url)
    expect(got.status).toBe(200)
    expect(sha256(got.body)).toBe(sum)
  })

  it('gets a 301 naming the home data center, and never the bytes, from another endpoint', async () => {
    const home = 'us-east-1'
    const bucket = buckets[home] as string
    const src = join(work.path, 'redirect.bin')
    writeRandomFile(src, 64_000)
    await rcloneOk(['copyto', src, `${home}:${bucket}/redirect.bin`])
    // rclone keeps asking the wrong endpoint for the bucket's location after a 301, so it is
    // stopped after a few seconds; what matters is what the server answered.
    const r = await rclone(
      ['cat', `me-east-1:${bucket}/redirect.bin`, '--dump', 'headers', '-vv'],
      { timeoutMs: 6_000 },
    )
    expect(r.stderr).toContain('HTTP/1.1 301 Moved Permanently')
    expect(r.stderr).toMatch(/X-Amz-Bucket-Region: us-east-1/i)
    // Only GetBucketLocation, which reads nothing but the directory, is answered elsewhere.
    const oks = r.stderr.match(/HTTP\/1\.1 200/g)?.length ?? 0
    const locationRequests = r.stderr.match(/GET [^\n]*[?&]location[^\n]*HTTP\/1\.1/g)?.length ?? 0
    expect(oks).toBeLessThanOrEqual(locationRequests)
    const bytes = readFileSync(src)
    expect(r.stdout.length).toBe(0)
    expect(Buffer.from(r.stdout, 'latin1').includes(bytes.subarray(0, 32))).toBe(false)
  })

  it('reports bad input with the S3 errors rclone expects', async () => {
    const badName = await rclone(['mkdir', 'us-west-1:Bad_Bucket'])
    expect(badName.code).not.toBe(0)
    expect(badName.stderr).toContain('InvalidBucketName')

    const bucket = buckets['us-east-1'] as string
    // rclone takes a missing object for an empty folder; the HEAD must still get a 404.
    const missing = await rclone([
      'copyto',
      `us-east-1:${bucket}/no such key`,
      join(work.path, 'nothing'),
      '--error-on-no-transfer',
      '--dump',
      'headers',
    ])
    expect(missing.code).toBe(9)
    expect(missing.stderr).toMatch(/HEAD \/[^ ]+\/no%20such%20key HTTP\/1\.1/)
    expect(missing.stderr).toContain('HTTP/1.1 404 Not Found')

    const wrong = await rclone(['lsjson', `wrong-secret:${bucket}`])
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('SignatureDoesNotMatch')
  })
})

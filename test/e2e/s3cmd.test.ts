// Debian's s3cmd (/usr/bin/s3cmd, SigV4 with the region from --region / bucket_location) against
// the built server, one data center endpoint per call via --host / --host-bucket.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import {
  bucketName,
  clientEnv,
  hashTree,
  run,
  S3CMD,
  sha256File,
  tempDir,
  writeAwkwardTree,
  writeRandomFile,
} from './lib/e2e-helpers.js'

let server: SpawnedSovra
let work: { path: string; remove: () => void }
let env: NodeJS.ProcessEnv
let configFile: string

const homes = ['us-west-1', 'ap-northeast-1', 'me-east-1'] as const

function s3cmd(dcId: string, args: string[], options: { secret?: string } = {}) {
  const host = server.hostPort(dcId)
  return run(
    S3CMD,
    [
      '-c',
      configFile,
      `--host=${host}`,
      `--host-bucket=${host}`,
      `--region=${dcId}`,
      '--no-ssl',
      '--no-progress',
      ...(options.secret === undefined ? [] : [`--secret_key=${options.secret}`]),
      ...args,
    ],
    { env },
  )
}
async function s3cmdOk(dcId: string, args: string[]) {
  const r = await s3cmd(dcId, args)
  if (r.code !== 0)
    throw new Error(`s3cmd ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
  return r
}

/** `s3cmd ls` lines → [url, size]. */
function parseLs(stdout: string): Array<[string, number]> {
  return stdout
    .split('\n')
    .filter((l) => l.includes('s3://'))
    .map((l) => {
      const m = /^\S+ \S+\s+(\d+)\s+(s3:\/\/.*)$/.exec(l)
      if (m === null) throw new Error(`Unexpected s3cmd ls line: ${l}`)
      return [m[2] as string, Number(m[1])]
    })
}

beforeAll(async () => {
  server = await spawnSovra()
  work = tempDir()
  configFile = join(work.path, 's3cfg')
  writeFileSync(
    configFile,
    [
      '[default]',
      `access_key = ${server.credentials.accessKeyId}`,
      `secret_key = ${server.credentials.secretAccessKey}`,
      `host_base = ${server.hostPort('us-east-1')}`,
      `host_bucket = ${server.hostPort('us-east-1')}`,
      'use_https = False',
      'signature_v2 = False',
      'bucket_location = us-east-1',
      'check_ssl_certificate = False',
      'guess_mime_type = False',
      '',
    ].join('\n'),
  )
  env = clientEnv(work.path)
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('s3cmd', () => {
  const buckets = Object.fromEntries(homes.map((dc) => [dc, bucketName(`s3cmd-${dc}`)])) as Record<
    string,
    string
  >

  it('makes a bucket in three data centers and puts, lists, gets and deletes objects in each', async () => {
    for (const dc of homes) {
      const bucket = buckets[dc] as string
      await s3cmdOk(dc, ['mb', `s3://${bucket}`])
      const info = await s3cmdOk(dc, ['info', `s3://${bucket}`])
      expect(info.stdout).toMatch(new RegExp(`Location:\\s+${dc}`))
      const src = join(work.path, `up-${dc}.bin`)
      const sum = writeRandomFile(src, 200_001)
      await s3cmdOk(dc, ['put', src, `s3://${bucket}/dir/obj.bin`])
      expect(parseLs((await s3cmdOk(dc, ['ls', '-r', `s3://${bucket}`])).stdout)).toEqual([
        [`s3://${bucket}/dir/obj.bin`, 200_001],
      ])
      const dst = join(work.path, `down-${dc}.bin`)
      await s3cmdOk(dc, ['get', '--force', `s3://${bucket}/dir/obj.bin`, dst])
      expect(await sha256File(dst)).toBe(sum)
      await s3cmdOk(dc, ['del', `s3://${bucket}/dir/obj.bin`])
      expect(parseLs((await s3cmdOk(dc, ['ls', '-r', `s3://${bucket}`])).stdout)).toEqual([])
    }
  })

  it('uploads 40 MiB in 8 MiB parts and downloads it intact', async () => {
    const dc = 'ap-northeast-1'
    const bucket = buckets[dc] as string
    const src = join(work.path, 'big.bin')
    const sum = writeRandomFile(src, 40 * 1024 * 1024)
    const up = await s3cmdOk(dc, [
      'put',
      '--progress',
      '--multipart-chunk-size-mb=8',
      src,
      `s3://${bucket}/big/forty.bin`,
    ])
    expect(up.stdout + up.stderr).toMatch(/part 5 of 5/)
    const info = await s3cmdOk(dc, ['info', `s3://${bucket}/big/forty.bin`])
    expect(info.stdout).toMatch(/File size:\s+41943040/)
    const dst = join(work.path, 'big-down.bin')
    await s3cmdOk(dc, ['get', '--force', `s3://${bucket}/big/forty.bin`, dst])
    expect(await sha256File(dst)).toBe(sum)
  })

  it('syncs a folder of awkward names up and down again, byte for byte', async () => {
    const dc = 'me-east-1'
    const bucket = buckets[dc] as string
    const up = join(work.path, 'sync-up')
    const expected = writeAwkwardTree(up)
    await s3cmdOk(dc, ['sync', `${up}/`, `s3://${bucket}/tree/`])
    const listed = parseLs((await s3cmdOk(dc, ['ls', '-r', `s3://${bucket}/tree/`])).stdout).map(
      ([url]) => url,
    )
    expect(listed.sort()).toEqual(
      [...expected.keys()].map((k) => `s3://${bucket}/tree/${k}`).sort(),
    )
    const down = join(work.path, 'sync-down')
    await s3cmdOk(dc, ['sync', `s3://${bucket}/tree/`, `${down}/`])
    expect(await hashTree(down)).toEqual(expected)
    // Nothing changed, so a second sync uploads nothing (ETag = MD5 for single-part objects).
    const again = await s3cmdOk(dc, ['sync', '--dry-run', `${up}/`, `s3://${bucket}/tree/`])
    expect(again.stdout).not.toMatch(/upload:/)
  })

  it('gets a 301 naming the home data center, and never the bytes, from another endpoint', async () => {
    const home = 'us-west-1'
    const bucket = buckets[home] as string
    const src = join(work.path, 'redirect.bin')
    writeRandomFile(src, 48_000)
    await s3cmdOk(home, ['put', src, `s3://${bucket}/redirect.bin`])
    const out = join(work.path, 'redirect-out.bin')
    const r = await s3cmd('ap-northeast-1', ['get', '--force', `s3://${bucket}/redirect.bin`, out])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/301/)
    expect(r.stderr).toContain('us-west-1')
    const got = await sha256File(out).catch(() => null)
    expect(got).not.toBe(await sha256File(src))
    const data = readFileSync(src)
    expect(Buffer.from(r.stdout + r.stderr, 'latin1').includes(data.subarray(0, 32))).toBe(false)
  })

  it('reports bad input with the S3 errors s3cmd expects', async () => {
    const bucket = buckets['us-west-1'] as string
    const missing = await s3cmd('us-west-1', [
      'get',
      '--force',
      `s3://${bucket}/no such key`,
      join(work.path, 'x'),
    ])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/404|NoSuchKey|does not exist/)

    const noBucket = await s3cmd('us-west-1', ['ls', `s3://${bucketName('s3cmd-missing')}`])
    expect(noBucket.code).not.toBe(0)
    expect(noBucket.stderr).toContain('NoSuchBucket')

    const wrong = await s3cmd('us-west-1', ['ls', `s3://${bucket}`], {
      secret: 'not-the-secret-0123456789abcdefghijklmno',
    })
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('SignatureDoesNotMatch')

    const planned = await s3cmd('ap-south-1', ['mb', `s3://${bucketName('s3cmd-planned')}`])
    expect(planned.code).not.toBe(0)
    expect(planned.stderr).toMatch(/IllegalLocationConstraintException|InvalidLocationConstraint/)
  })
})

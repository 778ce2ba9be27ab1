// Multipart checksums through the Debian aws cli v2 (/usr/bin/aws) against the built server:
// create-multipart-upload --checksum-algorithm, upload-part (the cli checksums each part),
// complete-multipart-upload with the parts' checksums, head-object --checksum-mode and
// get-object-attributes paging ObjectParts. This cli (2.9) predates --checksum-type, so the
// upload takes CRC32's default type, COMPOSITE; FULL_OBJECT is covered through the SDK
// (test/integration/multipart-checksums.test.ts).
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import { AWS, bucketName, clientEnv, run, tempDir } from './lib/e2e-helpers.js'

let server: SpawnedSovra
let work: { path: string; remove: () => void }
let env: NodeJS.ProcessEnv
const dc = 'us-east-1'

function aws(args: string[]) {
  return run(AWS, ['--endpoint-url', server.endpoint(dc), '--region', dc, ...args], { env })
}
async function awsJson<T>(args: string[]): Promise<T> {
  const r = await aws(args)
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}\n${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
const crc32Of = (b: Buffer) => {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(crc32(b) >>> 0)
  return out
}

beforeAll(async () => {
  server = await spawnSovra()
  work = tempDir()
  const config = join(work.path, 'aws-config')
  writeFileSync(
    config,
    '[default]\nregion = us-east-1\noutput = json\ns3 =\n  addressing_style = path\n',
  )
  env = clientEnv(work.path, {
    AWS_CONFIG_FILE: config,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '2',
  })
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('aws cli multipart checksums', () => {
  it('completes a CRC32 upload with its part checksums and pages ObjectParts', async () => {
    const bucket = bucketName('awscli-sums')
    await awsJson(['s3api', 'create-bucket', '--bucket', bucket])
    const key = 'sums/object.bin'
    const created = await awsJson<{ UploadId: string; ChecksumAlgorithm?: string }>([
      's3api',
      'create-multipart-upload',
      '--bucket',
      bucket,
      '--key',
      key,
      '--checksum-algorithm',
      'CRC32',
    ])
    expect(created.ChecksumAlgorithm).toBe('CRC32')
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(4321)]
    const listed: Array<{ PartNumber: number; ETag: string; ChecksumCRC32: string }> = []
    for (const [i, data] of parts.entries()) {
      const file = join(work.path, `part${i + 1}`)
      writeFileSync(file, data)
      const up = await awsJson<{ ETag: string; ChecksumCRC32: string }>([
        's3api',
        'upload-part',
        '--bucket',
        bucket,
        '--key',
        key,
        '--upload-id',
        created.UploadId,
        '--part-number',
        String(i + 1),
        '--body',
        file,
        '--checksum-algorithm',
        'CRC32',
      ])
      expect(up.ChecksumCRC32).toBe(crc32Of(data).toString('base64'))
      listed.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32 })
    }
    const complete = (partsJson: unknown) => {
      const file = join(work.path, 'parts.json')
      writeFileSync(file, JSON.stringify({ Parts: partsJson }))
      return aws([
        's3api',
        'complete-multipart-upload',
        '--bucket',
        bucket,
        '--key',
        key,
        '--upload-id',
        created.UploadId,
        '--multipart-upload',
        `file://${file}`,
      ])
    }
    // A wrong part checksum is refused and loses nothing.
    const wrong = await complete([
      listed[0],
      { ...listed[1], ChecksumCRC32: crc32Of(Buffer.from('other')).toString('base64') },
    ])
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('InvalidPart')
    const done = await complete(listed)
    expect(done.code).toBe(0)
    const composite = crc32Of(Buffer.concat(parts.map(crc32Of))).toString('base64')
    expect((JSON.parse(done.stdout) as { ChecksumCRC32: string }).ChecksumCRC32).toBe(
      `${composite}-2`,
    )
    const head = await awsJson<{ ChecksumCRC32: string; ContentLength: number }>([
      's3api',
      'head-object',
      '--bucket',
      bucket,
      '--key',
      key,
      '--checksum-mode',
      'ENABLED',
    ])
    expect(head.ChecksumCRC32).toBe(`${composite}-2`)
    expect(head.ContentLength).toBe(5 * 1024 * 1024 + 4321)
    type Attributes = {
      ObjectParts: {
        TotalPartsCount: number
        IsTruncated: boolean
        NextPartNumberMarker?: number | string
        Parts: Array<{ PartNumber: number; Size: number; ChecksumCRC32: string }>
      }
    }
    const page = (extra: string[]) =>
      awsJson<Attributes>([
        's3api',
        'get-object-attributes',
        '--bucket',
        bucket,
        '--key',
        key,
        '--object-attributes',
        'ObjectParts',
        '--max-parts',
        '1',
        ...extra,
      ])
    const first = await page([])
    expect(first.ObjectParts.TotalPartsCount).toBe(2)
    expect(first.ObjectParts.IsTruncated).toBe(true)
    expect(first.ObjectParts.Parts).toEqual([
      { PartNumber: 1, Size: 5 * 1024 * 1024, ChecksumCRC32: listed[0]?.ChecksumCRC32 },
    ])
    const second = await page([
      '--part-number-marker',
      String(first.ObjectParts.NextPartNumberMarker),
    ])
    expect(second.ObjectParts.IsTruncated).toBe(false)
    expect(second.ObjectParts.Parts).toEqual([
      { PartNumber: 2, Size: 4321, ChecksumCRC32: listed[1]?.ChecksumCRC32 },
    ])
    // The bytes are the parts, in order.
    const out = join(work.path, 'down.bin')
    await awsJson(['s3api', 'get-object', '--bucket', bucket, '--key', key, out])
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(
      createHash('sha256').update(Buffer.concat(parts)).digest('hex'),
    )
  })
})

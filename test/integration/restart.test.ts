import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const dir = tempDir()
afterAll(() => dir.remove())
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('restart', () => {
  it('keeps every acknowledged object and sweeps leftovers of interrupted writes', async () => {
    let server: TestSovra = await startSovra({ dataDir: dir.path })
    const small = randomBytes(1000)
    const large = randomBytes(2 * 1024 * 1024)
    let s3 = s3For(server, 'ap-southeast-1')
    await s3.send(new CreateBucketCommand({ Bucket: 'kept' }))
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'small', Body: small }))
    await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'large', Body: large }))
    await server.stop()

    const blobs = join(dir.path, 'dcs', 'ap-southeast-1', 'blobs')
    const temp = join(blobs, 'tmp', 'interrupted-upload')
    writeFileSync(temp, 'half an object')
    mkdirSync(join(blobs, 'objects', 'ab', 'cd'), { recursive: true })
    const orphan = join(blobs, 'objects', 'ab', 'cd', 'abcd0000000000000000000000000000')
    writeFileSync(orphan, 'renamed but never committed')

    server = await startSovra({ dataDir: dir.path })
    try {
      s3 = s3For(server, 'ap-southeast-1')
      const got = async (Key: string) =>
        sha(
          (await (
            await s3.send(new GetObjectCommand({ Bucket: 'kept', Key }))
          ).Body?.transformToByteArray()) ?? new Uint8Array(),
        )
      expect(await got('small')).toBe(sha(small))
      expect(await got('large')).toBe(sha(large))
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'kept' }))
      expect(list.Contents?.map((c) => c.Key)).toEqual(['large', 'small'])
      expect(existsSync(temp)).toBe(false)
      expect(existsSync(orphan)).toBe(false)
      expect(server.sovra.rootCredentials).toBeNull()
    } finally {
      await server.stop()
    }
  })
})

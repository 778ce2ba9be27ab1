import { Readable } from 'node:stream'
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { s3For } from '../support/s3-client.js'
import { startSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const dir = tempDir()
afterAll(() => dir.remove())

describe('graceful shutdown', () => {
  it('finishes an in-flight upload, then stops accepting and closes the stores', async () => {
    const server = await startSovra({ dataDir: dir.path })
    const s3 = s3For(server, 'us-west-1')
    await s3.send(new CreateBucketCommand({ Bucket: 'shutdown' }))
    const chunk = Buffer.alloc(64 * 1024, 1)
    const slow = Readable.from(
      (async function* () {
        for (let i = 0; i < 16; i++) {
          await new Promise((r) => setTimeout(r, 40))
          yield chunk
        }
      })(),
    )
    const upload = s3.send(
      new PutObjectCommand({
        Bucket: 'shutdown',
        Key: 'in-flight',
        Body: slow,
        ContentLength: 16 * chunk.length,
      }),
    )
    await new Promise((r) => setTimeout(r, 150))
    const stopped = server.sovra.stop()
    const put = await upload
    expect(put.ETag).toBeTruthy()
    await stopped
    await expect(fetch(server.endpoint('us-west-1'))).rejects.toThrow()

    const again = await startSovra({ dataDir: dir.path })
    try {
      const got = await s3For(again, 'us-west-1').send(
        new GetObjectCommand({ Bucket: 'shutdown', Key: 'in-flight' }),
      )
      expect(got.ContentLength).toBe(16 * chunk.length)
    } finally {
      await again.stop()
    }
  })
})

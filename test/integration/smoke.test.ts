import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
beforeAll(async () => {
  server = await startSovra()
})
afterAll(async () => {
  await server?.stop()
})

describe('smoke', () => {
  it('puts and gets an object', async () => {
    const s3 = s3For(server, 'us-west-1')
    await s3.send(new CreateBucketCommand({ Bucket: 'smoke' }))
    await s3.send(new PutObjectCommand({ Bucket: 'smoke', Key: 'a.txt', Body: 'hello' }))
    const got = await s3.send(new GetObjectCommand({ Bucket: 'smoke', Key: 'a.txt' }))
    expect(await got.Body?.transformToString()).toBe('hello')
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'smoke' }))
    expect(list.Contents?.map((c) => c.Key)).toEqual(['a.txt'])
  })
})

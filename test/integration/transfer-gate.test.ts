// The transfer gate's S3 faces and a whole-bucket migrate, against a real in-process server.

import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  keygen,
  newNonce,
  signInstruction,
  type TransferInstruction,
  type TransferService,
} from '../../src/residency/index.js'
import { cliOf } from '../support/cli.js'
import { s3Error, s3For, s3ForAll } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let transfers: TransferService
let tenantId: string
const pair = keygen()

beforeAll(async () => {
  server = await startSovra()
  transfers = server.sovra.transfers as TransferService
  const key = await transfers.addPublicKey('admin', pair.publicKeyPem)
  tenantId = key.tenantId
})
afterAll(async () => {
  await server?.stop()
})

function instruction(overrides: Partial<TransferInstruction>): TransferInstruction {
  const now = Date.now()
  return {
    type: 'sovra.transfer-instruction',
    version: 1,
    tenantId,
    source: { dc: 'us-west-1', bucket: 'gate-src' },
    destination: { dc: 'us-east-1', bucket: 'gate-dst' },
    scope: { kind: 'prefix', prefix: 'shared/' },
    operation: 'copy',
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 3_600_000).toISOString(),
    nonce: newNonce(),
    ...overrides,
  }
}

async function submit(overrides: Partial<TransferInstruction>): Promise<string> {
  const record = await transfers.submit(
    signInstruction(instruction(overrides), pair.privateKeyPem),
    'admin',
  )
  await transfers.idle()
  return record.id
}

/** A client that sends `x-sovra-transfer-instruction: <id>` (signed, like any header). */
function withInstruction(client: S3Client, id: string): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> }
      request.headers['x-sovra-transfer-instruction'] = id
      return next(args)
    },
    { step: 'build', name: 'transferInstruction' },
  )
  return client
}

describe('CopyObject and UploadPartCopy across data centers', () => {
  const body = randomBytes(70_000)
  beforeAll(async () => {
    await s3For(server, 'us-west-1').send(new CreateBucketCommand({ Bucket: 'gate-src' }))
    await s3For(server, 'us-east-1').send(new CreateBucketCommand({ Bucket: 'gate-dst' }))
    await s3For(server, 'us-west-1').send(
      new PutObjectCommand({ Bucket: 'gate-src', Key: 'shared/a.bin', Body: body }),
    )
    await s3For(server, 'us-west-1').send(
      new PutObjectCommand({ Bucket: 'gate-src', Key: 'private/b.bin', Body: 'secret' }),
    )
  })

  const copy = (client: S3Client, key: string) =>
    client.send(
      new CopyObjectCommand({
        Bucket: 'gate-dst',
        Key: key,
        CopySource: `gate-src/${key}`,
        MetadataDirective: 'REPLACE',
        Metadata: { via: 's3' },
      }),
    )

  it('refuses without an instruction, with AccessDenied naming the missing instruction', async () => {
    const err = await s3Error(copy(s3For(server, 'us-east-1'), 'shared/a.bin'))
    expect(err.name).toBe('AccessDenied')
    expect(err.message).toContain('needs a transfer instruction')
    expect(err.message).toContain('x-sovra-transfer-instruction')
  })

  it('refuses with an unknown or a non-matching instruction', async () => {
    const unknown = await s3Error(
      copy(withInstruction(s3For(server, 'us-east-1'), 'f'.repeat(64)), 'shared/a.bin'),
    )
    expect(unknown.name).toBe('AccessDenied')
    expect(unknown.message).toContain('no instruction with that id')

    const id = await submit({ scope: { kind: 'prefix', prefix: 'shared/' } })
    // A key outside the signed scope.
    const outside = await s3Error(
      copy(withInstruction(s3For(server, 'us-east-1'), id), 'private/b.bin'),
    )
    expect(outside.name).toBe('AccessDenied')
    expect(outside.message).toContain("outside the instruction's scope")
    // The right scope, but another destination bucket.
    await s3For(server, 'us-east-1').send(new CreateBucketCommand({ Bucket: 'gate-other' }))
    const elsewhere = await s3Error(
      withInstruction(s3For(server, 'us-east-1'), id).send(
        new CopyObjectCommand({
          Bucket: 'gate-other',
          Key: 'shared/a.bin',
          CopySource: 'gate-src/shared/a.bin',
        }),
      ),
    )
    expect(elsewhere.name).toBe('AccessDenied')
    expect(elsewhere.message).toContain('destination.bucket')
  })

  it('copies through the gate with an instruction that covers exactly this copy', async () => {
    const id = await submit({ scope: { kind: 'keys', keys: ['shared/a.bin'] } })
    const client = withInstruction(s3For(server, 'us-east-1'), id)
    const out = await copy(client, 'shared/a.bin')
    expect(out.CopyObjectResult?.ETag).toBeDefined()
    const head = await client.send(
      new HeadObjectCommand({ Bucket: 'gate-dst', Key: 'shared/a.bin' }),
    )
    expect(head.Metadata).toEqual({ via: 's3' }) // written by this CopyObject, not by the job
    const got = await client.send(new GetObjectCommand({ Bucket: 'gate-dst', Key: 'shared/a.bin' }))
    expect(
      Buffer.from(
        await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ),
    ).toEqual(body)
  })

  it('builds a multipart part from a source in another data center with UploadPartCopy', async () => {
    const id = await submit({ scope: { kind: 'keys', keys: ['shared/a.bin'] } })
    const client = withInstruction(s3For(server, 'us-east-1'), id)
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'gate-dst', Key: 'shared/a.bin' }),
    )
    const part = await client.send(
      new UploadPartCopyCommand({
        Bucket: 'gate-dst',
        Key: 'shared/a.bin',
        UploadId,
        PartNumber: 1,
        CopySource: 'gate-src/shared/a.bin',
        CopySourceRange: 'bytes=1000-1999',
      }),
    )
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'gate-dst',
        Key: 'shared/a.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag as string }] },
      }),
    )
    const got = await client.send(new GetObjectCommand({ Bucket: 'gate-dst', Key: 'shared/a.bin' }))
    const bytes = Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    )
    expect(bytes).toEqual(body.subarray(1000, 2000))
  })
})

describe('migrate', () => {
  it('moves a whole bucket to another data center; the old endpoint then redirects to the new one', async () => {
    const west = s3For(server, 'us-west-1')
    await west.send(new CreateBucketCommand({ Bucket: 'gate-mig' }))
    const big = randomBytes(200_000)
    await west.send(new PutObjectCommand({ Bucket: 'gate-mig', Key: 'x/big', Body: big }))
    // Large enough to be read back while it is written (object-copier.ts, OFF_THREAD_MIN_BYTES).
    const large = randomBytes(6 * 1024 * 1024 + 123)
    await west.send(new PutObjectCommand({ Bucket: 'gate-mig', Key: 'x/large', Body: large }))
    await west.send(new PutObjectCommand({ Bucket: 'gate-mig', Key: 'small', Body: 'tiny' }))
    const canary = 'object-name-canary-7f3a9c'
    await west.send(new PutObjectCommand({ Bucket: 'gate-mig', Key: canary, Body: 'c' }))

    const id = await submit({
      operation: 'migrate',
      scope: { kind: 'bucket' },
      source: { dc: 'us-west-1', bucket: 'gate-mig' },
      destination: { dc: 'us-east-1', bucket: 'gate-mig' },
    })
    expect(await transfers.status(id)).toMatchObject({ status: 'done', objectsDone: 4 })
    // Object names are object metadata: the job's progress never put one in the directory.
    const files = readdirSync(server.dataDir).filter((f) => f.startsWith('directory.sqlite'))
    expect(files).toContain('directory.sqlite')
    for (const file of files) {
      expect(readFileSync(join(server.dataDir, file)).includes(canary), file).toBe(false)
    }

    const redirect = await s3Error(
      west.send(new GetObjectCommand({ Bucket: 'gate-mig', Key: 'small' })),
    )
    expect(redirect.name).toBe('PermanentRedirect')
    expect(redirect.$response?.headers['x-amz-bucket-region']).toBe('us-east-1')

    // The old home holds nothing any more: the redirect is all it can answer.
    const again = await s3Error(
      west.send(new HeadObjectCommand({ Bucket: 'gate-mig', Key: 'x/big' })),
    )
    expect(again.$metadata.httpStatusCode).toBe(301)
    const following = s3ForAll(server, { region: 'us-west-1', followRegionRedirects: true })
    const got = await following.send(new GetObjectCommand({ Bucket: 'gate-mig', Key: 'x/big' }))
    const bytes = Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    )
    expect(bytes).toEqual(big)
    const gotLarge = await following.send(
      new GetObjectCommand({ Bucket: 'gate-mig', Key: 'x/large' }),
    )
    const largeBytes = Buffer.from(
      await (
        gotLarge.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray(),
    )
    // Compared as digests: a deep equality over 6 MiB takes vitest minutes.
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    expect(sha(largeBytes)).toBe(sha(large))
    expect(gotLarge.ETag).toBe(`"${createHash('md5').update(large).digest('hex')}"`)
  })
})

describe('sovra transfer submit through the admin API', () => {
  it('submits as the tenant of AWS_ACCESS_KEY_ID; the server logs it and runs it', async () => {
    const west = s3For(server, 'us-west-1')
    await west.send(new CreateBucketCommand({ Bucket: 'gate-cli-src' }))
    await s3For(server, 'us-east-1').send(new CreateBucketCommand({ Bucket: 'gate-cli-dst' }))
    await west.send(
      new PutObjectCommand({ Bucket: 'gate-cli-src', Key: 'doc', Body: 'via the CLI' }),
    )
    const signed = signInstruction(
      instruction({
        source: { dc: 'us-west-1', bucket: 'gate-cli-src' },
        destination: { dc: 'us-east-1', bucket: 'gate-cli-dst' },
        scope: { kind: 'bucket' },
        operation: 'move',
      }),
      pair.privateKeyPem,
    )
    const file = join(server.dataDir, 'signed-instruction.json')
    writeFileSync(file, JSON.stringify(signed))
    const submitted = await cliOf(server)(['transfer', 'submit', file, '--json'], {
      AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    })
    expect(submitted.code).toBe(0)
    const { id, loggedAt } = JSON.parse(submitted.stdout) as { id: string; loggedAt: string }
    // Logged in both data centers before the answer, so before any byte moved.
    expect(loggedAt).toEqual(expect.any(String))
    await expect
      .poll(async () => (await transfers.status(id)).status, { timeout: 15_000, interval: 200 })
      .toBe('done')
    const got = await s3For(server, 'us-east-1').send(
      new GetObjectCommand({ Bucket: 'gate-cli-dst', Key: 'doc' }),
    )
    expect(await (got.Body as { transformToString(): Promise<string> }).transformToString()).toBe(
      'via the CLI',
    )
    const gone = await s3Error(
      west.send(new HeadObjectCommand({ Bucket: 'gate-cli-src', Key: 'doc' })),
    )
    expect(gone.$metadata.httpStatusCode).toBe(404)
  })
})

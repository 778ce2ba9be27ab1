// Issue 5's end-to-end proof: every path that could carry bytes from one data center to another
// is refused without a customer's instruction, and allowed only with one that matches exactly.
// Two active data centers of one running server (A = us-west-1, B = us-east-1), buckets of the
// same tenant in each; real HTTP, the AWS SDK v3, raw SigV4 where the SDK cannot express the
// attack, and the admin API for instructions. After every refusal, B is checked: no object, no
// upload, no new byte in its blob folder.

import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  instructionDigest,
  keygen,
  newNonce,
  signInstruction,
  type TransferInstruction,
} from '../../src/residency/index.js'
import { adminCall } from '../support/admin-client.js'
import { cliOf } from '../support/cli.js'
import { rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

const A = 'us-west-1'
const B = 'us-east-1'
/** Recognisable bytes: if any response carried them, the check below would find this marker. */
const MARKER = 'SOVRA-CROSS-DC-MARKER-'
const body = Buffer.concat([Buffer.from(MARKER), randomBytes(40_000), Buffer.from(MARKER)])

let server: TestSovra
let admin: string
let token: string
let tenantId: string
let a: S3Client
let b: S3Client
const pair = keygen()

beforeAll(async () => {
  server = await startSovra()
  admin = server.sovra.adminEndpoint
  registerRegion(server.endpoint(A), A)
  registerRegion(server.endpoint(B), B)
  token = readFileSync(join(server.dataDir, 'keys', 'operator.token'), 'utf8').trim()
  tenantId = (await adminCall(admin, '/admin/v1/tenant', { sigv4: ROOT })).json.id as string
  const added = await adminCall(admin, '/admin/v1/tenant/signing-keys', {
    sigv4: ROOT,
    body: { publicKey: pair.publicKeyPem },
  })
  expect(added.status).toBe(201)
  a = s3For(server, A)
  b = s3For(server, B)
  await a.send(new CreateBucketCommand({ Bucket: 'xdc-a' }))
  await b.send(new CreateBucketCommand({ Bucket: 'xdc-b' }))
  await b.send(new CreateBucketCommand({ Bucket: 'xdc-b2' }))
  await a.send(new PutObjectCommand({ Bucket: 'xdc-a', Key: 'doc/a.bin', Body: body }))
  await a.send(new PutObjectCommand({ Bucket: 'xdc-a', Key: 'doc/other.bin', Body: body }))
})
afterAll(async () => {
  await server?.stop()
})

function instruction(overrides: Partial<TransferInstruction> = {}): TransferInstruction {
  const now = Date.now()
  return {
    type: 'sovra.transfer-instruction',
    version: 1,
    tenantId,
    source: { dc: A, bucket: 'xdc-a' },
    destination: { dc: B, bucket: 'xdc-b' },
    scope: { kind: 'keys', keys: ['doc/a.bin'] },
    operation: 'copy',
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 3_600_000).toISOString(),
    nonce: newNonce(),
    ...overrides,
  }
}

/** Submits through the admin API as the tenant; the answer's status and body. */
async function submit(signed: unknown) {
  return adminCall(admin, '/admin/v1/transfers', { sigv4: ROOT, body: signed })
}

/** Submits an instruction that must be accepted; its transfer id. */
async function accepted(ins: TransferInstruction, key = pair.privateKeyPem): Promise<string> {
  const res = await submit(signInstruction(ins, key))
  expect(res.status, JSON.stringify(res.json)).toBe(201)
  await server.sovra.transfers?.idle()
  return res.json.id as string
}

/** A client that sends `x-sovra-transfer-instruction: <id>` (signed, like any header). */
function withInstruction(client: S3Client, id: string): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      ;(args.request as { headers: Record<string, string> }).headers[
        'x-sovra-transfer-instruction'
      ] = id
      return next(args)
    },
    { step: 'build', name: 'transferInstruction' },
  )
  return client
}

const bytesOf = async (out: { Body?: unknown }) =>
  Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  )

/** Bytes and files under a data center's blob folder. */
function blobUsage(dc: string): { files: number; bytes: number } {
  let files = 0
  let bytes = 0
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        files += 1
        bytes += statSync(path).size
      }
    }
  }
  walk(join(server.dataDir, 'dcs', dc, 'blobs'))
  return { files, bytes }
}

/** What B holds of the tenant: object keys of its buckets, and open uploads. */
async function stateOfB() {
  const keys: string[] = []
  const uploads: string[] = []
  for (const bucket of ['xdc-b', 'xdc-b2']) {
    const listed = await b.send(new ListObjectsV2Command({ Bucket: bucket }))
    keys.push(...(listed.Contents ?? []).map((o) => `${bucket}/${o.Key}`))
    const open = await b.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
    uploads.push(...(open.Uploads ?? []).map((u) => `${bucket}/${u.Key}/${u.UploadId}`))
  }
  return { keys: keys.sort(), uploads: uploads.sort(), blobs: blobUsage(B) }
}

/** Runs refused attempts and checks they left B exactly as it was. */
async function leavesBUntouched(attempts: () => Promise<void>): Promise<void> {
  const before = await stateOfB()
  await attempts()
  expect(await stateOfB()).toEqual(before)
}

const copyA = (client: S3Client, key = 'doc/a.bin', bucket = 'xdc-b') =>
  client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `xdc-a/${key}` }))

describe('a) CopyObject from a bucket in A into a bucket in B (sent to B)', () => {
  it('is refused without an instruction, and with one that does not match', async () => {
    const wrongBucket = await accepted(
      instruction({
        destination: { dc: B, bucket: 'xdc-b2' },
        scope: { kind: 'prefix', prefix: 'doc/' },
      }),
    )
    const otherScope = await accepted(
      instruction({ scope: { kind: 'keys', keys: ['doc/other.bin'] } }),
    )
    // Signed with a key the tenant never registered: the gate refuses to record it, so its id
    // names nothing an S3 copy could use.
    const stranger = signInstruction(instruction(), keygen().privateKeyPem)
    const strangerSubmit = await submit(stranger)
    expect([strangerSubmit.status, strangerSubmit.json.code]).toEqual([
      403,
      'InstructionKeyUnknown',
    ])

    await leavesBUntouched(async () => {
      const none = await s3Error(copyA(b))
      expect([none.name, none.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
      expect(none.message).toContain('needs a transfer instruction')

      const unrecorded = await s3Error(
        copyA(withInstruction(s3For(server, B), instructionDigest(stranger.instruction))),
      )
      expect(unrecorded.name).toBe('AccessDenied')
      expect(unrecorded.message).toContain(
        'no instruction with that id was submitted by this tenant',
      )

      const bucket = await s3Error(copyA(withInstruction(s3For(server, B), wrongBucket)))
      expect(bucket.name).toBe('AccessDenied')
      expect(bucket.message).toContain(
        '"destination.bucket" is "xdc-b" but the instruction signed "xdc-b2"',
      )

      const key = await s3Error(copyA(withInstruction(s3For(server, B), otherScope)))
      expect(key.name).toBe('AccessDenied')
      expect(key.message).toContain(`"doc/a.bin" is outside the instruction's scope`)

      // The destination key must be the source key: no renaming across data centers.
      const renamed = await s3Error(
        withInstruction(s3For(server, B), otherScope).send(
          new CopyObjectCommand({
            Bucket: 'xdc-b',
            Key: 'doc/other.bin',
            CopySource: 'xdc-a/doc/a.bin',
          }),
        ),
      )
      expect(renamed.name).toBe('AccessDenied')
    })
  })

  it('is allowed with a matching instruction; a replayed, expired or revoked-key instruction covers nothing', async () => {
    const signed = signInstruction(instruction(), pair.privateKeyPem)
    const res = await submit(signed)
    expect(res.status).toBe(201)
    const id = res.json.id as string
    // Submitting it again is refused: the nonce is spent, nothing more is recorded.
    const replay = await submit(signed)
    expect([replay.status, replay.json.code]).toEqual([409, 'InstructionReplayed'])

    const out = await copyA(withInstruction(s3For(server, B), id))
    expect(out.CopyObjectResult?.ETag).toBeDefined()
    expect(
      await bytesOf(await b.send(new GetObjectCommand({ Bucket: 'xdc-b', Key: 'doc/a.bin' }))),
    ).toEqual(body)
    const listed = await adminCall(admin, '/admin/v1/transfers?limit=1000', { sigv4: ROOT })
    expect(
      (listed.json.transfers as Array<{ id: string }>).filter((t) => t.id === id),
    ).toHaveLength(1)

    // An expired instruction is refused at submission, so its id covers no copy. (Expiry of an
    // instruction accepted earlier is checked again at each copy: gate.test.ts, with a clock
    // this in-process server cannot be given.)
    const expired = signInstruction(
      instruction({
        notBefore: new Date(Date.now() - 7_200_000).toISOString(),
        notAfter: new Date(Date.now() - 3_600_000).toISOString(),
      }),
      pair.privateKeyPem,
    )
    const late = await submit(expired)
    expect([late.status, late.json.code]).toEqual([403, 'InstructionExpired'])
    await leavesBUntouched(async () => {
      const refused = await s3Error(
        copyA(withInstruction(s3For(server, B), instructionDigest(expired.instruction))),
      )
      expect(refused.name).toBe('AccessDenied')
      expect(refused.message).toContain('no instruction with that id')
    })

    // A fresh instruction with a key revoked since: refused.
    const other = keygen()
    await adminCall(admin, '/admin/v1/tenant/signing-keys', {
      sigv4: ROOT,
      body: { publicKey: other.publicKeyPem },
    })
    const laterId = await accepted(
      instruction({ scope: { kind: 'keys', keys: ['doc/other.bin'] } }),
      other.privateKeyPem,
    )
    await adminCall(admin, `/admin/v1/tenant/signing-keys/${other.keyId}`, {
      sigv4: ROOT,
      method: 'DELETE',
    })
    await leavesBUntouched(async () => {
      const revoked = await s3Error(
        copyA(withInstruction(s3For(server, B), laterId), 'doc/other.bin'),
      )
      expect(revoked.name).toBe('AccessDenied')
      expect(revoked.message).toContain('is revoked')
    })
  })
})

describe('b) UploadPartCopy from a bucket in A into an upload in B', () => {
  const partCopy = (client: S3Client, uploadId: string) =>
    client.send(
      new UploadPartCopyCommand({
        Bucket: 'xdc-b',
        Key: 'doc/a.bin',
        UploadId: uploadId,
        PartNumber: 1,
        CopySource: 'xdc-a/doc/a.bin',
        CopySourceRange: 'bytes=0-9999',
      }),
    )

  it('is refused without an instruction or with one that does not match, allowed with one that does', async () => {
    const { UploadId } = await b.send(
      new CreateMultipartUploadCommand({ Bucket: 'xdc-b', Key: 'doc/a.bin' }),
    )
    const uploadId = UploadId as string
    const wrongBucket = await accepted(instruction({ destination: { dc: B, bucket: 'xdc-b2' } }))
    const otherScope = await accepted(
      instruction({ scope: { kind: 'keys', keys: ['doc/other.bin'] } }),
    )
    await leavesBUntouched(async () => {
      const none = await s3Error(partCopy(b, uploadId))
      expect([none.name, none.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
      expect(none.message).toContain('needs a transfer instruction')
      // Another bucket, another key, an instruction signed with a key the tenant never
      // registered (so never accepted), an id nobody submitted.
      const unregistered = signInstruction(instruction(), keygen().privateKeyPem).instruction
      for (const id of [wrongBucket, otherScope, instructionDigest(unregistered), 'f'.repeat(64)]) {
        const refused = await s3Error(partCopy(withInstruction(s3For(server, B), id), uploadId))
        expect([refused.name, refused.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
      }
    })

    const id = await accepted(instruction())
    const client = withInstruction(s3For(server, B), id)
    const part = await partCopy(client, uploadId)
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'xdc-b',
        Key: 'doc/a.bin',
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag as string }] },
      }),
    )
    const got = await bytesOf(
      await b.send(new GetObjectCommand({ Bucket: 'xdc-b', Key: 'doc/a.bin' })),
    )
    expect(got).toEqual(body.subarray(0, 10_000))
  })
})

describe('c) a presigned URL signed for A, replayed against B', () => {
  it('is refused at B (the signature covers A’s host), and B serves none of the bytes', async () => {
    const command = new GetObjectCommand({ Bucket: 'xdc-a', Key: 'doc/a.bin' })
    // Signed for A's own region, and for us-east-1 (which every endpoint accepts as a region).
    const forA = await getSignedUrl(a, command, { expiresIn: 600 })
    const anyRegion = new S3Client({
      endpoint: server.endpoint(A),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: ROOT,
    })
    const forAnyRegion = await getSignedUrl(anyRegion, command, { expiresIn: 600 })
    // The URLs work where they were signed for.
    for (const url of [forA, forAnyRegion]) {
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(Buffer.from(await res.arrayBuffer())).toEqual(body)
    }
    const atB = (url: string) => url.replace(server.endpoint(A), server.endpoint(B))
    await leavesBUntouched(async () => {
      const regionA = await fetch(atB(forA))
      const text = await regionA.text()
      expect(regionA.status).toBe(400)
      expect(text).toContain('<Code>AuthorizationQueryParametersError</Code>')
      expect(text).not.toContain(MARKER)
      const regionAny = await fetch(atB(forAnyRegion))
      const text2 = await regionAny.text()
      expect(regionAny.status).toBe(403)
      expect(text2).toContain('<Code>SignatureDoesNotMatch</Code>')
      expect(text2).not.toContain(MARKER)
    })
  })
})

describe('d) a request for A’s bucket sent to B’s endpoint', () => {
  it('GET and PUT get 301 PermanentRedirect naming A’s endpoint; B relays and stores nothing', async () => {
    const hostOfA = new URL(server.endpoint(A)).host
    await leavesBUntouched(async () => {
      const get = await rawRequest(server.endpoint(B), '/xdc-a/doc/a.bin')
      expect(get.status).toBe(301)
      expect(get.body).toContain('<Code>PermanentRedirect</Code>')
      expect(get.body).toContain(`<Endpoint>${hostOfA}</Endpoint>`)
      expect(get.headers['x-amz-bucket-region']).toBe(A)
      expect(get.body).not.toContain(MARKER)

      const put = await rawRequest(server.endpoint(B), '/xdc-a/doc/planted.bin', {
        method: 'PUT',
        body: `${MARKER}planted`,
      })
      expect(put.status).toBe(301)
      expect(put.body).toContain(`<Endpoint>${hostOfA}</Endpoint>`)

      // The SDK, pointed at B without following redirects, gets the same answer.
      const sdk = await s3Error(b.send(new GetObjectCommand({ Bucket: 'xdc-a', Key: 'doc/a.bin' })))
      expect([sdk.name, sdk.$metadata.httpStatusCode]).toEqual(['PermanentRedirect', 301])
    })
    // Nor did the PUT land in A: it was answered, not relayed.
    const inA = await a.send(new ListObjectsV2Command({ Bucket: 'xdc-a', Prefix: 'doc/planted' }))
    expect(inA.KeyCount).toBe(0)
  })
})

describe('e) a multipart upload started in A, continued or completed at B', () => {
  it('is refused at B (redirect for A’s bucket, NoSuchUpload for B’s), and nothing is written in B', async () => {
    const { UploadId } = await a.send(
      new CreateMultipartUploadCommand({ Bucket: 'xdc-a', Key: 'mp.bin' }),
    )
    const uploadId = UploadId as string
    const part = await a.send(
      new UploadPartCommand({
        Bucket: 'xdc-a',
        Key: 'mp.bin',
        UploadId: uploadId,
        PartNumber: 1,
        Body: body,
      }),
    )
    const parts = { Parts: [{ PartNumber: 1, ETag: part.ETag as string }] }
    await leavesBUntouched(async () => {
      // A's bucket at B: redirected before anything is read or stored.
      const uploadAtB = await s3Error(
        b.send(
          new UploadPartCommand({
            Bucket: 'xdc-a',
            Key: 'mp.bin',
            UploadId: uploadId,
            PartNumber: 2,
            Body: body,
          }),
        ),
      )
      expect([uploadAtB.name, uploadAtB.$metadata.httpStatusCode]).toEqual([
        'PermanentRedirect',
        301,
      ])
      const completeAtB = await s3Error(
        b.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'xdc-a',
            Key: 'mp.bin',
            UploadId: uploadId,
            MultipartUpload: parts,
          }),
        ),
      )
      expect([completeAtB.name, completeAtB.$metadata.httpStatusCode]).toEqual([
        'PermanentRedirect',
        301,
      ])
      // A's upload id on B's own bucket: B has no such upload.
      const partInB = await s3Error(
        b.send(
          new UploadPartCommand({
            Bucket: 'xdc-b',
            Key: 'mp.bin',
            UploadId: uploadId,
            PartNumber: 1,
            Body: body,
          }),
        ),
      )
      expect([partInB.name, partInB.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404])
      const completeInB = await s3Error(
        b.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'xdc-b',
            Key: 'mp.bin',
            UploadId: uploadId,
            MultipartUpload: parts,
          }),
        ),
      )
      expect([completeInB.name, completeInB.$metadata.httpStatusCode]).toEqual([
        'NoSuchUpload',
        404,
      ])
    })
    // The upload is intact in A, and completes there.
    await a.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'xdc-a',
        Key: 'mp.bin',
        UploadId: uploadId,
        MultipartUpload: parts,
      }),
    )
    expect(
      await bytesOf(await a.send(new GetObjectCommand({ Bucket: 'xdc-a', Key: 'mp.bin' }))),
    ).toEqual(body)
  })
})

describe('f) migrate', () => {
  const locationOf = async (bucket: string) =>
    (await a.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint
  const migrate = (overrides: Partial<TransferInstruction> = {}) =>
    instruction({
      operation: 'migrate',
      scope: { kind: 'bucket' },
      source: { dc: A, bucket: 'xdc-mig' },
      destination: { dc: B, bucket: 'xdc-mig' },
      ...overrides,
    })

  beforeAll(async () => {
    await a.send(new CreateBucketCommand({ Bucket: 'xdc-mig' }))
    await a.send(new PutObjectCommand({ Bucket: 'xdc-mig', Key: 'm.bin', Body: body }))
  })

  it('is refused without an instruction by every path, and with one that does not match', async () => {
    const before = blobUsage(B)
    // The operator cannot submit one, whatever it carries.
    const byOperator = await adminCall(admin, '/admin/v1/transfers', {
      token,
      body: signInstruction(migrate(), pair.privateKeyPem),
    })
    expect([byOperator.status, byOperator.json.code]).toEqual([403, 'Forbidden'])
    // The tenant, with nothing that verifies.
    const unsigned = signInstruction(migrate(), pair.privateKeyPem)
    const forged = { ...unsigned, signature: Buffer.alloc(64).toString('base64') }
    const refusals: Array<[unknown, number, string]> = [
      [{ instruction: migrate(), keyId: pair.keyId }, 400, 'InstructionMalformed'],
      [forged, 403, 'InstructionSignatureInvalid'],
      [signInstruction(migrate(), keygen().privateKeyPem), 403, 'InstructionKeyUnknown'],
      [
        signInstruction(
          migrate({
            notBefore: new Date(Date.now() - 7_200_000).toISOString(),
            notAfter: new Date(Date.now() - 3_600_000).toISOString(),
          }),
          pair.privateKeyPem,
        ),
        403,
        'InstructionExpired',
      ],
      [
        signInstruction(
          migrate({
            source: { dc: A, bucket: 'xdc-a-none' },
            destination: { dc: B, bucket: 'xdc-a-none' },
          }),
          pair.privateKeyPem,
        ),
        409,
        'InstructionBucketMismatch',
      ],
      [
        signInstruction(
          migrate({
            source: { dc: B, bucket: 'xdc-mig' },
            destination: { dc: A, bucket: 'xdc-mig' },
          }),
          pair.privateKeyPem,
        ),
        409,
        'InstructionBucketMismatch',
      ],
    ]
    for (const [doc, status, code] of refusals) {
      const res = await submit(doc)
      expect([res.status, res.json.code], code).toEqual([status, code])
    }
    // None of the refusals was recorded (read back through the CLI, which has no other door).
    const cli = await cliOf(server)(['transfer', 'list', '--json'], {
      AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    })
    const ops = (JSON.parse(cli.stdout) as Array<{ operation: string }>).map((t) => t.operation)
    expect(ops).not.toContain('migrate')
    // S3: creating the bucket again at B is not a way to move it either: it exists, and is
    // yours (409, as AWS answers wherever the bucket lives).
    const create = await s3Error(b.send(new CreateBucketCommand({ Bucket: 'xdc-mig' })))
    expect([create.name, create.$metadata.httpStatusCode]).toEqual(['BucketAlreadyOwnedByYou', 409])
    // The home did not move, B holds nothing of it, and its bytes are still served by A.
    expect(await locationOf('xdc-mig')).toBe(A)
    const headAtB = await s3Error(b.send(new HeadBucketCommand({ Bucket: 'xdc-mig' })))
    expect(headAtB.$metadata.httpStatusCode).toBe(301)
    expect(blobUsage(B)).toEqual(before)
    expect(
      await bytesOf(await a.send(new GetObjectCommand({ Bucket: 'xdc-mig', Key: 'm.bin' }))),
    ).toEqual(body)
    // An S3 copy cannot run a migrate instruction either: only the gate's job does.
  })

  it('is allowed with a matching instruction, and that instruction cannot be replayed', async () => {
    const signed = signInstruction(migrate(), pair.privateKeyPem)
    const res = await submit(signed)
    expect(res.status).toBe(201)
    const id = res.json.id as string
    await expect
      .poll(
        async () =>
          (await adminCall(admin, `/admin/v1/transfers/${id}`, { sigv4: ROOT })).json.status,
        {
          timeout: 20_000,
          interval: 200,
        },
      )
      .toBe('done')
    // Home is B now: B serves it, A redirects there.
    expect(
      (await b.send(new HeadBucketCommand({ Bucket: 'xdc-mig' }))).$metadata.httpStatusCode,
    ).toBe(200)
    expect(
      await bytesOf(await b.send(new GetObjectCommand({ Bucket: 'xdc-mig', Key: 'm.bin' }))),
    ).toEqual(body)
    const old = await s3Error(a.send(new GetObjectCommand({ Bucket: 'xdc-mig', Key: 'm.bin' })))
    expect([old.name, old.$metadata.httpStatusCode]).toEqual(['PermanentRedirect', 301])
    expect(old.$response?.headers['x-amz-bucket-region']).toBe(B)
    const replay = await submit(signed)
    expect([replay.status, replay.json.code]).toEqual([409, 'InstructionReplayed'])
    // A migrate instruction does not authorise S3 copies.
    const copy = await s3Error(
      withInstruction(s3For(server, A), id).send(
        new CopyObjectCommand({ Bucket: 'xdc-a', Key: 'm.bin', CopySource: 'xdc-mig/m.bin' }),
      ),
    )
    expect(copy.name).toBe('AccessDenied')
    expect(copy.message).toContain('a "migrate" instruction is run only by the transfer job')
  })
})

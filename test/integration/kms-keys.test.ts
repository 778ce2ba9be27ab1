// Customer keys per bucket, end to end: a tenant registers a key of a REAL `sovra keyd serve`
// process (log-before-decrypt on) through the admin API, names it in PutBucketEncryption, and the
// AWS SDK writes and reads through it; keyd only unwraps for reads this data center logged first.
// Then the customer revokes the key in keyd (`sovra keyd key disable`): once the DEK cache time
// (1 s here) has passed, every GET fails with KMS.DisabledException, logged in the ledger and in
// one server log line. Also: unknown keys, keys limited to other data centers, a data center
// keyd does not allow, a Sovra without a ledger (no receipt), and removing a key in use.
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/index.js'
import {
  keygen,
  newNonce,
  signInstruction,
  type TransferService,
} from '../../src/residency/index.js'
import { adminCall } from '../support/admin-client.js'
import { cliOf } from '../support/cli.js'
import { spawnKeyd } from '../support/keyd-process.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const WEST = 'us-west-1'
const EAST = 'us-east-1'
const TOKENS = {
  admin: 'keyd-admin-token-kms-0001',
  [WEST]: 'keyd-west-token-kms-00001',
  [EAST]: 'keyd-east-token-kms-00001',
} as const

const state = tempDir('sovra-kms-keys-')
let server: TestSovra
let keyd: { url: string; child: ChildProcess; audit: string; output: () => string }

beforeAll(async () => {
  server = await startSovra({ env: { SOVRA_KMS_CACHE_TTL_MS: '1000' } })
  const secret = await adminCall(server.sovra.adminEndpoint, '/admin/v1/tenant/ledger-secret', {
    sigv4: ROOT,
  })
  expect(secret.status).toBe(200)
  // keyd allows only us-west-1 (by its ledger key), and wants a receipt with every unwrap.
  const westLedgerKey = readFileSync(
    join(server.dataDir, 'dcs', WEST, 'keys', 'ledger.pub'),
    'utf8',
  ).trim()
  const file = join(state.path, 'keyd.json')
  writeFileSync(
    file,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      stateDir: 'keyd-state',
      tokens: {
        admin: TOKENS.admin,
        dataCenters: { [WEST]: TOKENS[WEST], [EAST]: TOKENS[EAST] },
      },
      dataCenters: [{ ledgerKey: westLedgerKey }],
      logBeforeDecrypt: {
        enabled: true,
        maxCheckpointAgeSeconds: 30,
        tenantSecret: secret.json.secret,
      },
    }),
    { mode: 0o600 },
  )
  const { url, child, output } = await spawnKeyd(file)
  expect(output()).toContain('Log-before-decrypt: on')
  keyd = { url, child, audit: join(state.path, 'keyd-state', 'audit.jsonl'), output }
  expect((await keydAdmin(['create', 'tenant-key'])).code).toBe(0)
}, 60_000)

afterAll(async () => {
  keyd?.child.kill('SIGTERM')
  await server?.stop()
  state.remove()
})

/** Runs `sovra keyd key <args>` against the keyd process with its admin token. */
async function keydAdmin(args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const sink = { write: (c: string) => (out += c) }
  const code = await runCli(['keyd', 'key', ...args, '--address', keyd.url], {
    stdout: sink,
    stderr: sink,
    env: { SOVRA_KEYD_TOKEN: TOKENS.admin },
  })
  return { code, out }
}

function auditLines(): Array<Record<string, unknown>> {
  return readFileSync(keyd.audit, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

const kmsKeys = (body?: unknown, method?: string, path = '/admin/v1/tenant/kms-keys') =>
  adminCall(server.sovra.adminEndpoint, path, {
    sigv4: ROOT,
    ...(body === undefined ? {} : { body }),
    ...(method === undefined ? {} : { method }),
  })

function register(keyId: string, dc: 'us-west-1' | 'us-east-1', keyName = 'tenant-key') {
  return kmsKeys({ keyId, address: keyd.url, keyName, token: TOKENS[dc], dataCenters: [dc] })
}

async function useKey(s3: S3Client, Bucket: string, KMSMasterKeyID: string): Promise<void> {
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID } },
        ],
      },
    }),
  )
}

/**
 * How many events of `type` (matching `where`) the tenant's events API finds in a log, waiting
 * up to 10 s for at least `atLeast` (the event index follows the log shortly).
 */
async function eventCount(
  dc: string,
  type: string,
  atLeast: number,
  where: (event: Record<string, unknown>) => boolean = () => true,
): Promise<number> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const page = await adminCall(
      server.sovra.adminEndpoint,
      `/admin/v1/tenant/events?dc=${dc}&type=${type}&limit=1000`,
      { sigv4: ROOT },
    )
    expect(page.status).toBe(200)
    const count = (page.json.events as Array<{ event: Record<string, unknown> }>).filter((e) =>
      where(e.event),
    ).length
    if (count >= atLeast || Date.now() > deadline) return count
    await new Promise((r) => setTimeout(r, 100))
  }
}

function storedObject(dc: string, bucket: string, key: string) {
  const db = new Database(join(server.dataDir, 'dcs', dc, 'meta.sqlite'), { readonly: true })
  try {
    const row = db
      .prepare(
        `SELECT o.encryption, o.blob_parts, d.wrapped_key FROM objects o
         LEFT JOIN object_data d ON d.bucket = o.bucket AND d.key = o.key
         WHERE o.bucket = ? AND o.key = ?`,
      )
      .get(bucket, key) as
      | { encryption: string; blob_parts: string | null; wrapped_key: string | null }
      | undefined
    if (row === undefined) throw new Error(`no object ${bucket}/${key}`)
    const wrapped =
      row.wrapped_key ??
      (JSON.parse(row.blob_parts ?? '[]') as Array<{ wrappedKey?: string }>)[0]?.wrappedKey
    return { encryption: JSON.parse(row.encryption) as { kmsKeyId: string }, wrapped }
  } finally {
    db.close()
  }
}

describe('the tenant KMS key registry (admin API, SigV4)', () => {
  it('registers, lists without the token, refuses a reused id and bad input', async () => {
    const added = await register('west-key', WEST)
    expect(added.status).toBe(201)
    const tenantId = (
      await adminCall(server.sovra.adminEndpoint, '/admin/v1/tenant', { sigv4: ROOT })
    ).json.id as string
    expect(added.json).toMatchObject({
      keyId: 'west-key',
      arn: `arn:sovra:kms::${tenantId}:key/west-key`,
      provider: 'vault-transit',
      mount: 'transit',
      keyName: 'tenant-key',
      dataCenters: [WEST],
      disabledAt: null,
    })
    const listed = await kmsKeys()
    expect(listed.status).toBe(200)
    expect(JSON.stringify(listed.json)).not.toContain(TOKENS[WEST])
    expect(JSON.stringify(added.json)).not.toContain(TOKENS[WEST])
    expect((listed.json.kmsKeys as unknown[]).length).toBeGreaterThanOrEqual(1)

    const again = await register('west-key', WEST)
    expect([again.status, again.json.code]).toEqual([409, 'KmsKeyAlreadyExists'])
    const bad = await kmsKeys({
      keyId: 'x/y',
      address: 'ftp://nope',
      keyName: 'bad name',
      token: 't0ken-0000',
    })
    expect([bad.status, bad.json.code]).toEqual([400, 'ValidationFailed'])
    const paths = (bad.json.issues as Array<{ path: string[] }>).map((i) => i.path.join('.')).sort()
    expect(paths).toEqual(['body.address', 'body.keyId', 'body.keyName'])
    const unknownDc = await kmsKeys({
      keyId: 'nowhere',
      address: keyd.url,
      keyName: 'tenant-key',
      token: TOKENS[WEST],
      dataCenters: ['xx-nowhere-1'],
    })
    expect([unknownDc.status, unknownDc.json.code]).toEqual([404, 'NoSuchDataCenter'])
    // Neither the token nor the request body is in the server's log.
    expect(server.logs.join('\n')).not.toContain(TOKENS[WEST])
  })
})

describe('sovra tenant kms-key (the CLI, signing as the tenant)', () => {
  it('adds with the token from the environment, lists without it, removes', async () => {
    const cli = cliOf(server)
    const env = { AWS_ACCESS_KEY_ID: ROOT.accessKeyId, AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey }
    const noToken = await cli(
      ['tenant', 'kms-key', 'add', 'cli-key', '--address', keyd.url, '--key-name', 'tenant-key'],
      env,
    )
    expect(noToken.code).toBe(1)
    expect(noToken.stderr).toContain('SOVRA_KMS_KEY_TOKEN')
    const added = await cli(
      [
        'tenant',
        'kms-key',
        'add',
        'cli-key',
        '--address',
        keyd.url,
        '--key-name',
        'tenant-key',
        '--data-center',
        WEST,
      ],
      { ...env, SOVRA_KMS_KEY_TOKEN: TOKENS[WEST] },
    )
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toMatch(
      /Registered KMS key "cli-key" \(arn:sovra:kms::t-[0-9a-f]{16}:key\/cli-key\)/,
    )
    const listed = await cli(['tenant', 'kms-key', 'list', '--json'], env)
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ keyId: 'cli-key', dataCenters: [WEST], disabledAt: null }),
      ]),
    )
    const table = await cli(['tenant', 'kms-key', 'list'], env)
    expect(table.stdout).toMatch(
      /cli-key\s+http:\/\/127\.0\.0\.1:\d+\s+transit\/tenant-key\s+us-west-1/,
    )
    expect(listed.stdout + table.stdout + added.stdout).not.toContain(TOKENS[WEST])
    const removed = await cli(['tenant', 'kms-key', 'remove', 'cli-key'], env)
    expect([removed.code, removed.stdout]).toEqual([0, 'Removed KMS key "cli-key"\n'])
    const again = await cli(['tenant', 'kms-key', 'remove', 'nope'], env)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('(NoSuchKmsKey)')
  })
})

describe('aws:kms with a registered vault-transit key (keyd, log-before-decrypt)', () => {
  const Bucket = 'kms-vault'
  const s3 = () => s3For(server, WEST)
  const body = randomBytes(100_000)

  it('PUT wraps with keyd, GET unwraps with a verified receipt; headers name the key ARN', async () => {
    await s3().send(new CreateBucketCommand({ Bucket }))
    await useKey(s3(), Bucket, 'west-key')
    const put = await s3().send(new PutObjectCommand({ Bucket, Key: 'big', Body: body }))
    expect(put.ServerSideEncryption).toBe('aws:kms')
    expect(put.SSEKMSKeyId).toMatch(/^arn:sovra:kms::t-[0-9a-f]{16}:key\/west-key$/)
    const small = await s3().send(new PutObjectCommand({ Bucket, Key: 'small', Body: 'hello' }))
    expect(small.SSEKMSKeyId).toBe(put.SSEKMSKeyId)
    const stored = storedObject(WEST, Bucket, 'big')
    expect(stored.encryption.kmsKeyId).toBe(put.SSEKMSKeyId)
    expect(stored.wrapped).toMatch(/^vault-transit:v1:tenant-key:vault:v1:/)

    const decryptsBefore = auditLines().filter((l) => l.op === 'decrypt').length
    // The provider keeps the data key it just wrapped: wait out the cache so GET must unwrap.
    await new Promise((r) => setTimeout(r, 1_100))
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'big' }))
    expect(
      Buffer.from(
        await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ).equals(body),
    ).toBe(true)
    expect(got.ServerSideEncryption).toBe('aws:kms')
    expect(got.SSEKMSKeyId).toBe(put.SSEKMSKeyId)
    const small2 = await s3().send(new GetObjectCommand({ Bucket, Key: 'small' }))
    expect(await small2.Body?.transformToString()).toBe('hello')

    // keyd unwrapped (only possible with a receipt that verified against us-west-1's ledger
    // key, for an object.get of this bucket) and audited it with data center and bucket.
    const decrypts = auditLines()
      .filter((l) => l.op === 'decrypt')
      .slice(decryptsBefore)
    expect(decrypts.map((l) => [l.outcome, l.dc, l.bucket])).toEqual([
      ['ok', WEST, Bucket],
      ['ok', WEST, Bucket],
    ])
    // The reads are in the ledger (logged before the unwrap, not after).
    expect(await eventCount(WEST, 'object.get', 2)).toBeGreaterThanOrEqual(2)

    // A warm read (within the cache time) does not ask keyd again.
    await s3().send(new GetObjectCommand({ Bucket, Key: 'big' }))
    expect(auditLines().filter((l) => l.op === 'decrypt').length).toBe(decryptsBefore + 2)
  })

  it('CopyObject reads the source through keyd with a receipt and writes under the named key', async () => {
    await new Promise((r) => setTimeout(r, 1_100))
    const copied = await s3().send(
      new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/big` }),
    )
    expect(copied.ServerSideEncryption).toBe('aws:kms')
    expect(copied.SSEKMSKeyId).toMatch(/key\/west-key$/)
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'copy' }))
    expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true)
  })

  it('the transfer gate reads a vault-transit source through keyd with a receipt too', async () => {
    const transfers = server.sovra.transfers as TransferService
    const pair = keygen()
    const { tenantId } = await transfers.addPublicKey('admin', pair.publicKeyPem)
    await s3For(server, EAST).send(new CreateBucketCommand({ Bucket: 'kms-gate-dst' }))
    await new Promise((r) => setTimeout(r, 1_100))
    const decryptsBefore = auditLines().filter((l) => l.op === 'decrypt').length
    const now = Date.now()
    const record = await transfers.submit(
      signInstruction(
        {
          type: 'sovra.transfer-instruction',
          version: 1,
          tenantId,
          source: { dc: WEST, bucket: Bucket },
          destination: { dc: EAST, bucket: 'kms-gate-dst' },
          scope: { kind: 'keys', keys: ['big'] },
          operation: 'copy',
          notBefore: new Date(now - 60_000).toISOString(),
          notAfter: new Date(now + 3_600_000).toISOString(),
          nonce: newNonce(),
        },
        pair.privateKeyPem,
      ),
      'admin',
    )
    await transfers.idle()
    expect((await transfers.status(record.id, 'admin')).status).toBe('done')
    const got = await s3For(server, EAST).send(
      new GetObjectCommand({ Bucket: 'kms-gate-dst', Key: 'big' }),
    )
    expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true)
    const decrypts = auditLines()
      .filter((l) => l.op === 'decrypt')
      .slice(decryptsBefore)
    expect(decrypts.map((l) => [l.outcome, l.dc, l.bucket])).toEqual([['ok', WEST, Bucket]])
  })

  it('a multipart upload wraps every part with the key; a range across parts reads back', async () => {
    const part1 = randomBytes(5 * 1024 * 1024)
    const part2 = randomBytes(1000)
    const created = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }))
    expect(created.SSEKMSKeyId).toMatch(/key\/west-key$/)
    const UploadId = created.UploadId as string
    const parts = []
    for (const [i, Body] of [part1, part2].entries()) {
      const up = await s3().send(
        new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: i + 1, Body }),
      )
      expect(up.SSEKMSKeyId).toBe(created.SSEKMSKeyId)
      parts.push({ ETag: up.ETag as string, PartNumber: i + 1 })
    }
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mp',
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    )
    await new Promise((r) => setTimeout(r, 1_100))
    const start = part1.length - 10
    const got = await s3().send(
      new GetObjectCommand({ Bucket, Key: 'mp', Range: `bytes=${start}-${start + 19}` }),
    )
    const expected = Buffer.concat([part1, part2]).subarray(start, start + 20)
    expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(expected)).toBe(true)
  })

  it('an unknown key id: PutBucketEncryption accepts it (as AWS), PutObject gets 400 KMS.NotFoundException', async () => {
    const b = 'kms-unknown'
    await s3().send(new CreateBucketCommand({ Bucket: b }))
    await useKey(s3(), b, 'never-registered')
    const err = await s3Error(s3().send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })))
    expect([err.$metadata.httpStatusCode, err.name]).toEqual([400, 'KMS.NotFoundException'])
    const header = await s3Error(
      s3().send(
        new PutObjectCommand({
          Bucket,
          Key: 'k',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'arn:aws:kms:us-west-1:111122223333:key/abc',
        }),
      ),
    )
    expect([header.$metadata.httpStatusCode, header.name]).toEqual([400, 'KMS.NotFoundException'])
    // Another tenant's ARN (here: a tenant id that is not the bucket owner's) is not yours.
    const foreign = await s3Error(
      s3().send(
        new PutObjectCommand({
          Bucket,
          Key: 'k',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'arn:sovra:kms::t-0000000000000000:key/west-key',
        }),
      ),
    )
    expect([foreign.$metadata.httpStatusCode, foreign.name]).toEqual([400, 'KMS.NotFoundException'])
    await s3().send(new DeleteBucketEncryptionCommand({ Bucket: b }))
  })

  it('a key its tenant limited to another data center: 400 KMS.NotFoundException', async () => {
    const east = s3For(server, EAST)
    await east.send(new CreateBucketCommand({ Bucket: 'kms-east' }))
    const err = await s3Error(
      east.send(
        new PutObjectCommand({
          Bucket: 'kms-east',
          Key: 'k',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'west-key',
        }),
      ),
    )
    expect([err.$metadata.httpStatusCode, err.name]).toEqual([400, 'KMS.NotFoundException'])
  })

  it('a data center not on keyd’s allow-list is refused (403 AccessDenied)', async () => {
    expect((await register('east-key', EAST)).status).toBe(201)
    const east = s3For(server, EAST)
    const err = await s3Error(
      east.send(
        new PutObjectCommand({
          Bucket: 'kms-east',
          Key: 'k',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'east-key',
        }),
      ),
    )
    expect([err.$metadata.httpStatusCode, err.name]).toEqual([403, 'AccessDenied'])
    expect(err.message).toContain(`data center "${EAST}" is not allowed`)
    expect(auditLines().at(-1)).toMatchObject({ op: 'encrypt', outcome: 'denied', dc: EAST })
  })

  it('a key a bucket still names cannot be removed (409 KmsKeyInUse)', async () => {
    const refused = await kmsKeys(undefined, 'DELETE', '/admin/v1/tenant/kms-keys/west-key')
    expect([refused.status, refused.json.code]).toEqual([409, 'KmsKeyInUse'])
    expect(String(refused.json.message)).toContain(`bucket "${Bucket}"`)
    const removed = await kmsKeys(undefined, 'DELETE', '/admin/v1/tenant/kms-keys/east-key')
    expect(removed.status).toBe(200)
    expect(removed.json.disabledAt).not.toBeNull()
    const missing = await kmsKeys(undefined, 'DELETE', '/admin/v1/tenant/kms-keys/no-such-key')
    expect([missing.status, missing.json.code]).toEqual([404, 'NoSuchKmsKey'])
  })

  it('revocation in keyd: after the cache time every GET fails with KMS.DisabledException, logged', async () => {
    const unwraps = (e: Record<string, unknown>) => e.operation === 'unwrap'
    expect(await eventCount(WEST, 'object.key-refused', 0, unwraps)).toBe(0)
    const disabled = await keydAdmin(['disable', 'tenant-key'])
    expect(disabled.code).toBe(0)
    await new Promise((r) => setTimeout(r, 1_100))
    for (let i = 0; i < 2; i++) {
      const err = await s3Error(s3().send(new GetObjectCommand({ Bucket, Key: 'big' })))
      expect([err.$metadata.httpStatusCode, err.name]).toEqual([400, 'KMS.DisabledException'])
    }
    const lines = server.logs.filter((l) => l.includes('A customer key refused access'))
    expect(lines.length).toBeGreaterThanOrEqual(2)
    const line = JSON.parse(lines.at(-1) as string) as Record<string, unknown>
    expect(line).toMatchObject({ dc: WEST, bucket: Bucket, key: 'big', refusal: 'KeyDisabled' })
    expect(server.logs.join('\n')).not.toContain(TOKENS[WEST])
    // Each refused read is in the ledger (recorded before the error response ends).
    expect(await eventCount(WEST, 'object.key-refused', 2, unwraps)).toBe(2)
    // The write refusals of the tests above (unknown key) were recorded as wraps.
    expect(
      await eventCount(WEST, 'object.key-refused', 2, (e) => e.operation === 'wrap'),
    ).toBeGreaterThanOrEqual(2)
    expect(auditLines().at(-1)).toMatchObject({ op: 'decrypt', outcome: 'error', bucket: Bucket })
  })
})

describe('log-before-decrypt without a receipt', () => {
  it('a Sovra whose ledger is off sends none, and keyd refuses the read (403 AccessDenied)', async () => {
    // No DEK cache, so the GET must ask keyd; no ledger, so it has no receipt to show.
    const other = await startSovra({
      env: { SOVRA_LEDGER_ENABLED: 'false', SOVRA_KMS_CACHE_TTL_MS: '0' },
    })
    try {
      expect((await keydAdmin(['create', 'other-key'])).code).toBe(0)
      const added = await adminCall(other.sovra.adminEndpoint, '/admin/v1/tenant/kms-keys', {
        sigv4: ROOT,
        body: { keyId: 'k', address: keyd.url, keyName: 'other-key', token: TOKENS[WEST] },
      })
      expect(added.status).toBe(201)
      const s3 = s3For(other, WEST)
      await s3.send(new CreateBucketCommand({ Bucket: 'no-receipt' }))
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: 'no-receipt',
          Key: 'k',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'k',
        }),
      )
      expect(put.ServerSideEncryption).toBe('aws:kms')
      const err = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'no-receipt', Key: 'k' })))
      expect([err.$metadata.httpStatusCode, err.name]).toEqual([403, 'AccessDenied'])
      expect(err.message).toContain('carries no ledger receipt')
      expect(auditLines().at(-1)).toMatchObject({
        op: 'decrypt',
        outcome: 'denied',
        bucket: 'no-receipt',
      })
    } finally {
      await other.stop()
    }
  })
})

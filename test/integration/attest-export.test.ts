// Residency attestations and bucket exports, as a customer uses them: data made with the AWS SDK
// v3, the attestation fetched and checked with the `sovra` CLI (signed with the tenant's S3 key),
// tampering and wrong keys refused, a changed bucket reported, and an export whose files are the
// objects' exact bytes, whose manifest matches the signed list digest, and whose tampered file is
// caught by `--verify`.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT_CHECK_FAILED } from '../../src/cli/index.js'
import { type Directory, openDirectory } from '../../src/directory/index.js'
import { commit, decodeEvent } from '../../src/ledger/index.js'
import { adminCall } from '../support/admin-client.js'
import { cliOf } from '../support/cli.js'
import { s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const DC = 'us-west-1'
const PYTHON = '/usr/bin/python3'

let server: TestSovra
let s3: S3Client
let directory: Directory
let bob: { accessKeyId: string; secretAccessKey: string }
let cli: ReturnType<typeof cliOf>
const work = tempDir()
const tenantEnv = {
  AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
}

/** Every object of the export bucket, with its bytes. */
const objects = new Map<string, Buffer>([
  ['a.txt', Buffer.from('hello residency\n')],
  ['nested/deep/b.bin', Buffer.from([0, 1, 2, 3, 255, 254])],
  ['../escape.txt', Buffer.from('must stay inside the export folder')],
  ['dir', Buffer.from('a file named like a folder')],
  ['dir/child', Buffer.from('a file inside it')],
  ['empty', Buffer.alloc(0)],
  ['ünïcode/😀 name.txt', Buffer.from('non-ASCII key')],
])
const PART = 5 * 1024 * 1024
const multipart = Buffer.concat([Buffer.alloc(PART, 7), Buffer.from('tail of the last part')])

async function verifierKey(dc: string): Promise<string> {
  const res = await adminCall(server.sovra.adminEndpoint, '/admin/v1/ledger/keys')
  const keys = res.json.ledgers as { dc: string; verifierKey: string }[]
  return keys.find((k) => k.dc === dc)?.verifierKey as string
}

beforeAll(async () => {
  server = await startSovra()
  cli = cliOf(server)
  s3 = s3For(server, DC)
  directory = await openDirectory({ dataDir: server.dataDir })
  await directory.createTenant({ name: 'bob' })
  bob = await directory.createAccessKey('bob', {})
  for (const bucket of ['attested', 'exported']) {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: DC },
      }),
    )
  }
  for (const key of ['x', 'y/z']) {
    await s3.send(new PutObjectCommand({ Bucket: 'attested', Key: key, Body: `body of ${key}` }))
  }
  for (const [key, body] of objects) {
    await s3.send(new PutObjectCommand({ Bucket: 'exported', Key: key, Body: body }))
  }
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'exported', Key: 'big' }))
  const parts = []
  for (const [n, body] of [
    [1, multipart.subarray(0, PART)],
    [2, multipart.subarray(PART)],
  ] as const) {
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: 'exported',
        Key: 'big',
        UploadId: upload.UploadId,
        PartNumber: n,
        Body: body,
      }),
    )
    parts.push({ PartNumber: n, ETag: part.ETag })
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'exported',
      Key: 'big',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  )
  objects.set('big', multipart)
  await s3.send(
    new CreateBucketCommand({
      Bucket: 'bobs',
      CreateBucketConfiguration: { LocationConstraint: DC },
    }),
  )
}, 60_000)
afterAll(async () => {
  s3?.destroy()
  await directory?.close()
  await server?.stop()
  work.remove()
})

describe('GET /admin/v1/buckets/{bucket}/attestation', () => {
  it('answers NoSuchBucket alike for a missing bucket and for another tenant’s, and 401 unsigned', async () => {
    const base = server.sovra.adminEndpoint
    const missing = await adminCall(base, '/admin/v1/buckets/nope/attestation', { sigv4: bob })
    const foreign = await adminCall(base, '/admin/v1/buckets/attested/attestation', { sigv4: bob })
    expect(missing.status).toBe(404)
    expect(missing.json.code).toBe('NoSuchBucket')
    expect(foreign.status).toBe(404)
    expect(foreign.json.code).toBe('NoSuchBucket')
    expect(String(foreign.json.message)).not.toContain('owned')
    const unsigned = await adminCall(base, '/admin/v1/buckets/attested/attestation')
    expect(unsigned.status).toBe(401)
  })

  it('states the bucket, data center, jurisdiction, count and bytes, and logs bucket.attested', async () => {
    const res = await adminCall(
      server.sovra.adminEndpoint,
      '/admin/v1/buckets/attested/attestation',
      {
        sigv4: ROOT,
      },
    )
    expect(res.status).toBe(200)
    const statement = res.json.statement as Record<string, unknown>
    expect(statement).toMatchObject({
      v: 1,
      type: 'sovra.residency-attestation',
      bucket: 'attested',
      dc: DC,
      jurisdiction: 'US',
      objectCount: 2,
      totalBytes: 'body of x'.length + 'body of y/z'.length,
    })
    expect(statement.checkpoint).toMatch(/\/ledger\/us-west-1\n\d+\n/)
    const index = res.json.ledgerIndex as number
    expect(index).toBeGreaterThanOrEqual(0)
    // The event is in the tenant's own events of that log, naming the bucket by commitment.
    const secret = await adminCall(server.sovra.adminEndpoint, '/admin/v1/tenant/ledger-secret', {
      sigv4: ROOT,
    })
    const key = Buffer.from(secret.json.secret as string, 'base64')
    expect(statement.tenantCommitment).toBe(commit(key, statement.tenant as string))
    await expect
      .poll(
        async () => {
          const page = await adminCall(
            server.sovra.adminEndpoint,
            `/admin/v1/tenant/events?dc=${DC}&bucket=attested&type=bucket.attested`,
            { sigv4: ROOT },
          )
          const events = page.json.events as { index: number; entry: string }[]
          return events.find((e) => e.index === index)?.entry
        },
        { timeout: 10_000 },
      )
      .toBeDefined()
    const page = await adminCall(
      server.sovra.adminEndpoint,
      `/admin/v1/tenant/events?dc=${DC}&bucket=attested&type=bucket.attested`,
      { sigv4: ROOT },
    )
    const entry = (page.json.events as { index: number; entry: string }[]).find(
      (e) => e.index === index,
    )?.entry as string
    const event = decodeEvent(Buffer.from(entry, 'base64')) as unknown as Record<string, unknown>
    expect(event).toMatchObject({
      type: 'bucket.attested',
      objects: 2,
      bucket: commit(key, 'attested'),
    })
  })
  it('answers DataCenterNotServed for a bucket whose data center this server does not serve', async () => {
    const base = server.sovra.adminEndpoint
    const token = server.sovra.operatorToken as string
    // A data center that is in the catalog but retired: nothing serves it any more.
    const added = await adminCall(base, '/admin/v1/data-centers', {
      token,
      body: { id: 'eu-zurich-9', city: 'Zurich', jurisdiction: 'CH', port: 0 },
    })
    expect(added.status).toBe(201)
    for (const step of ['drain', 'retire']) {
      expect(
        (
          await adminCall(base, `/admin/v1/data-centers/eu-zurich-9/${step}`, {
            token,
            method: 'POST',
          })
        ).status,
      ).toBe(200)
    }
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'stranded',
        CreateBucketConfiguration: { LocationConstraint: DC },
      }),
    )
    // The directory places it there (as a migrate would switch a home), without the server.
    await directory.moveBucketHome('stranded', DC, 'eu-zurich-9')
    const res = await adminCall(base, '/admin/v1/buckets/stranded/attestation', { sigv4: ROOT })
    expect(res.status).toBe(409)
    expect(res.json.code).toBe('DataCenterNotServed')
    expect(String(res.json.message)).toContain('"eu-zurich-9" is not served by this admin API')
  })
})

describe('sovra attest get | verify', () => {
  const file = join(work.path, 'attested.json')

  it('fetches an attestation and verifies it offline with the data center key', async () => {
    const got = await cli(['attest', 'get', 'attested', '--out', file], tenantEnv)
    expect(got.stderr).toBe('')
    expect(got.code).toBe(0)
    expect(got.stdout).toContain('Attestation of "attested" in us-west-1 (US): 2 objects')
    const key = await verifierKey(DC)
    const ok = await cli(['attest', 'verify', file, '--key', key])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^OK attestation of "attested" in us-west-1 \(US\): 2 objects/)
    // A key file works too; --dc fetches the key and says it is not offline.
    const keyFile = join(work.path, 'us-west-1.pub')
    writeFileSync(keyFile, `${key}\n`)
    expect((await cli(['attest', 'verify', file, '--key', keyFile])).code).toBe(0)
    const fetched = await cli(['attest', 'verify', file, '--dc', DC])
    expect(fetched.code).toBe(0)
    expect(fetched.stderr).toContain('warning: fetched the verifier key')
  })

  it('refuses a statement with one byte changed', async () => {
    const text = readFileSync(file, 'utf8')
    const tampered = join(work.path, 'tampered.json')
    // One byte of the statement: an object count of 2 becomes 3.
    writeFileSync(tampered, text.replace('"objectCount": 2', '"objectCount": 3'))
    expect(readFileSync(tampered, 'utf8')).not.toBe(text)
    const res = await cli(['attest', 'verify', tampered, '--key', await verifierKey(DC)])
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toContain('signature: the signature of')
    expect(res.stderr).toContain('does not verify over the statement')
  })

  it("refuses another data center's key", async () => {
    const res = await cli(['attest', 'verify', file, '--key', await verifierKey('us-east-1')])
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toContain('not by the given key')
  })

  it('with --bucket, reports precisely how the bucket differs after an object was added', async () => {
    const key = await verifierKey(DC)
    const same = await cli(['attest', 'verify', file, '--key', key, '--bucket'], tenantEnv)
    expect(same.stderr).toBe('')
    expect(same.code).toBe(0)
    expect(same.stdout).toContain('the current listing matches')
    await s3.send(new PutObjectCommand({ Bucket: 'attested', Key: 'added', Body: '12345' }))
    const res = await cli(['attest', 'verify', file, '--key', key, '--bucket'], tenantEnv)
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toContain('the signature is valid, but the bucket')
    expect(res.stderr).toContain('objectCount: the attestation says 2, the listing has 3')
    expect(res.stderr).toContain(
      `totalBytes: the attestation says ${'body of x'.length + 'body of y/z'.length}, the listing has ${'body of x'.length + 'body of y/z'.length + 5}`,
    )
    expect(res.stderr).toMatch(
      /listDigest: the attestation says [0-9a-f]{64}, the listing gives [0-9a-f]{64}/,
    )
  })
})

describe('sovra bucket export of SSE-C objects', () => {
  it('needs --sse-c-key-file for them, and then exports SSE-C and plain objects alike', async () => {
    const customerKey = Buffer.alloc(32, 0x5a)
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'sealed',
        CreateBucketConfiguration: { LocationConstraint: DC },
      }),
    )
    const sealed = Buffer.from('encrypted with the customer key')
    await s3.send(
      new PutObjectCommand({
        Bucket: 'sealed',
        Key: 'secret',
        Body: sealed,
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: customerKey.toString('base64'),
        SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64'),
      }),
    )
    await s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'plain', Body: 'not SSE-C' }))
    const out = join(work.path, 'sealed')
    const without = await cli(['bucket', 'export', 'sealed', out], tenantEnv)
    expect(without.code).toBe(1)
    expect(without.stderr).toContain('Cannot get "secret"')
    expect(without.stderr).toContain('SSE-C')
    const keyFile = join(work.path, 'customer.key')
    writeFileSync(keyFile, customerKey.toString('base64'))
    const res = await cli(
      ['bucket', 'export', 'sealed', out, '--sse-c-key-file', keyFile],
      tenantEnv,
    )
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(readFileSync(join(out, 'objects', 'secret')).equals(sealed)).toBe(true)
    expect(readFileSync(join(out, 'objects', 'plain'), 'utf8')).toBe('not SSE-C')
    expect((await cli(['bucket', 'export', '--verify', out])).code).toBe(0)
  })
})

describe('sovra bucket export', () => {
  const folder = () => join(work.path, 'export')

  it('copies every object byte for byte, with a manifest matching the signed list digest', async () => {
    const res = await cli(['bucket', 'export', 'exported', folder()], tenantEnv)
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(`Exported "exported" from us-west-1 (US)`)
    expect(res.stdout).toContain(`${objects.size} objects`)
    const manifest = JSON.parse(readFileSync(join(folder(), 'manifest.json'), 'utf8'))
    expect(manifest.objects.map((o: { key: string }) => o.key)).toEqual(
      [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    )
    for (const o of manifest.objects as {
      key: string
      file: string
      sha256: string
      size: number
    }[]) {
      const bytes = readFileSync(join(folder(), o.file))
      expect(bytes.equals(objects.get(o.key) as Buffer), o.key).toBe(true)
      expect(o.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(o.file.startsWith('objects/')).toBe(true)
      expect(o.file.slice('objects/'.length)).not.toContain('/')
    }
    // `../escape.txt` stays inside: its file is objects/%2E.%2Fescape.txt, nothing is written beside.
    expect(existsSync(join(folder(), 'objects', '%2E.%2Fescape.txt'))).toBe(true)
    expect(existsSync(join(work.path, 'escape.txt'))).toBe(false)
    expect(readdirSync(folder()).sort()).toEqual(['manifest.json', 'objects'])
    // The multipart object's ETag is the multipart one, and still the bytes are checked.
    const head = await s3.send(new GetObjectCommand({ Bucket: 'exported', Key: 'big' }))
    await head.Body?.transformToByteArray()
    expect(manifest.objects.find((o: { key: string }) => o.key === 'big').etag).toBe(
      head.ETag?.replaceAll('"', ''),
    )
  })

  it('verifies the export with the data center key, and resumes without downloading again', async () => {
    const key = await verifierKey(DC)
    const ok = await cli(['bucket', 'export', '--verify', folder(), '--key', key])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`${objects.size} files match manifest.json`)
    expect(ok.stdout).toContain('the attestation signature is valid')
    const again = await cli(['bucket', 'export', 'exported', folder()], tenantEnv)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`(0 downloaded, ${objects.size} already there)`)
  })

  it('detects a tampered exported file', async () => {
    const manifest = JSON.parse(readFileSync(join(folder(), 'manifest.json'), 'utf8'))
    const a = (manifest.objects as { key: string; file: string }[]).find((o) => o.key === 'a.txt')
    const path = join(folder(), a?.file as string)
    const bytes = readFileSync(path)
    bytes[0] = (bytes[0] as number) ^ 1
    writeFileSync(path, bytes)
    const res = await cli(['bucket', 'export', '--verify', folder()])
    expect(res.code).toBe(EXIT_CHECK_FAILED)
    expect(res.stderr).toContain(`"a.txt": objects/a.txt has SHA-256`)
    // A new export run repairs it: the file's hash no longer matches, so it is fetched again.
    const repaired = await cli(['bucket', 'export', 'exported', folder()], tenantEnv)
    expect(repaired.code).toBe(0)
    expect(repaired.stdout).toContain('(1 downloaded')
    expect(readFileSync(path).equals(objects.get('a.txt') as Buffer)).toBe(true)
  })

  it('picks up an object added since the last export', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'exported', Key: 'late', Body: 'written later' }))
    const res = await cli(['bucket', 'export', 'exported', folder()], tenantEnv)
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('(1 downloaded')
    const verified = await cli([
      'bucket',
      'export',
      '--verify',
      folder(),
      '--key',
      await verifierKey(DC),
    ])
    expect(verified.code).toBe(0)
  })
})

/** The fenced blocks of docs/residency.md with the given info string, in order. */
function docBlocks(lang: string): string[] {
  const doc = readFileSync(new URL('../../docs/residency.md', import.meta.url), 'utf8')
  return [...doc.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (m) => m[1] ?? '',
  )
}

const hasTools =
  spawnSync('openssl', ['version']).status === 0 && spawnSync(PYTHON, ['--version']).status === 0
const AWS = '/usr/bin/aws'
const hasAws = spawnSync(AWS, ['--version']).status === 0

// Skipped only where the customer's tools are absent (openssl, /usr/bin/python3, aws).
describe.skipIf(!hasTools)('docs/residency.md: verifying without the sovra CLI', () => {
  it("the doc's python3 + openssl steps verify a real attestation, and refuse a tampered one", async () => {
    const dir = join(work.path, 'by-hand')
    const file = join(dir, 'attestation.json')
    const got = await cli(['attest', 'get', 'exported', '--out', file], tenantEnv)
    expect(got.code).toBe(0)
    const script = docBlocks('python').find((b) => b.includes('message.bin')) as string
    const openssl = (docBlocks('sh').find((b) => b.startsWith('openssl pkeyutl')) as string).trim()
    const key = await verifierKey(DC)
    const run = () => {
      execFileSync(PYTHON, ['-c', script, file, key], { cwd: dir })
      return spawnSync('sh', ['-c', openssl], { cwd: dir, encoding: 'utf8' })
    }
    const ok = run()
    expect(ok.stdout).toContain('Signature Verified Successfully')
    expect(ok.status).toBe(0)
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"dc": "us-west-1"', '"dc": "us-west-2"'),
    )
    const tampered = run()
    expect(tampered.status).not.toBe(0)
  })

  // Skipped only where the AWS CLI v2 is not installed at /usr/bin/aws.
  it.skipIf(!hasAws)(
    "the doc's list-digest script over the aws CLI's listing gives the signed digest",
    async () => {
      const res = await adminCall(
        server.sovra.adminEndpoint,
        '/admin/v1/buckets/exported/attestation',
        {
          sigv4: ROOT,
        },
      )
      const statement = res.json.statement as {
        objectCount: number
        totalBytes: number
        listDigest: string
      }
      // Async: the server answering it runs in this process.
      const { stdout: listing } = await promisify(execFile)(
        AWS,
        [
          's3api',
          'list-objects-v2',
          '--bucket',
          'exported',
          '--endpoint-url',
          server.endpoint(DC),
          '--output',
          'json',
        ],
        {
          env: {
            PATH: process.env.PATH,
            ...tenantEnv,
            AWS_DEFAULT_REGION: DC,
            AWS_EC2_METADATA_DISABLED: 'true',
          },
        },
      )
      const script = docBlocks('python').find((b) => b.includes('list-digest.py')) as string
      const out = execFileSync(PYTHON, ['-c', script], { input: listing }).toString().trim()
      expect(out).toBe(`${statement.objectCount} ${statement.totalBytes} ${statement.listDigest}`)
    },
  )
})

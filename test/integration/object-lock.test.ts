// Object Lock through the AWS SDK v3: buckets created with Object Lock, the bucket configuration
// and its default retention, legal holds and GOVERNANCE/COMPLIANCE retention blocking deletion
// of a version (the GOVERNANCE bypass only with its header), the exact AWS errors for bad input
// (which change nothing), and locks surviving a restart.
import { createHash } from 'node:crypto'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDirectory } from '../../src/directory/index.js'
import { rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

const dir = tempDir()
let server: TestSovra
const DC = 'us-west-1'
beforeAll(async () => {
  server = await startSovra({ dataDir: dir.path })
  registerRegion(server.endpoint(DC), DC)
})
afterAll(async () => {
  await server?.stop()
  dir.remove()
})

const s3 = () => s3For(server, DC)
const DAY = 24 * 60 * 60 * 1000
const inDays = (days: number) => new Date(Date.now() + days * DAY)
const lockedBucket = async (Bucket: string) => {
  await s3().send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }))
}
const put = async (Bucket: string, Key: string, extra: Record<string, unknown> = {}) => {
  const out = await s3().send(
    new PutObjectCommand({ Bucket, Key, Body: `body of ${Key}`, ...extra }),
  )
  return out.VersionId as string
}
const versionsOf = async (Bucket: string, Prefix: string) => {
  const out = await s3().send(new ListObjectVersionsCommand({ Bucket, Prefix }))
  return (out.Versions ?? []).map((v) => v.VersionId)
}

describe('bucket Object Lock configuration', () => {
  it('a bucket created with Object Lock is versioned and reports its configuration', async () => {
    const Bucket = 'lock-conf'
    await lockedBucket(Bucket)
    const versioning = await s3().send(new GetBucketVersioningCommand({ Bucket }))
    expect(versioning.Status).toBe('Enabled')
    const conf = await s3().send(new GetObjectLockConfigurationCommand({ Bucket }))
    expect(conf.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' })
    const suspend = await s3Error(
      s3().send(
        new PutBucketVersioningCommand({
          Bucket,
          VersioningConfiguration: { Status: 'Suspended' },
        }),
      ),
    )
    expect(suspend.name).toBe('InvalidBucketState')
    expect(suspend.$metadata.httpStatusCode).toBe(409)
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled')
  })

  it('a bucket without it answers ObjectLockConfigurationNotFoundError, and needs versioning to enable it', async () => {
    const Bucket = 'lock-later'
    await s3().send(new CreateBucketCommand({ Bucket }))
    const missing = await s3Error(s3().send(new GetObjectLockConfigurationCommand({ Bucket })))
    expect(missing.name).toBe('ObjectLockConfigurationNotFoundError')
    expect(missing.$metadata.httpStatusCode).toBe(404)
    const config = {
      ObjectLockEnabled: 'Enabled' as const,
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1 } },
    }
    const refused = await s3Error(
      s3().send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config })),
    )
    expect(refused.name).toBe('InvalidBucketState')
    expect(refused.$metadata.httpStatusCode).toBe(409)
    await s3().send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    await s3().send(
      new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: config }),
    )
    const conf = await s3().send(new GetObjectLockConfigurationCommand({ Bucket }))
    expect(conf.ObjectLockConfiguration).toEqual(config)
  })

  it('refuses malformed configurations, keeping the one it has', async () => {
    const Bucket = 'lock-conf-bad'
    await lockedBucket(Bucket)
    for (const DefaultRetention of [
      { Mode: 'GOVERNANCE' as const, Days: 1, Years: 1 },
      { Mode: 'GOVERNANCE' as const },
    ]) {
      const err = await s3Error(
        s3().send(
          new PutObjectLockConfigurationCommand({
            Bucket,
            ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } },
          }),
        ),
      )
      expect(err.name).toBe('MalformedXML')
    }
    const zero = await s3Error(
      s3().send(
        new PutObjectLockConfigurationCommand({
          Bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 0 } },
          },
        }),
      ),
    )
    expect(zero.name).toBe('InvalidArgument')
    const conf = await s3().send(new GetObjectLockConfigurationCommand({ Bucket }))
    expect(conf.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' })
  })

  it('applies the default retention to a new version written without its own', async () => {
    const Bucket = 'lock-default'
    await lockedBucket(Bucket)
    await s3().send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } },
        },
      }),
    )
    const before = Date.now()
    const VersionId = await put(Bucket, 'k')
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId }))
    expect(head.ObjectLockMode).toBe('GOVERNANCE')
    const until = head.ObjectLockRetainUntilDate?.getTime() ?? 0
    expect(until).toBeGreaterThanOrEqual(before + 2 * DAY - 1000)
    expect(until).toBeLessThanOrEqual(Date.now() + 2 * DAY + 1000)
    const err = await s3Error(s3().send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId })))
    expect(err.name).toBe('AccessDenied')
    expect(await versionsOf(Bucket, 'k')).toEqual([VersionId])
  })
})

describe('legal hold', () => {
  it('blocks deletion of that version until released; a delete marker is still allowed', async () => {
    const Bucket = 'lock-hold'
    await lockedBucket(Bucket)
    const VersionId = await put(Bucket, 'doc')
    await s3().send(
      new PutObjectLegalHoldCommand({ Bucket, Key: 'doc', VersionId, LegalHold: { Status: 'ON' } }),
    )
    const hold = await s3().send(new GetObjectLegalHoldCommand({ Bucket, Key: 'doc', VersionId }))
    expect(hold.LegalHold?.Status).toBe('ON')
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'doc' }))
    expect(head.ObjectLockLegalHoldStatus).toBe('ON')
    const err = await s3Error(s3().send(new DeleteObjectCommand({ Bucket, Key: 'doc', VersionId })))
    expect(err.name).toBe('AccessDenied')
    expect(err.$metadata.httpStatusCode).toBe(403)
    expect(err.message).toBe('Access Denied because object protected by object lock.')
    // A delete without a version id only writes a delete marker.
    const marker = await s3().send(new DeleteObjectCommand({ Bucket, Key: 'doc' }))
    expect(marker.DeleteMarker).toBe(true)
    const body = await s3().send(new GetObjectCommand({ Bucket, Key: 'doc', VersionId }))
    expect(await body.Body?.transformToString()).toBe('body of doc')
    // DeleteObjects reports the refusal per key.
    const many = await s3().send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'doc', VersionId }] } }),
    )
    expect(many.Errors?.[0]?.Code).toBe('AccessDenied')
    await s3().send(
      new PutObjectLegalHoldCommand({
        Bucket,
        Key: 'doc',
        VersionId,
        LegalHold: { Status: 'OFF' },
      }),
    )
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'doc', VersionId }))
    expect(await versionsOf(Bucket, 'doc')).toEqual([])
  })

  it('can be set on PutObject with x-amz-object-lock-legal-hold', async () => {
    const Bucket = 'lock-hold'
    const VersionId = await put(Bucket, 'held', { ObjectLockLegalHoldStatus: 'ON' })
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'held', VersionId }))
    expect(got.ObjectLockLegalHoldStatus).toBe('ON')
    const err = await s3Error(
      s3().send(new DeleteObjectCommand({ Bucket, Key: 'held', VersionId })),
    )
    expect(err.name).toBe('AccessDenied')
  })

  it('answers NoSuchObjectLockConfiguration until a hold is set, then ON, then OFF once released', async () => {
    const Bucket = 'lock-hold'
    const VersionId = await put(Bucket, 'never')
    const hold = () => s3().send(new GetObjectLegalHoldCommand({ Bucket, Key: 'never', VersionId }))
    const err = await s3Error(hold())
    expect(err.name).toBe('NoSuchObjectLockConfiguration')
    expect(err.$metadata.httpStatusCode).toBe(404)
    const fresh = await s3().send(new HeadObjectCommand({ Bucket, Key: 'never', VersionId }))
    expect(fresh.ObjectLockLegalHoldStatus).toBeUndefined()
    for (const Status of ['ON', 'OFF'] as const) {
      await s3().send(
        new PutObjectLegalHoldCommand({ Bucket, Key: 'never', VersionId, LegalHold: { Status } }),
      )
      expect((await hold()).LegalHold?.Status).toBe(Status)
      const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'never', VersionId }))
      expect(head.ObjectLockLegalHoldStatus).toBe(Status)
    }
    // Released is not locked: the version can go.
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'never', VersionId }))
    // OFF given at creation is a hold that was set, and answers OFF.
    const off = await put(Bucket, 'off', { ObjectLockLegalHoldStatus: 'OFF' })
    const got = await s3().send(
      new GetObjectLegalHoldCommand({ Bucket, Key: 'off', VersionId: off }),
    )
    expect(got.LegalHold?.Status).toBe('OFF')
  })
})

describe('retention', () => {
  it('GOVERNANCE refuses deletion without the bypass header and allows it with it', async () => {
    const Bucket = 'lock-gov'
    await lockedBucket(Bucket)
    const until = inDays(3)
    const VersionId = await put(Bucket, 'g', {
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
    })
    const got = await s3().send(new GetObjectRetentionCommand({ Bucket, Key: 'g', VersionId }))
    expect(got.Retention?.Mode).toBe('GOVERNANCE')
    expect(got.Retention?.RetainUntilDate?.getTime()).toBe(until.getTime())
    const err = await s3Error(s3().send(new DeleteObjectCommand({ Bucket, Key: 'g', VersionId })))
    expect(err.name).toBe('AccessDenied')
    // Shortening GOVERNANCE needs the bypass too.
    const shorten = await s3Error(
      s3().send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'g',
          VersionId,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(1) },
        }),
      ),
    )
    expect(shorten.name).toBe('AccessDenied')
    await s3().send(
      new DeleteObjectCommand({ Bucket, Key: 'g', VersionId, BypassGovernanceRetention: true }),
    )
    expect(await versionsOf(Bucket, 'g')).toEqual([])
  })

  it('COMPLIANCE can be extended but neither shortened nor removed, and blocks deletion even with the bypass', async () => {
    const Bucket = 'lock-comp'
    await lockedBucket(Bucket)
    const VersionId = await put(Bucket, 'c')
    const until = inDays(2)
    await s3().send(
      new PutObjectRetentionCommand({
        Bucket,
        Key: 'c',
        VersionId,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until },
      }),
    )
    for (const Retention of [
      { Mode: 'COMPLIANCE' as const, RetainUntilDate: inDays(1) },
      { Mode: 'GOVERNANCE' as const, RetainUntilDate: inDays(5) },
      {},
    ]) {
      const err = await s3Error(
        s3().send(
          new PutObjectRetentionCommand({
            Bucket,
            Key: 'c',
            VersionId,
            Retention,
            BypassGovernanceRetention: true,
          }),
        ),
      )
      expect(err.name).toBe('AccessDenied')
    }
    const err = await s3Error(
      s3().send(
        new DeleteObjectCommand({ Bucket, Key: 'c', VersionId, BypassGovernanceRetention: true }),
      ),
    )
    expect(err.name).toBe('AccessDenied')
    const later = inDays(4)
    await s3().send(
      new PutObjectRetentionCommand({
        Bucket,
        Key: 'c',
        VersionId,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: later },
      }),
    )
    const got = await s3().send(new GetObjectRetentionCommand({ Bucket, Key: 'c', VersionId }))
    expect(got.Retention?.Mode).toBe('COMPLIANCE')
    expect(got.Retention?.RetainUntilDate?.getTime()).toBe(later.getTime())
  })
})

describe('bad input', () => {
  it('gets the AWS codes and stores nothing', async () => {
    const Bucket = 'lock-bad'
    await lockedBucket(Bucket)
    const plain = 'lock-bad-plain'
    await s3().send(new CreateBucketCommand({ Bucket: plain }))
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [Bucket, { ObjectLockMode: 'GOVERNANCE' }, 'InvalidArgument'],
      [Bucket, { ObjectLockRetainUntilDate: inDays(1) }, 'InvalidArgument'],
      [
        Bucket,
        { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inDays(-1) },
        'InvalidArgument',
      ],
      [
        Bucket,
        { ObjectLockMode: 'FOREVER', ObjectLockRetainUntilDate: inDays(1) },
        'InvalidArgument',
      ],
      [plain, { ObjectLockLegalHoldStatus: 'ON' }, 'InvalidRequest'],
    ]
    for (const [b, extra, code] of cases) {
      const err = await s3Error(put(b, 'nothing', extra))
      expect(err.name, JSON.stringify(extra)).toBe(code)
      const head = await s3Error(s3().send(new HeadObjectCommand({ Bucket: b, Key: 'nothing' })))
      expect(head.$metadata.httpStatusCode).toBe(404)
    }
    await put(plain, 'x')
    for (const send of [
      () => s3().send(new GetObjectRetentionCommand({ Bucket: plain, Key: 'x' })),
      () => s3().send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: 'x' })),
      () =>
        s3().send(
          new PutObjectLegalHoldCommand({ Bucket: plain, Key: 'x', LegalHold: { Status: 'ON' } }),
        ),
    ]) {
      const err = await s3Error(send())
      expect(err.name).toBe('InvalidRequest')
      expect(err.message).toBe('Bucket is missing Object Lock Configuration')
    }
    const VersionId = await put(Bucket, 'free')
    const none = await s3Error(
      s3().send(new GetObjectRetentionCommand({ Bucket, Key: 'free', VersionId })),
    )
    expect(none.name).toBe('NoSuchObjectLockConfiguration')
    expect(none.$metadata.httpStatusCode).toBe(404)
    const past = await s3Error(
      s3().send(
        new PutObjectRetentionCommand({
          Bucket,
          Key: 'free',
          VersionId,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(-1) },
        }),
      ),
    )
    expect(past.name).toBe('InvalidArgument')
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'free', VersionId }))
    expect(head.ObjectLockMode).toBeUndefined()
    // Still unlocked: it can go.
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'free', VersionId }))
  })
})

describe('locks on writes and the bypass permission', () => {
  it("CopyObject takes its own lock headers, never the source version's", async () => {
    const Bucket = 'lock-copy'
    await lockedBucket(Bucket)
    await put(Bucket, 'src', { ObjectLockLegalHoldStatus: 'ON' })
    const until = inDays(1)
    const out = await s3().send(
      new CopyObjectCommand({
        Bucket,
        Key: 'dst',
        CopySource: `${Bucket}/src`,
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
      }),
    )
    const head = await s3().send(
      new HeadObjectCommand({ Bucket, Key: 'dst', VersionId: out.VersionId }),
    )
    expect(head.ObjectLockMode).toBe('GOVERNANCE')
    expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(until.getTime())
    expect(head.ObjectLockLegalHoldStatus).toBeUndefined()
  })

  it('CreateMultipartUpload keeps its lock headers for the completed object', async () => {
    const Bucket = 'lock-mpu'
    await lockedBucket(Bucket)
    const until = inDays(1)
    const { UploadId } = await s3().send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key: 'big',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: until,
        ObjectLockLegalHoldStatus: 'ON',
      }),
    )
    const part = await s3().send(
      new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: 1, Body: 'only part' }),
    )
    const done = await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'big',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    )
    const head = await s3().send(
      new HeadObjectCommand({ Bucket, Key: 'big', VersionId: done.VersionId }),
    )
    expect(head.ObjectLockMode).toBe('COMPLIANCE')
    expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(until.getTime())
    expect(head.ObjectLockLegalHoldStatus).toBe('ON')
    const err = await s3Error(
      s3().send(new DeleteObjectCommand({ Bucket, Key: 'big', VersionId: done.VersionId })),
    )
    expect(err.name).toBe('AccessDenied')
  })

  it('a PutObject with retention needs Content-MD5 or a checksum', async () => {
    const Bucket = 'lock-md5'
    await lockedBucket(Bucket)
    const ep = server.endpoint(DC)
    const headers = {
      'x-amz-object-lock-mode': 'GOVERNANCE',
      'x-amz-object-lock-retain-until-date': inDays(1).toISOString(),
    }
    const bare = await rawRequest(ep, `/${Bucket}/k`, { method: 'PUT', body: 'x', headers })
    expect(bare.status).toBe(400)
    expect(bare.body).toContain('<Code>InvalidRequest</Code>')
    expect(await versionsOf(Bucket, 'k')).toEqual([])
    const md5 = await rawRequest(ep, `/${Bucket}/k`, {
      method: 'PUT',
      body: 'x',
      headers: { ...headers, 'content-md5': createHash('md5').update('x').digest('base64') },
    })
    expect(md5.status).toBe(200)
    expect((await versionsOf(Bucket, 'k')).length).toBe(1)
  })

  it('the bypass header is refused when the bucket policy denies s3:BypassGovernanceRetention', async () => {
    const Bucket = 'lock-deny-bypass'
    await lockedBucket(Bucket)
    const VersionId = await put(Bucket, 'g', {
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: inDays(1),
    })
    await s3().send(
      new PutBucketPolicyCommand({
        Bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:BypassGovernanceRetention',
              Resource: `arn:aws:s3:::${Bucket}/*`,
            },
          ],
        }),
      }),
    )
    const err = await s3Error(
      s3().send(
        new DeleteObjectCommand({ Bucket, Key: 'g', VersionId, BypassGovernanceRetention: true }),
      ),
    )
    expect(err.name).toBe('AccessDenied')
    expect(await versionsOf(Bucket, 'g')).toEqual([VersionId])
  })
  it('another tenant gets the bypass only from a policy Allow, never from an ACL WRITE grant', async () => {
    const directory = await openDirectory({ dataDir: server.dataDir })
    try {
      const bobTenant = await directory.createTenant({ name: 'bob-lock' })
      const bob = s3For(server, DC, await directory.createAccessKey('bob-lock', {}))
      const Bucket = 'lock-shared'
      await s3().send(
        new CreateBucketCommand({
          Bucket,
          ObjectLockEnabledForBucket: true,
          ObjectOwnership: 'ObjectWriter',
        }),
      )
      const owner = (await s3().send(new GetBucketAclCommand({ Bucket }))).Owner?.ID as string
      await s3().send(
        new PutBucketAclCommand({
          Bucket,
          GrantFullControl: `id=${owner}`,
          GrantWrite: `id=${bobTenant.canonicalId}`,
        }),
      )
      const VersionId = await put(Bucket, 'g', {
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: inDays(1),
      })
      const del = () =>
        bob.send(
          new DeleteObjectCommand({ Bucket, Key: 'g', VersionId, BypassGovernanceRetention: true }),
        )
      expect((await s3Error(del())).name).toBe('AccessDenied')
      expect(await versionsOf(Bucket, 'g')).toEqual([VersionId])
      await s3().send(
        new PutBucketPolicyCommand({
          Bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: bobTenant.id },
                Action: ['s3:BypassGovernanceRetention', 's3:DeleteObjectVersion'],
                Resource: `arn:aws:s3:::${Bucket}/*`,
              },
            ],
          }),
        }),
      )
      await del()
      expect(await versionsOf(Bucket, 'g')).toEqual([])
    } finally {
      await directory.close()
    }
  })
})

describe('restart', () => {
  it('locks survive a restart and are still enforced', async () => {
    const Bucket = 'lock-restart'
    await lockedBucket(Bucket)
    const held = await put(Bucket, 'h', { ObjectLockLegalHoldStatus: 'ON' })
    const until = inDays(2)
    const kept = await put(Bucket, 'r', {
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: until,
    })
    await server.stop()
    server = await startSovra({ dataDir: dir.path })
    registerRegion(server.endpoint(DC), DC)
    const conf = await s3().send(new GetObjectLockConfigurationCommand({ Bucket }))
    expect(conf.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled')
    const hold = await s3().send(
      new GetObjectLegalHoldCommand({ Bucket, Key: 'h', VersionId: held }),
    )
    expect(hold.LegalHold?.Status).toBe('ON')
    const ret = await s3().send(
      new GetObjectRetentionCommand({ Bucket, Key: 'r', VersionId: kept }),
    )
    expect(ret.Retention?.Mode).toBe('COMPLIANCE')
    for (const [Key, VersionId] of [
      ['h', held],
      ['r', kept],
    ] as const) {
      const err = await s3Error(
        s3().send(
          new DeleteObjectCommand({ Bucket, Key, VersionId, BypassGovernanceRetention: true }),
        ),
      )
      expect(err.name).toBe('AccessDenied')
    }
  })
})

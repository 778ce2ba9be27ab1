// Bucket lifecycle through the AWS SDK v3, with the lifecycle clock accelerated (a "day" is
// 200 ms, the worker passes every 50 ms): the configuration round trip, objects expiring by
// prefix, tag and size while the others stay, a Date in the past, a Disabled rule doing nothing,
// an incomplete multipart upload aborted, the ledger recording each expiry as a lifecycle
// object.delete, and bad configurations refused with AWS's errors without changing anything.
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type LifecycleRule,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LedgerEvent } from '../../src/ledger/index.js'
import { publicEvents } from '../support/public-log.js'
import { rawRequest, registerRegion } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

const DAY_MS = 200

let server: TestSovra
let ep: string
beforeAll(async () => {
  server = await startSovra({
    env: { SOVRA_LIFECYCLE_DAY_MS: String(DAY_MS), SOVRA_LIFECYCLE_INTERVAL_MS: '50' },
  })
  ep = server.endpoint('us-west-1')
  registerRegion(ep, 'us-west-1')
})
afterAll(async () => {
  await server?.stop()
})

const s3 = () => s3For(server, 'us-west-1')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function keys(Bucket: string): Promise<string[]> {
  const out = await s3().send(new ListObjectsV2Command({ Bucket }))
  return (out.Contents ?? []).map((o) => o.Key as string)
}

/** Polls until `check` holds (a few seconds at most). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 8_000
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(50)
  }
  throw new Error(`Timed out waiting for ${what}`)
}

async function put(Bucket: string, Key: string, size = 10, Tagging?: string): Promise<void> {
  await s3().send(
    new PutObjectCommand({
      Bucket,
      Key,
      Body: Buffer.alloc(size, 'x'),
      ...(Tagging === undefined ? {} : { Tagging }),
    }),
  )
}

describe('lifecycle configuration', () => {
  const Bucket = 'lc-config'
  beforeAll(async () => {
    await s3().send(new CreateBucketCommand({ Bucket }))
  })

  it('NoSuchLifecycleConfiguration until set; round-trips; delete removes it', async () => {
    const none = await s3Error(s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket })))
    expect([none.name, none.$metadata.httpStatusCode]).toEqual([
      'NoSuchLifecycleConfiguration',
      404,
    ])
    const Rules: LifecycleRule[] = [
      {
        ID: 'logs',
        Status: 'Enabled',
        Filter: { Prefix: 'logs/' },
        Expiration: { Days: 30 },
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 },
      },
      {
        ID: 'and',
        Status: 'Disabled',
        Filter: {
          And: {
            Prefix: 'tmp/',
            Tags: [{ Key: 'class', Value: 'tmp' }],
            ObjectSizeGreaterThan: 1024,
          },
        },
        Expiration: { Date: new Date('2031-01-01T00:00:00Z') },
      },
      {
        ID: 'uploads',
        Status: 'Enabled',
        Filter: {},
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
        Expiration: { ExpiredObjectDeleteMarker: true },
      },
    ]
    const put = await s3().send(
      new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }),
    )
    expect(put.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K')
    const got = await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket }))
    expect(got.Rules).toEqual(Rules)
    expect(got.TransitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K')

    await s3().send(new DeleteBucketLifecycleCommand({ Bucket }))
    const gone = await s3Error(s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket })))
    expect(gone.name).toBe('NoSuchLifecycleConfiguration')
    // Deleting what is not there is fine, as in S3.
    await s3().send(new DeleteBucketLifecycleCommand({ Bucket }))
  })

  it('refuses bad configurations with the AWS error and keeps the one it had', async () => {
    const kept: LifecycleRule[] = [
      { ID: 'kept', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 90 } },
    ]
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules: kept },
      }),
    )
    const ok = { Status: 'Enabled', Filter: { Prefix: 'x/' }, Expiration: { Days: 1 } } as const
    const refused: Array<[string, LifecycleRule[], string, string?]> = [
      [
        'an ID over 255 characters',
        [{ ...ok, ID: 'a'.repeat(256) }],
        'InvalidArgument',
        'ID length should not exceed allowed limit of 255',
      ],
      [
        'the same ID twice',
        [
          { ...ok, ID: 'same' },
          { ...ok, ID: 'same', Status: 'Disabled' },
        ],
        'InvalidArgument',
        'Rule ID must be unique. Found same ID for more than one rule',
      ],
      [
        'Days 0',
        [{ ...ok, Expiration: { Days: 0 } }],
        'InvalidArgument',
        "'Days' for Expiration action must be a positive integer",
      ],
      [
        'a Date that is not midnight UTC',
        [{ ...ok, Expiration: { Date: new Date('2031-01-01T12:00:00Z') } }],
        'InvalidArgument',
        "'Date' must be at midnight GMT",
      ],
      ['a bad Status', [{ ...ok, Status: 'enabled' as 'Enabled' }], 'MalformedXML'],
      [
        'a rule without an action',
        [{ Status: 'Enabled', Filter: { Prefix: 'x/' } }],
        'InvalidRequest',
        'At least one action needs to be specified in a rule',
      ],
      [
        'a Transition (Sovra has no storage classes)',
        [{ ...ok, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }], Expiration: { Days: 60 } }],
        'NotImplemented',
      ],
    ]
    for (const [what, Rules, code, message] of refused) {
      const err = await s3Error(
        s3().send(
          new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }),
        ),
      )
      expect([what, err.name], what).toEqual([what, code])
      if (message !== undefined) expect(err.message, what).toBe(message)
    }
    // Documents the SDK would not build: two filter predicates, no Filter nor Prefix.
    for (const body of [
      '<LifecycleConfiguration><Rule><Filter><Prefix>a</Prefix><ObjectSizeLessThan>9</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>',
      '<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>',
    ]) {
      const res = await rawRequest(ep, `/${Bucket}?lifecycle`, { method: 'PUT', body })
      expect(res.status).toBe(400)
      expect(res.body).toContain('<Code>MalformedXML</Code>')
    }
    const got = await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket }))
    expect(got.Rules).toEqual(kept)
  })

  it('answers lifecycle on an object NotImplemented rather than touching the object', async () => {
    await put(Bucket, 'file')
    const res = await rawRequest(ep, `/${Bucket}/file?lifecycle`, { method: 'PUT', body: 'x' })
    expect(res.status).toBe(501)
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'file' }))
    expect(head.ContentLength).toBe(10)
  })
})

describe('x-amz-expiration', () => {
  it('names the expiry date and rule on PUT, GET, HEAD and CopyObject of a matching object, and nothing for others', async () => {
    const Bucket = 'lc-expiration'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            // 365 "days" of 200 ms: 73 s, longer than this test.
            {
              ID: 'logs-year',
              Status: 'Enabled',
              Filter: { Prefix: 'logs/' },
              Expiration: { Days: 365 },
            },
            { ID: 'off', Status: 'Disabled', Filter: {}, Expiration: { Days: 1 } },
            {
              ID: 'tmp-2099',
              Status: 'Enabled',
              Filter: { Tag: { Key: 'class', Value: 'tmp' } },
              Expiration: { Date: new Date('2099-01-01T00:00:00Z') },
            },
          ],
        },
      }),
    )
    const header = /^expiry-date="([^"]+)", rule-id="([^"]+)"$/
    const before = Date.now()
    const written = await s3().send(
      new PutObjectCommand({ Bucket, Key: 'logs/a', Body: 'x', Tagging: 'class=tmp' }),
    )
    // Both rules match; the earlier date wins: 365 * 200 ms after the write, rounded up.
    const [, date, rule] = header.exec(written.Expiration ?? '') ?? []
    expect(rule).toBe('logs-year')
    const at = Date.parse(date as string)
    expect(at).toBeGreaterThanOrEqual(Math.floor((before + 365 * DAY_MS) / 1000) * 1000)
    expect(at).toBeLessThanOrEqual(Date.now() + 365 * DAY_MS + 1000)
    const head = await s3().send(new HeadObjectCommand({ Bucket, Key: 'logs/a' }))
    expect(head.Expiration).toBe(written.Expiration)
    const got = await s3().send(new GetObjectCommand({ Bucket, Key: 'logs/a' }))
    expect(got.Expiration).toBe(written.Expiration)
    await got.Body?.transformToString()
    // A tagged object outside logs/ gets the Date rule.
    await put(Bucket, 'other', 10, 'class=tmp')
    const tagged = await s3().send(new HeadObjectCommand({ Bucket, Key: 'other' }))
    expect(tagged.Expiration).toBe(
      'expiry-date="Thu, 01 Jan 2099 00:00:00 GMT", rule-id="tmp-2099"',
    )
    // No rule matches an untagged object outside logs/ (the Disabled one does not count).
    const plain = await s3().send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'x' }))
    expect(plain.Expiration).toBeUndefined()
    const copy = await s3().send(
      new CopyObjectCommand({ Bucket, Key: 'logs/copy', CopySource: `${Bucket}/plain` }),
    )
    expect(copy.Expiration).toMatch(/rule-id="logs-year"$/)
    // Without a configuration, no header.
    await s3().send(new DeleteBucketLifecycleCommand({ Bucket }))
    const after = await s3().send(new HeadObjectCommand({ Bucket, Key: 'logs/a' }))
    expect(after.Expiration).toBeUndefined()
  })
})

describe('the lifecycle worker (a day is 200 ms)', () => {
  it('expires objects under a prefix, with a tag, or above a size; the others stay', async () => {
    const Bucket = 'lc-expire'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await put(Bucket, 'tmp/a')
    await put(Bucket, 'keep/tagged', 10, 'class=tmp')
    await put(Bucket, 'keep/other-tag', 10, 'class=keep')
    await put(Bucket, 'keep/big', 2000)
    await put(Bucket, 'keep/small', 999)
    await put(Bucket, 'keep/plain')
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'prefix',
              Status: 'Enabled',
              Filter: { Prefix: 'tmp/' },
              Expiration: { Days: 1 },
            },
            {
              ID: 'tag',
              Status: 'Enabled',
              Filter: { Tag: { Key: 'class', Value: 'tmp' } },
              Expiration: { Days: 1 },
            },
            {
              ID: 'size',
              Status: 'Enabled',
              Filter: { ObjectSizeGreaterThan: 1000 },
              Expiration: { Days: 2 },
            },
          ],
        },
      }),
    )
    const stay = ['keep/other-tag', 'keep/plain', 'keep/small']
    await eventually(async () => (await keys(Bucket)).join() === stay.join(), 'the expiries')
    // Many more "days" later, what no rule matches is still there.
    await sleep(10 * DAY_MS)
    expect(await keys(Bucket)).toEqual(stay)

    // Each expiry is an object.delete in the data center's public log, by the lifecycle worker,
    // with the key only as a commitment.
    let expiries: LedgerEvent[] = []
    await eventually(async () => {
      const events = await publicEvents(server.sovra.adminEndpoint, 'us-west-1')
      expiries = events.filter((e) => e.type === 'object.delete' && e.reason === 'lifecycle')
      return expiries.length >= 3
    }, 'the ledger events')
    expect(expiries).toHaveLength(3)
    for (const e of expiries) {
      expect(e.actor).toEqual({ kind: 'system', component: 'lifecycle' })
      expect(JSON.stringify(e)).not.toContain('keep/')
    }
  })

  it('expires everything a past Date names at once', async () => {
    const Bucket = 'lc-date'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await put(Bucket, 'old/a')
    await put(Bucket, 'new/b')
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'date',
              Status: 'Enabled',
              Filter: { Prefix: 'old/' },
              Expiration: { Date: new Date('2020-01-01T00:00:00Z') },
            },
          ],
        },
      }),
    )
    await eventually(async () => (await keys(Bucket)).join() === 'new/b', 'the expiry')
  })

  it('does nothing for a Disabled rule', async () => {
    const Bucket = 'lc-disabled'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await put(Bucket, 'a')
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'off', Status: 'Disabled', Filter: {}, Expiration: { Days: 1 } }],
        },
      }),
    )
    await sleep(10 * DAY_MS)
    expect(await keys(Bucket)).toEqual(['a'])
  })

  it('writes a delete marker in a versioned bucket and keeps every version', async () => {
    const Bucket = 'lc-versioned'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await s3().send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    await put(Bucket, 'tmp/a')
    await put(Bucket, 'tmp/a', 20)
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
          ],
        },
      }),
    )
    await eventually(async () => (await keys(Bucket)).length === 0, 'the expiry')
    const versions = await s3().send(new ListObjectVersionsCommand({ Bucket }))
    // Both versions are still there, now noncurrent, behind one delete marker.
    expect((versions.Versions ?? []).map((v) => [v.Size, v.IsLatest])).toEqual([
      [20, false],
      [10, false],
    ])
    expect((versions.DeleteMarkers ?? []).map((m) => [m.Key, m.IsLatest])).toEqual([
      ['tmp/a', true],
    ])
    // A marker is not expired again: the worker scans only current objects.
    await sleep(5 * DAY_MS)
    const again = await s3().send(new ListObjectVersionsCommand({ Bucket }))
    expect(again.DeleteMarkers ?? []).toHaveLength(1)
    expect(again.Versions ?? []).toHaveLength(2)
  })

  it('expires noncurrent versions, then the delete marker left alone', async () => {
    const Bucket = 'lc-noncurrent'
    await s3().send(new CreateBucketCommand({ Bucket }))
    await s3().send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    await put(Bucket, 'doc', 10)
    await put(Bucket, 'doc', 20)
    await put(Bucket, 'other', 30)
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'old-versions',
              Status: 'Enabled',
              Filter: { Prefix: 'doc' },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
              Expiration: { ExpiredObjectDeleteMarker: true },
            },
          ],
        },
      }),
    )
    const versions = async () => {
      const out = await s3().send(new ListObjectVersionsCommand({ Bucket }))
      return {
        versions: (out.Versions ?? []).map((v) => `${v.Key}:${v.Size}:${v.IsLatest}`),
        markers: (out.DeleteMarkers ?? []).map((m) => `${m.Key}:${m.IsLatest}`),
      }
    }
    // The noncurrent 10-byte version goes; the current one and the other key stay.
    await eventually(
      async () => (await versions()).versions.join() === 'doc:20:true,other:30:true',
      'the noncurrent version to expire',
    )
    // Deleting writes a marker; the version behind it expires, then the lone marker goes too.
    await s3().send(new DeleteObjectCommand({ Bucket, Key: 'doc' }))
    await eventually(async () => {
      const v = await versions()
      return v.versions.join() === 'other:30:true' && v.markers.length === 0
    }, 'the version and then the marker to expire')
  })

  it('aborts incomplete multipart uploads older than DaysAfterInitiation', async () => {
    const Bucket = 'lc-uploads'
    await s3().send(new CreateBucketCommand({ Bucket }))
    const stale = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key: 'up/big' }))
    await s3().send(
      new UploadPartCommand({
        Bucket,
        Key: 'up/big',
        UploadId: stale.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024, 'p'),
      }),
    )
    const other = await s3().send(new CreateMultipartUploadCommand({ Bucket, Key: 'keep/big' }))
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'abort',
              Status: 'Enabled',
              Filter: { Prefix: 'up/' },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
          ],
        },
      }),
    )
    const uploads = async () =>
      ((await s3().send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).map(
        (u) => u.UploadId,
      )
    await eventually(async () => (await uploads()).join() === other.UploadId, 'the abort')
    const err = await s3Error(
      s3().send(
        new UploadPartCommand({
          Bucket,
          Key: 'up/big',
          UploadId: stale.UploadId,
          PartNumber: 2,
          Body: 'late',
        }),
      ),
    )
    expect(err.name).toBe('NoSuchUpload')
  })
})

describe('restart', () => {
  it('keeps the configuration across a restart, and the new process applies it', async () => {
    const Bucket = 'lc-restart'
    await s3().send(new CreateBucketCommand({ Bucket }))
    const Rules: LifecycleRule[] = [
      { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
    ]
    await s3().send(
      new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }),
    )
    // Stop the process (keeping its folder) and start a new one on the same data.
    await server.sovra.stop()
    const first = server
    server = await startSovra({
      dataDir: first.dataDir,
      env: { SOVRA_LIFECYCLE_DAY_MS: String(DAY_MS), SOVRA_LIFECYCLE_INTERVAL_MS: '50' },
    })
    // The new process stops first, then the first one's stop removes the shared folder.
    const second = server
    server = {
      ...second,
      async stop() {
        await second.stop()
        await first.stop()
      },
    }
    registerRegion(server.endpoint('us-west-1'), 'us-west-1')
    const got = await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket }))
    expect(got.Rules).toEqual(Rules)
    await put(Bucket, 'tmp/x')
    await put(Bucket, 'keep')
    await eventually(async () => (await keys(Bucket)).join() === 'keep', 'the expiry')
  })
})

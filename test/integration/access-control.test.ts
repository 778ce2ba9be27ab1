import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Directory, openDirectory } from '../../src/directory/index.js'
import { commit } from '../../src/ledger/index.js'
import { publicEvents } from '../support/public-log.js'
import { rawRequest } from '../support/raw-request.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
let directory: Directory
let alice: S3Client
let bob: S3Client
let bobAtEast: S3Client
let bobId: string
let aliceCanonical: string
let bobCanonical: string
let ep: string

const ALL_OPEN = {
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
}

beforeAll(async () => {
  server = await startSovra()
  directory = await openDirectory({ dataDir: server.dataDir })
  const a = await directory.createTenant({ name: 'alice' })
  const b = await directory.createTenant({ name: 'bob' })
  bobId = b.id
  aliceCanonical = a.canonicalId
  bobCanonical = b.canonicalId
  const aliceKey = await directory.createAccessKey('alice', {})
  const bobKey = await directory.createAccessKey('bob', {})
  alice = s3For(server, 'us-west-1', aliceKey)
  bob = s3For(server, 'us-west-1', bobKey)
  bobAtEast = s3For(server, 'us-east-1', bobKey)
  ep = server.endpoint('us-west-1')
})
afterAll(async () => {
  await directory?.close()
  await server?.stop()
})

/** A plain, unsigned GET, as a browser or curl sends it. */
async function anonymousGet(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${ep}${path}`)
  return { status: res.status, body: await res.text() }
}

const codeOf = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1]

describe('public access through ACLs', () => {
  it('serves a public-read object to an anonymous fetch and refuses a private one', async () => {
    await alice.send(
      new CreateBucketCommand({ Bucket: 'pub-acl', ObjectOwnership: 'ObjectWriter' }),
    )
    // New buckets block public access, as on AWS: the owner must open it explicitly.
    const blocked = await s3Error(
      alice.send(
        new PutObjectCommand({ Bucket: 'pub-acl', Key: 'x', Body: 'x', ACL: 'public-read' }),
      ),
    )
    expect(blocked.name).toBe('AccessDenied')
    await alice.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pub-acl',
        PublicAccessBlockConfiguration: ALL_OPEN,
      }),
    )
    await alice.send(
      new PutObjectCommand({
        Bucket: 'pub-acl',
        Key: 'hello.txt',
        Body: 'hi all',
        ACL: 'public-read',
      }),
    )
    await alice.send(new PutObjectCommand({ Bucket: 'pub-acl', Key: 'secret.txt', Body: 'mine' }))

    expect(await anonymousGet('/pub-acl/hello.txt')).toEqual({ status: 200, body: 'hi all' })
    const refused = await anonymousGet('/pub-acl/secret.txt')
    expect([refused.status, codeOf(refused.body)]).toEqual([403, 'AccessDenied'])
    // Anonymous callers cannot list (no bucket READ grant) nor write.
    expect((await anonymousGet('/pub-acl?list-type=2')).status).toBe(403)
    const put = await fetch(`${ep}/pub-acl/dropped.txt`, { method: 'PUT', body: 'x' })
    expect(put.status).toBe(403)

    const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'pub-acl', Key: 'hello.txt' }))
    expect(acl.Owner?.ID).toBe(aliceCanonical)
    expect(
      acl.Grants?.map((g) => [g.Grantee?.Type, g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]),
    ).toEqual([
      ['CanonicalUser', aliceCanonical, 'FULL_CONTROL'],
      ['Group', 'http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
    ])

    // IgnorePublicAcls takes the grant away without touching it.
    await alice.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pub-acl',
        PublicAccessBlockConfiguration: { ...ALL_OPEN, IgnorePublicAcls: true },
      }),
    )
    expect((await anonymousGet('/pub-acl/hello.txt')).status).toBe(403)
  })

  it('grants another tenant by canonical id with PutObjectAcl and PutBucketAcl', async () => {
    await alice.send(
      new CreateBucketCommand({ Bucket: 'acl-share', ObjectOwnership: 'BucketOwnerPreferred' }),
    )
    await alice.send(new PutObjectCommand({ Bucket: 'acl-share', Key: 'doc', Body: 'for bob' }))
    expect(
      (await s3Error(bob.send(new GetObjectCommand({ Bucket: 'acl-share', Key: 'doc' })))).name,
    ).toBe('AccessDenied')
    await alice.send(
      new PutObjectAclCommand({
        Bucket: 'acl-share',
        Key: 'doc',
        GrantRead: `id="${bobCanonical}"`,
      }),
    )
    const got = await bob.send(new GetObjectCommand({ Bucket: 'acl-share', Key: 'doc' }))
    expect(await got.Body?.transformToString()).toBe('for bob')
    // READ on an object is not READ on the bucket.
    expect((await s3Error(bob.send(new ListObjectsV2Command({ Bucket: 'acl-share' })))).name).toBe(
      'AccessDenied',
    )
    await alice.send(
      new PutBucketAclCommand({
        Bucket: 'acl-share',
        AccessControlPolicy: {
          Owner: { ID: aliceCanonical },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: aliceCanonical }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: bobCanonical }, Permission: 'WRITE' },
            { Grantee: { Type: 'CanonicalUser', ID: bobCanonical }, Permission: 'READ' },
          ],
        },
      }),
    )
    const listed = await bob.send(new ListObjectsV2Command({ Bucket: 'acl-share' }))
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['doc'])
    // Bob writes with bucket-owner-full-control: under BucketOwnerPreferred alice owns it.
    await bob.send(
      new PutObjectCommand({
        Bucket: 'acl-share',
        Key: 'from-bob',
        Body: 'b',
        ACL: 'bucket-owner-full-control',
      }),
    )
    const owned = await alice.send(
      new GetObjectAclCommand({ Bucket: 'acl-share', Key: 'from-bob' }),
    )
    expect(owned.Owner?.ID).toBe(aliceCanonical)
    const bucketAcl = await alice.send(new GetBucketAclCommand({ Bucket: 'acl-share' }))
    expect(bucketAcl.Grants).toHaveLength(3)
  })
})

describe('bucket policies', () => {
  it('grants one prefix to another tenant (read and list with s3:prefix) and denies the rest', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'shared-prefix' }))
    for (const Key of ['reports/q1.csv', 'reports/q2.csv', 'private/salaries.csv']) {
      await alice.send(new PutObjectCommand({ Bucket: 'shared-prefix', Key, Body: Key }))
    }
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadReports',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${bobId}:root` },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared-prefix/reports/*',
        },
        {
          Sid: 'ListReports',
          Effect: 'Allow',
          Principal: { AWS: bobId },
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::shared-prefix',
          Condition: { StringLike: { 's3:prefix': 'reports/*' } },
        },
        {
          Sid: 'NothingElse',
          Effect: 'Deny',
          Principal: { CanonicalUser: bobCanonical },
          NotAction: ['s3:GetObject', 's3:ListBucket'],
          Resource: ['arn:aws:s3:::shared-prefix', 'arn:aws:s3:::shared-prefix/*'],
        },
      ],
    }
    await alice.send(
      new PutBucketPolicyCommand({ Bucket: 'shared-prefix', Policy: JSON.stringify(policy) }),
    )
    const stored = await alice.send(new GetBucketPolicyCommand({ Bucket: 'shared-prefix' }))
    expect(JSON.parse(stored.Policy ?? '')).toEqual(policy)
    const status = await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'shared-prefix' }))
    expect(status.PolicyStatus?.IsPublic).toBe(false)

    const q1 = await bob.send(
      new GetObjectCommand({ Bucket: 'shared-prefix', Key: 'reports/q1.csv' }),
    )
    expect(await q1.Body?.transformToString()).toBe('reports/q1.csv')
    const listed = await bob.send(
      new ListObjectsV2Command({ Bucket: 'shared-prefix', Prefix: 'reports/' }),
    )
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['reports/q1.csv', 'reports/q2.csv'])

    const refusals = [
      () =>
        bob.send(new GetObjectCommand({ Bucket: 'shared-prefix', Key: 'private/salaries.csv' })),
      () => bob.send(new ListObjectsV2Command({ Bucket: 'shared-prefix' })),
      () => bob.send(new ListObjectsV2Command({ Bucket: 'shared-prefix', Prefix: 'private/' })),
      () =>
        bob.send(
          new PutObjectCommand({ Bucket: 'shared-prefix', Key: 'reports/q3.csv', Body: 'x' }),
        ),
      () => bob.send(new DeleteObjectCommand({ Bucket: 'shared-prefix', Key: 'reports/q1.csv' })),
      () => bob.send(new GetBucketPolicyCommand({ Bucket: 'shared-prefix' })),
      () => bob.send(new DeleteBucketPolicyCommand({ Bucket: 'shared-prefix' })),
    ]
    for (const r of refusals) {
      const err = await s3Error(r())
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
    }
    // Not granted to anyone else, anonymous included.
    expect((await anonymousGet('/shared-prefix/reports/q1.csv')).status).toBe(403)
    // Alice still does everything.
    await alice.send(new GetObjectCommand({ Bucket: 'shared-prefix', Key: 'private/salaries.csv' }))
  })

  it('a grant of s3:GetObject does not reach old versions; s3:GetObjectVersion does', async () => {
    const Bucket = 'shared-versions'
    await alice.send(new CreateBucketCommand({ Bucket }))
    await alice.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    const v1 = await alice.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'draft' }))
    await alice.send(new PutObjectCommand({ Bucket, Key: 'doc', Body: 'final' }))
    const grant = (Action: string[]) =>
      alice.send(
        new PutBucketPolicyCommand({
          Bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: bobId },
                Action,
                Resource: `arn:aws:s3:::${Bucket}/*`,
              },
            ],
          }),
        }),
      )
    await grant(['s3:GetObject', 's3:DeleteObject'])
    const current = await bob.send(new GetObjectCommand({ Bucket, Key: 'doc' }))
    expect(await current.Body?.transformToString()).toBe('final')
    const old = { Bucket, Key: 'doc', VersionId: v1.VersionId }
    for (const r of [
      () => bob.send(new GetObjectCommand(old)),
      () => bob.send(new DeleteObjectCommand(old)),
    ]) {
      const err = await s3Error(r())
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
    }
    const batch = await bob.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [{ Key: 'doc', VersionId: v1.VersionId }] },
      }),
    )
    expect(batch.Errors?.map((e) => e.Code)).toEqual(['AccessDenied'])
    await grant(['s3:GetObjectVersion'])
    const draft = await bob.send(new GetObjectCommand(old))
    expect(await draft.Body?.transformToString()).toBe('draft')
  })

  it('an explicit deny beats the owner too; the owner can still repair the policy', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'deny-owner' }))
    await alice.send(new PutObjectCommand({ Bucket: 'deny-owner', Key: 'keep/a', Body: 'a' }))
    await alice.send(new PutObjectCommand({ Bucket: 'deny-owner', Key: 'tmp/b', Body: 'b' }))
    await alice.send(
      new PutBucketPolicyCommand({
        Bucket: 'deny-owner',
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:DeleteObject',
              Resource: 'arn:aws:s3:::deny-owner/keep/*',
            },
          ],
        }),
      }),
    )
    const err = await s3Error(
      alice.send(new DeleteObjectCommand({ Bucket: 'deny-owner', Key: 'keep/a' })),
    )
    expect(err.name).toBe('AccessDenied')
    // DeleteObjects is judged key by key.
    const multi = await alice.send(
      new DeleteObjectsCommand({
        Bucket: 'deny-owner',
        Delete: { Objects: [{ Key: 'keep/a' }, { Key: 'tmp/b' }] },
      }),
    )
    expect(multi.Deleted?.map((d) => d.Key)).toEqual(['tmp/b'])
    expect(multi.Errors?.map((e) => [e.Key, e.Code])).toEqual([['keep/a', 'AccessDenied']])
    const still = await alice.send(new GetObjectCommand({ Bucket: 'deny-owner', Key: 'keep/a' }))
    expect(await still.Body?.transformToString()).toBe('a')
    await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'deny-owner' }))
    await alice.send(new DeleteObjectCommand({ Bucket: 'deny-owner', Key: 'keep/a' }))
    const none = await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'deny-owner' })))
    expect([none.name, none.$metadata.httpStatusCode]).toEqual(['NoSuchBucketPolicy', 404])
  })

  it('a Deny on aws:SecureTransport=false refuses everything over plain http', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'tls-only' }))
    await alice.send(new PutObjectCommand({ Bucket: 'tls-only', Key: 'k', Body: 'v' }))
    await alice.send(
      new PutBucketPolicyCommand({
        Bucket: 'tls-only',
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: ['arn:aws:s3:::tls-only', 'arn:aws:s3:::tls-only/*'],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        }),
      }),
    )
    for (const r of [
      () => alice.send(new GetObjectCommand({ Bucket: 'tls-only', Key: 'k' })),
      () => alice.send(new PutObjectCommand({ Bucket: 'tls-only', Key: 'k2', Body: 'v' })),
      () => alice.send(new ListObjectsV2Command({ Bucket: 'tls-only' })),
      () => alice.send(new GetBucketAclCommand({ Bucket: 'tls-only' })),
    ]) {
      expect((await s3Error(r())).name).toBe('AccessDenied')
    }
    await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'tls-only' }))
    await alice.send(new GetObjectCommand({ Bucket: 'tls-only', Key: 'k' }))
  })
})

describe('PublicAccessBlock', () => {
  const publicRead = (bucket: string) =>
    JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    })

  it('new buckets block everything public, BlockPublicPolicy refuses a public policy', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'pab-default' }))
    const pab = await alice.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-default' }))
    expect(pab.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    })
    const ownership = await alice.send(
      new GetBucketOwnershipControlsCommand({ Bucket: 'pab-default' }),
    )
    expect(ownership.OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }])
    const refused = await s3Error(
      alice.send(
        new PutBucketPolicyCommand({ Bucket: 'pab-default', Policy: publicRead('pab-default') }),
      ),
    )
    expect([refused.name, refused.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403])
    expect(
      (await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'pab-default' })))).name,
    ).toBe('NoSuchBucketPolicy')
    // ACLs are disabled on such a bucket.
    const acl = await s3Error(
      alice.send(
        new PutObjectCommand({ Bucket: 'pab-default', Key: 'x', Body: 'x', ACL: 'public-read' }),
      ),
    )
    expect([acl.name, acl.$metadata.httpStatusCode]).toEqual(['AccessControlListNotSupported', 400])
  })

  it('RestrictPublicBuckets lets only the owner in while the policy is public', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'pab-restrict' }))
    await alice.send(
      new PutObjectCommand({ Bucket: 'pab-restrict', Key: 'page.html', Body: '<p>hi</p>' }),
    )
    await alice.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'pab-restrict',
        PublicAccessBlockConfiguration: { ...ALL_OPEN, RestrictPublicBuckets: true },
      }),
    )
    await alice.send(
      new PutBucketPolicyCommand({ Bucket: 'pab-restrict', Policy: publicRead('pab-restrict') }),
    )
    const status = await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'pab-restrict' }))
    expect(status.PolicyStatus?.IsPublic).toBe(true)
    expect((await anonymousGet('/pab-restrict/page.html')).status).toBe(403)
    expect(
      (await s3Error(bob.send(new GetObjectCommand({ Bucket: 'pab-restrict', Key: 'page.html' }))))
        .name,
    ).toBe('AccessDenied')
    await alice.send(new GetObjectCommand({ Bucket: 'pab-restrict', Key: 'page.html' }))
    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'pab-restrict' }))
    expect(await anonymousGet('/pab-restrict/page.html')).toEqual({
      status: 200,
      body: '<p>hi</p>',
    })
    const gone = await s3Error(
      alice.send(new GetPublicAccessBlockCommand({ Bucket: 'pab-restrict' })),
    )
    expect([gone.name, gone.$metadata.httpStatusCode]).toEqual([
      'NoSuchPublicAccessBlockConfiguration',
      404,
    ])
  })
})

describe('sharing stays in the bucket data center', () => {
  it('a grant works at the bucket home; another data center answers 301 and never the bytes', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'west-shared' }))
    await alice.send(
      new PutObjectCommand({ Bucket: 'west-shared', Key: 'data.bin', Body: 'west bytes' }),
    )
    await alice.send(
      new PutBucketPolicyCommand({
        Bucket: 'west-shared',
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: bobId },
              Action: 's3:GetObject',
              Resource: 'arn:aws:s3:::west-shared/*',
            },
          ],
        }),
      }),
    )
    const home = await bob.send(new GetObjectCommand({ Bucket: 'west-shared', Key: 'data.bin' }))
    expect(await home.Body?.transformToString()).toBe('west bytes')
    const away = await s3Error(
      bobAtEast.send(new GetObjectCommand({ Bucket: 'west-shared', Key: 'data.bin' })),
    )
    expect(away.$metadata.httpStatusCode).toBe(301)
    const raw = await fetch(`${server.endpoint('us-east-1')}/west-shared/data.bin`)
    const body = await raw.text()
    expect(raw.status).toBe(301)
    expect(raw.headers.get('x-amz-bucket-region')).toBe('us-west-1')
    expect(body).not.toContain('west bytes')
  })
})

describe('the ledger names who acted', () => {
  it("logs another tenant's and an anonymous read of a shared bucket in the owner's terms, with the actor", async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'logged-share' }))
    await alice.send(new PutObjectCommand({ Bucket: 'logged-share', Key: 'k', Body: 'v' }))
    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'logged-share' }))
    await alice.send(
      new PutBucketPolicyCommand({
        Bucket: 'logged-share',
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:GetObject',
              Resource: 'arn:aws:s3:::logged-share/*',
            },
          ],
        }),
      }),
    )
    await bob.send(new GetObjectCommand({ Bucket: 'logged-share', Key: 'k' }))
    expect((await anonymousGet('/logged-share/k')).status).toBe(200)
    const owner = await directory.getTenant('alice')
    const secret = await directory.ledgerSecretOf(owner?.id as string)
    const bucket = commit(secret, 'logged-share')
    const actors = new Map([
      [commit(secret, bobId), 'bob'],
      [commit(secret, 'anonymous'), 'anonymous'],
      [commit(secret, owner?.id as string), 'alice'],
    ])
    await expect
      .poll(
        async () =>
          (await publicEvents(server.sovra.adminEndpoint, 'us-west-1'))
            .filter((e) => e.type === 'object.get' && 'bucket' in e && e.bucket === bucket)
            .map((e) => [
              actors.get(e.actor.kind === 'tenant' ? e.actor.tenant : '') ?? 'unknown',
              'tenant' in e && e.tenant === commit(secret, owner?.id as string),
            ]),
        { timeout: 30_000, interval: 500 },
      )
      .toEqual([
        ['bob', true],
        ['anonymous', true],
      ])
  })
})

describe('bad input', () => {
  it('answers malformed policies, ACL documents and oversized policies with the AWS codes, changing nothing', async () => {
    await alice.send(
      new CreateBucketCommand({ Bucket: 'bad-access', ObjectOwnership: 'ObjectWriter' }),
    )
    await alice.send(new PutObjectCommand({ Bucket: 'bad-access', Key: 'k', Body: 'v' }))
    const bad = await s3Error(
      alice.send(new PutBucketPolicyCommand({ Bucket: 'bad-access', Policy: '{"Statement": [' })),
    )
    expect([bad.name, bad.$metadata.httpStatusCode, bad.message]).toEqual([
      'MalformedPolicy',
      400,
      'This policy contains invalid Json',
    ])
    const effect = await s3Error(
      alice.send(
        new PutBucketPolicyCommand({
          Bucket: 'bad-access',
          Policy: JSON.stringify({
            Statement: [
              {
                Effect: 'Permit',
                Principal: '*',
                Action: 's3:GetObject',
                Resource: 'arn:aws:s3:::bad-access/*',
              },
            ],
          }),
        }),
      ),
    )
    expect([effect.name, effect.message]).toEqual(['MalformedPolicy', 'Invalid effect: Permit'])
    const other = await s3Error(
      alice.send(
        new PutBucketPolicyCommand({
          Bucket: 'bad-access',
          Policy: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: bobId },
                Action: 's3:GetObject',
                Resource: 'arn:aws:s3:::pub-acl/*',
              },
            ],
          }),
        }),
      ),
    )
    expect([other.name, other.message]).toEqual(['MalformedPolicy', 'Policy has invalid resource'])
    const big = {
      Statement: Array.from({ length: 300 }, (_, i) => ({
        Sid: `s${i}`,
        Effect: 'Allow',
        Principal: { AWS: bobId },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::bad-access/${'p'.repeat(40)}/${i}/*`,
      })),
    }
    const large = await s3Error(
      alice.send(new PutBucketPolicyCommand({ Bucket: 'bad-access', Policy: JSON.stringify(big) })),
    )
    expect([large.name, large.$metadata.httpStatusCode]).toEqual(['PolicyTooLarge', 400])
    expect(
      (await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'bad-access' })))).name,
    ).toBe('NoSuchBucketPolicy')

    const huge = await s3Error(
      alice.send(
        new PutBucketPolicyCommand({
          Bucket: 'bad-access',
          Policy: `{"Statement":[${' '.repeat(300_000)}]}`,
        }),
      ),
    )
    expect([huge.name, huge.$metadata.httpStatusCode]).toEqual(['PolicyTooLarge', 400])
    const xml = await s3Error(
      alice.send(
        new PutBucketAclCommand({
          Bucket: 'bad-access',
          AccessControlPolicy: { Owner: { ID: aliceCanonical } },
        }),
      ),
    )
    expect([xml.name, xml.$metadata.httpStatusCode]).toEqual(['MalformedACLError', 400])
    const notXml = await s3Error(
      alice.send(
        new PutObjectAclCommand({
          Bucket: 'bad-access',
          Key: 'k',
          AccessControlPolicy: {
            Owner: { ID: aliceCanonical },
            Grants: [
              {
                Grantee: { Type: 'CanonicalUser', ID: bobCanonical },
                Permission: 'READ_ALL' as 'READ',
              },
            ],
          },
        }),
      ),
    )
    expect([notXml.name, notXml.$metadata.httpStatusCode]).toEqual(['MalformedACLError', 400])
    const email = await s3Error(
      alice.send(
        new PutObjectAclCommand({
          Bucket: 'bad-access',
          Key: 'k',
          GrantRead: 'emailAddress="bob@example.com"',
        }),
      ),
    )
    expect([email.name, email.$metadata.httpStatusCode]).toEqual([
      'UnresolvableGrantByEmailAddress',
      400,
    ])
    const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'bad-access', Key: 'k' }))
    expect(acl.Grants).toHaveLength(1)
    const aliceCreds = await directory.createAccessKey('alice', {})
    const put = (headers: Record<string, string>) =>
      rawRequest(ep, '/bad-access/acl-probe', {
        method: 'PUT',
        body: 'x',
        headers,
        credentials: aliceCreds,
      })
    const unknown = await put({ 'x-amz-acl': 'world-writable' })
    expect([unknown.status, codeOf(unknown.body)]).toEqual([400, 'InvalidArgument'])
    const both = await put({ 'x-amz-acl': 'private', 'x-amz-grant-read': `id="${bobCanonical}"` })
    expect([both.status, codeOf(both.body)]).toEqual([400, 'InvalidRequest'])
    expect(
      (
        await s3Error(
          alice.send(new GetObjectAclCommand({ Bucket: 'bad-access', Key: 'acl-probe' })),
        )
      ).name,
    ).toBe('NoSuchKey')
    const rawCode = await rawRequest(ep, '/bad-access?policy', { method: 'GET', sign: false })
    expect([rawCode.status, codeOf(rawCode.body)]).toEqual([403, 'AccessDenied'])
  })
})

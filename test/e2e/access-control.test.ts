// Access control through real clients against the built server: the Debian aws cli v2
// (put-bucket-policy, get-bucket-policy, put-object-acl…) and python3-boto3, with anonymous
// reads by plain fetch and by boto3's UNSIGNED config.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import {
  awsCliFor,
  bucketName,
  PYTHON,
  rawFetch,
  runOk,
  tempDir,
  xmlText,
} from './lib/e2e-helpers.js'

let server: SpawnedSovra
let work: { path: string; remove: () => void }
let env: NodeJS.ProcessEnv
const DC = 'us-west-1'

let cli: ReturnType<typeof awsCliFor>
const aws = (args: string[]) => cli.aws(DC, args)
const awsOk = (args: string[]) => cli.awsOk(DC, args)

beforeAll(async () => {
  server = await spawnSovra()
  work = tempDir()
  cli = awsCliFor(server, work.path)
  env = cli.env
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('aws s3api', () => {
  it('puts and reads back a bucket policy, makes one object public with put-object-acl, and refuses bad input', async () => {
    const bucket = bucketName('cli-access')
    await awsOk([
      's3api',
      'create-bucket',
      '--bucket',
      bucket,
      '--object-ownership',
      'ObjectWriter',
    ])
    const body = join(work.path, 'page.html')
    writeFileSync(body, '<h1>public</h1>')
    for (const key of ['page.html', 'draft.html']) {
      await awsOk(['s3api', 'put-object', '--bucket', bucket, '--key', key, '--body', body])
    }
    // Public access is blocked on a new bucket: the ACL is refused until the owner opens it.
    const blocked = await aws([
      's3api',
      'put-object-acl',
      '--bucket',
      bucket,
      '--key',
      'page.html',
      '--acl',
      'public-read',
    ])
    expect(blocked.code).not.toBe(0)
    expect(blocked.stderr).toContain('AccessDenied')
    await awsOk([
      's3api',
      'put-public-access-block',
      '--bucket',
      bucket,
      '--public-access-block-configuration',
      'BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=true',
    ])
    await awsOk([
      's3api',
      'put-object-acl',
      '--bucket',
      bucket,
      '--key',
      'page.html',
      '--acl',
      'public-read',
    ])
    const acl = JSON.parse(
      (await awsOk(['s3api', 'get-object-acl', '--bucket', bucket, '--key', 'page.html'])).stdout,
    ) as { Grants: Array<{ Grantee: { URI?: string }; Permission: string }> }
    expect(acl.Grants.map((g) => [g.Grantee.URI ?? 'owner', g.Permission])).toEqual([
      ['owner', 'FULL_CONTROL'],
      ['http://acs.amazonaws.com/groups/global/AllUsers', 'READ'],
    ])
    const page = await rawFetch(`${server.endpoint(DC)}/${bucket}/page.html`)
    expect([page.status, page.body.toString()]).toEqual([200, '<h1>public</h1>'])
    const draft = await rawFetch(`${server.endpoint(DC)}/${bucket}/draft.html`)
    expect([draft.status, xmlText(draft.body.toString(), 'Code')]).toEqual([403, 'AccessDenied'])

    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'NoDeletes',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:DeleteObject',
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    }
    await awsOk([
      's3api',
      'put-bucket-policy',
      '--bucket',
      bucket,
      '--policy',
      JSON.stringify(policy),
    ])
    const got = JSON.parse(
      (await awsOk(['s3api', 'get-bucket-policy', '--bucket', bucket])).stdout,
    ) as { Policy: string }
    expect(JSON.parse(got.Policy)).toEqual(policy)
    const status = JSON.parse(
      (await awsOk(['s3api', 'get-bucket-policy-status', '--bucket', bucket])).stdout,
    ) as { PolicyStatus: { IsPublic: boolean } }
    expect(status.PolicyStatus.IsPublic).toBe(false)
    const denied = await aws(['s3api', 'delete-object', '--bucket', bucket, '--key', 'draft.html'])
    expect(denied.stderr).toContain('AccessDenied')

    const malformed = await aws([
      's3api',
      'put-bucket-policy',
      '--bucket',
      bucket,
      '--policy',
      '{"Statement": [',
    ])
    expect(malformed.stderr).toContain('MalformedPolicy')
    expect(malformed.stderr).toContain('This policy contains invalid Json')
    const publicPolicy = await aws([
      's3api',
      'put-bucket-policy',
      '--bucket',
      bucket,
      '--policy',
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
        ],
      }),
    ])
    expect(publicPolicy.stderr).toContain('AccessDenied')
    // The refused policies changed nothing.
    const still = JSON.parse(
      (await awsOk(['s3api', 'get-bucket-policy', '--bucket', bucket])).stdout,
    ) as { Policy: string }
    expect(JSON.parse(still.Policy)).toEqual(policy)
    await awsOk(['s3api', 'delete-bucket-policy', '--bucket', bucket])
    const none = await aws(['s3api', 'get-bucket-policy', '--bucket', bucket])
    expect(none.stderr).toContain('NoSuchBucketPolicy')
  })
})

const PRELUDE = `
import sys, json
import boto3, botocore
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
ARGS = json.loads(sys.stdin.read())
def client(signed=True):
    extra = {} if signed else {'signature_version': UNSIGNED}
    return boto3.client('s3', endpoint_url=ARGS['endpoint'], region_name=ARGS['dc'],
        aws_access_key_id=ARGS['accessKeyId'], aws_secret_access_key=ARGS['secretAccessKey'],
        config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}, **extra))
def err(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
`

describe('boto3', () => {
  it('shares a prefix publicly with a bucket policy, read by an unsigned client; everything else stays private', async () => {
    const script = `
s3 = client()
anon = client(signed=False)
b = ARGS['bucket']
s3.create_bucket(Bucket=b, CreateBucketConfiguration={'LocationConstraint': ARGS['dc']})
s3.put_object(Bucket=b, Key='public/logo.txt', Body=b'logo')
s3.put_object(Bucket=b, Key='private/plan.txt', Body=b'plan')
policy = {'Statement': [{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject',
                         'Resource': 'arn:aws:s3:::%s/public/*' % b}]}
result = {'blocked': err(lambda: s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy)))}
s3.delete_public_access_block(Bucket=b)
s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
result['status'] = s3.get_bucket_policy_status(Bucket=b)['PolicyStatus']['IsPublic']
result['public'] = anon.get_object(Bucket=b, Key='public/logo.txt')['Body'].read().decode()
result['private'] = err(lambda: anon.get_object(Bucket=b, Key='private/plan.txt'))
result['list'] = err(lambda: anon.list_objects_v2(Bucket=b))
result['write'] = err(lambda: anon.put_object(Bucket=b, Key='public/x', Body=b'x'))
result['ownership'] = s3.get_bucket_ownership_controls(Bucket=b)['OwnershipControls']['Rules']
result['aclOff'] = err(lambda: s3.put_object_acl(Bucket=b, Key='public/logo.txt', ACL='public-read'))
result['tooLarge'] = err(lambda: s3.put_bucket_policy(Bucket=b, Policy=json.dumps({'Statement': [
    {'Sid': 's%d' % i, 'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject',
     'Resource': 'arn:aws:s3:::%s/%s/%d/*' % (b, 'p' * 60, i)} for i in range(300)]})))
result['badAcl'] = err(lambda: s3.put_bucket_acl(Bucket=b, AccessControlPolicy={'Owner': {'ID': 'x'}}))
print(json.dumps(result))
`
    const r = await runOk(PYTHON, ['-c', PRELUDE + script], {
      env,
      input: JSON.stringify({
        endpoint: server.endpoint(DC),
        dc: DC,
        bucket: bucketName('boto3-access'),
        ...server.credentials,
      }),
    })
    expect(JSON.parse(r.stdout)).toEqual({
      blocked: ['AccessDenied', 403],
      status: true,
      public: 'logo',
      private: ['AccessDenied', 403],
      list: ['AccessDenied', 403],
      write: ['AccessDenied', 403],
      ownership: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
      aclOff: ['AccessControlListNotSupported', 400],
      tooLarge: ['PolicyTooLarge', 400],
      badAcl: ['MalformedACLError', 400],
    })
  })
})

// Versioning through real clients against the built server: the Debian aws cli v2 (`aws
// s3api`) drives a versioned bucket's life and checks it again after the server is SIGKILLed
// and restarted on the same data folder; Debian's python3-boto3 pages through versions with
// its paginator, restores a version by copy, and deletes versions in a batch.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bucketName, PYTHON, runOk } from './lib/e2e-helpers.js'
import { restartableSovra } from './lib/restartable-server.js'

const DC = 'ap-southeast-1'
const sovra = restartableSovra('sovra-e2e-versioning-')
/** `aws s3api <args>` against the data center; its JSON output parsed (or {} when empty). */
const s3api = (args: string[]) => sovra.s3api(DC, args)

interface Listing {
  Versions?: Array<{ Key: string; VersionId: string; IsLatest: boolean; Size: number }>
  DeleteMarkers?: Array<{ Key: string; VersionId: string; IsLatest: boolean }>
}

describe('aws s3api', () => {
  const Bucket = bucketName('awsver')
  let v1 = ''
  let v2 = ''
  let marker = ''
  const file = (name: string) => join(sovra.work, name)

  it('enables versioning, keeps each version, and hides the key behind a delete marker', async () => {
    await s3api([
      'create-bucket',
      '--bucket',
      Bucket,
      '--create-bucket-configuration',
      `LocationConstraint=${DC}`,
    ])
    await s3api([
      'put-bucket-versioning',
      '--bucket',
      Bucket,
      '--versioning-configuration',
      'Status=Enabled',
    ])
    expect(await s3api(['get-bucket-versioning', '--bucket', Bucket])).toMatchObject({
      Status: 'Enabled',
    })
    writeFileSync(file('one'), 'version one')
    writeFileSync(file('two'), 'version two, longer')
    v1 = (await s3api(['put-object', '--bucket', Bucket, '--key', 'k', '--body', file('one')]))
      .VersionId as string
    v2 = (await s3api(['put-object', '--bucket', Bucket, '--key', 'k', '--body', file('two')]))
      .VersionId as string
    expect(v1).toMatch(/^[0-9a-v]{30}$/)
    expect(v2).not.toBe(v1)
    const got = await s3api([
      'get-object',
      '--bucket',
      Bucket,
      '--key',
      'k',
      '--version-id',
      v1,
      file('got-one'),
    ])
    expect(got.VersionId).toBe(v1)
    expect(readFileSync(file('got-one'), 'utf8')).toBe('version one')

    const del = await s3api(['delete-object', '--bucket', Bucket, '--key', 'k'])
    expect(del.DeleteMarker).toBe(true)
    marker = del.VersionId as string
    const gone = await sovra.s3apiRun(DC, [
      'get-object',
      '--bucket',
      Bucket,
      '--key',
      'k',
      file('nothing'),
    ])
    expect(gone.code).not.toBe(0)
    expect(gone.stderr).toContain('NoSuchKey')
    const bad = await sovra.s3apiRun(DC, [
      'get-object',
      '--bucket',
      Bucket,
      '--key',
      'k',
      '--version-id',
      'not-a-version',
      file('nothing'),
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('InvalidArgument')
    expect(bad.stderr).toContain('Invalid version id specified')

    const listing = (await s3api(['list-object-versions', '--bucket', Bucket])) as Listing
    expect(listing.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size])).toEqual([
      [v2, false, 19],
      [v1, false, 11],
    ])
    expect(listing.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[marker, true]])
  })

  it('keeps versions and markers across a SIGKILL and restart; removing the marker restores the key', async () => {
    const killed = await sovra.restart()
    expect(killed.signal).toBe('SIGKILL')
    const listing = (await s3api(['list-object-versions', '--bucket', Bucket])) as Listing
    expect(listing.Versions?.map((v) => v.VersionId)).toEqual([v2, v1])
    expect(listing.DeleteMarkers?.map((m) => m.VersionId)).toEqual([marker])
    const removed = await s3api([
      'delete-object',
      '--bucket',
      Bucket,
      '--key',
      'k',
      '--version-id',
      marker,
    ])
    expect(removed).toMatchObject({ DeleteMarker: true, VersionId: marker })
    await s3api(['get-object', '--bucket', Bucket, '--key', 'k', file('back')])
    expect(readFileSync(file('back'), 'utf8')).toBe('version two, longer')
    const current = (await s3api(['list-objects-v2', '--bucket', Bucket])) as {
      Contents?: Array<{ Key: string }>
    }
    expect(current.Contents?.map((c) => c.Key)).toEqual(['k'])
  })
})

describe('boto3', () => {
  it('pages versions with the paginator, restores a version by copy, deletes versions in a batch', async () => {
    const script = `
import sys, json
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
a = json.loads(sys.stdin.read())
s3 = boto3.client('s3', endpoint_url=a['endpoint'], region_name=a['dc'],
    aws_access_key_id=a['id'], aws_secret_access_key=a['secret'],
    config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
b = a['bucket']
s3.create_bucket(Bucket=b, CreateBucketConfiguration={'LocationConstraint': a['dc']})
s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
ids = {}
for key in ['x', 'y']:
    for i in range(3):
        ids['%s%d' % (key, i)] = s3.put_object(Bucket=b, Key=key, Body=('%s-%d' % (key, i)).encode())['VersionId']
s3.delete_object(Bucket=b, Key='y')
pages = []
for page in s3.get_paginator('list_object_versions').paginate(Bucket=b, PaginationConfig={'PageSize': 2}):
    pages.append([[v['Key'], v['VersionId'], v['IsLatest']] for v in page.get('Versions', [])] +
                 [[m['Key'], m['VersionId'], m['IsLatest'], 'marker'] for m in page.get('DeleteMarkers', [])])
copy = s3.copy_object(Bucket=b, Key='x', CopySource={'Bucket': b, 'Key': 'x', 'VersionId': ids['x0']})
restored = s3.get_object(Bucket=b, Key='x')['Body'].read().decode()
batch = s3.delete_objects(Bucket=b, Delete={'Objects': [
    {'Key': 'x', 'VersionId': ids['x1']}, {'Key': 'x', 'VersionId': ids['x2']}]})
after = s3.list_object_versions(Bucket=b, Prefix='x')
try:
    s3.get_object(Bucket=b, Key='x', VersionId=ids['x1'])
    missing = None
except ClientError as e:
    missing = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
print(json.dumps({'ids': ids, 'pages': pages, 'copySource': copy.get('CopySourceVersionId'),
    'copyVersion': copy.get('VersionId'), 'restored': restored,
    'deleted': sorted([d['VersionId'] for d in batch['Deleted']]),
    'left': [v['VersionId'] for v in after.get('Versions', [])], 'missing': missing}))
`
    const bucket = bucketName('boto3ver')
    const r = await runOk(PYTHON, ['-c', script], {
      env: sovra.env,
      input: JSON.stringify({
        endpoint: sovra.server.endpoint(DC),
        dc: DC,
        id: sovra.server.credentials.accessKeyId,
        secret: sovra.server.credentials.secretAccessKey,
        bucket,
      }),
    })
    const out = JSON.parse(r.stdout) as {
      ids: Record<string, string>
      pages: unknown[][]
      copySource: string
      copyVersion: string
      restored: string
      deleted: string[]
      left: string[]
      missing: [string, number]
    }
    const id = out.ids
    // 7 entries (6 versions and one marker), 2 per page.
    expect(out.pages.length).toBe(4)
    // Server order: key by key, newest first; the y marker is y's latest. boto3 splits each
    // page into Versions and DeleteMarkers, which here keeps that order.
    expect(out.pages.flat()).toEqual([
      ['x', id.x2, true],
      ['x', id.x1, false],
      ['x', id.x0, false],
      ['y', expect.stringMatching(/^[0-9a-v]{30}$/), true, 'marker'],
      ['y', id.y2, false],
      ['y', id.y1, false],
      ['y', id.y0, false],
    ])
    expect(out.copySource).toBe(id.x0)
    expect(out.restored).toBe('x-0')
    expect(out.deleted).toEqual([id.x1, id.x2].sort())
    expect(out.left).toEqual([out.copyVersion, id.x0])
    expect(out.missing).toEqual(['NoSuchVersion', 404])
  })
})

// Debian's python3-boto3 against the built server. Each test runs one python script that does
// several steps and prints JSON; the assertions are made here.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import {
  AWKWARD_NAMES,
  bucketName,
  clientEnv,
  PYTHON,
  rawFetch,
  runOk,
  sha256,
  sha256File,
  tempDir,
  writeAwkwardTree,
  writeRandomFile,
  xmlText,
} from './lib/e2e-helpers.js'

let server: SpawnedSovra
let work: { path: string; remove: () => void }
let env: NodeJS.ProcessEnv

/** Defines `client(dc, secret=None)`, `sha(bytes)`, `ARGS` (the JSON input) and `out(obj)`. */
const PRELUDE = `
import sys, json, hashlib, base64, os, time
import boto3, botocore
from botocore.config import Config
from botocore.exceptions import ClientError
ARGS = json.loads(sys.stdin.read())
def client(dc, secret=None, region=None):
    return boto3.client('s3',
        endpoint_url=ARGS['endpoints'][dc],
        region_name=region or dc,
        aws_access_key_id=ARGS['accessKeyId'],
        aws_secret_access_key=secret or ARGS['secretAccessKey'],
        config=Config(s3={'addressing_style': 'path'}, signature_version='s3v4',
                      retries={'max_attempts': 1}, connect_timeout=5, read_timeout=60))
def sha(b):
    return hashlib.sha256(b).hexdigest()
def err(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return {'code': e.response.get('Error', {}).get('Code'),
                'status': e.response.get('ResponseMetadata', {}).get('HTTPStatusCode'),
                'headers': e.response.get('ResponseMetadata', {}).get('HTTPHeaders', {}),
                'message': e.response.get('Error', {}).get('Message')}
def out(obj):
    sys.stdout.write(json.dumps(obj))
`

async function py<T>(script: string, args: Record<string, unknown> = {}): Promise<T> {
  const input = JSON.stringify({
    endpoints: Object.fromEntries(server.dataCenters.map((dc) => [dc.id, dc.endpoint])),
    accessKeyId: server.credentials.accessKeyId,
    secretAccessKey: server.credentials.secretAccessKey,
    ...args,
  })
  const r = await runOk(PYTHON, ['-c', PRELUDE + script], { env, input })
  return JSON.parse(r.stdout) as T
}

beforeAll(async () => {
  server = await spawnSovra()
  work = tempDir()
  env = clientEnv(work.path, {
    AWS_CONFIG_FILE: join(work.path, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(work.path, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
  })
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('boto3', () => {
  const homes = ['cn-hangzhou', 'ap-northeast-1', 'us-east-1'] as const
  const buckets = Object.fromEntries(homes.map((dc) => [dc, bucketName(`boto3-${dc}`)])) as Record<
    string,
    string
  >

  it('creates buckets in three data centers and puts, lists, gets and deletes objects in each', async () => {
    const result = await py<Record<string, Record<string, unknown>>>(
      `
res = {}
for dc, bucket in ARGS['buckets'].items():
    s3 = client(dc)
    if dc == 'us-east-1':
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={'LocationConstraint': dc})
    loc = s3.get_bucket_location(Bucket=bucket)['LocationConstraint']
    body = os.urandom(123457)
    put = s3.put_object(Bucket=bucket, Key='k/one.bin', Body=body, ContentType='application/x-test',
                        Metadata={'origin': dc})
    s3.put_object(Bucket=bucket, Key='k/two.txt', Body=b'two')
    listed = s3.list_objects_v2(Bucket=bucket, Prefix='k/')
    got = s3.get_object(Bucket=bucket, Key='k/one.bin')
    data = got['Body'].read()
    rng = s3.get_object(Bucket=bucket, Key='k/one.bin', Range='bytes=100-199')['Body'].read()
    s3.delete_object(Bucket=bucket, Key='k/one.bin')
    s3.delete_objects(Bucket=bucket, Delete={'Objects': [{'Key': 'k/two.txt'}]})
    after = s3.list_objects_v2(Bucket=bucket)
    res[dc] = {
        'location': loc,
        'putEtag': put['ETag'],
        'md5': '"' + hashlib.md5(body).hexdigest() + '"',
        'keys': [[o['Key'], o['Size']] for o in listed.get('Contents', [])],
        'sent': sha(body), 'got': sha(data),
        'contentType': got['ContentType'], 'meta': got['Metadata'],
        'range': rng == body[100:200],
        'after': after['KeyCount'],
    }
out(res)
`,
      { buckets },
    )
    for (const dc of homes) {
      const r = result[dc] as Record<string, unknown>
      expect(r.location).toBe(dc === 'us-east-1' ? null : dc)
      expect(r.putEtag).toBe(r.md5)
      expect(r.keys).toEqual([
        ['k/one.bin', 123457],
        ['k/two.txt', 3],
      ])
      expect(r.got).toBe(r.sent)
      expect(r.contentType).toBe('application/x-test')
      expect(r.meta).toEqual({ origin: dc })
      expect(r.range).toBe(true)
      expect(r.after).toBe(0)
    }
  })

  it('uploads 40 MiB with upload_file as multipart and downloads it intact', async () => {
    const src = join(work.path, 'big.bin')
    const dst = join(work.path, 'big-down.bin')
    const sum = writeRandomFile(src, 40 * 1024 * 1024)
    const r = await py<{ etag: string; length: number; parts: number }>(
      `
from boto3.s3.transfer import TransferConfig
s3 = client('ap-northeast-1')
cfg = TransferConfig(multipart_threshold=8*1024*1024, multipart_chunksize=8*1024*1024, max_concurrency=4)
s3.upload_file(ARGS['src'], ARGS['bucket'], 'big/forty.bin', Config=cfg)
head = s3.head_object(Bucket=ARGS['bucket'], Key='big/forty.bin')
part = s3.head_object(Bucket=ARGS['bucket'], Key='big/forty.bin', PartNumber=1)
s3.download_file(ARGS['bucket'], 'big/forty.bin', ARGS['dst'], Config=cfg)
out({'etag': head['ETag'], 'length': head['ContentLength'], 'parts': part.get('PartsCount', 0)})
`,
      { src, dst, bucket: buckets['ap-northeast-1'] },
    )
    expect(r.length).toBe(40 * 1024 * 1024)
    expect(r.etag).toMatch(/^"[0-9a-f]{32}-5"$/)
    expect(await sha256File(dst)).toBe(sum)
  })

  it('stores awkward keys, including a/b/../c, lists them exactly (paged) and reads them back', async () => {
    const root = join(work.path, 'awkward')
    const files = writeAwkwardTree(root)
    const extra = ['a/b/../c', './dot', 'a//double', 'trailing space ', 'x?y#z', '%2F']
    const r = await py<{
      keys: string[]
      shas: Record<string, string>
      sent: Record<string, string>
      pages: number
    }>(
      `
s3 = client('cn-hangzhou')
b = ARGS['bucket']
sent = {}
for name in ARGS['files']:
    s3.upload_file(os.path.join(ARGS['root'], name), b, 'tree/' + name)
for key in ARGS['extra']:
    body = ('body of ' + key).encode()
    s3.put_object(Bucket=b, Key='tree/' + key, Body=body)
    sent['tree/' + key] = sha(body)
keys, pages, token = [], 0, None
while True:
    kw = {'Bucket': b, 'Prefix': 'tree/', 'MaxKeys': 4}
    if token: kw['ContinuationToken'] = token
    page = s3.list_objects_v2(**kw)
    pages += 1
    keys += [o['Key'] for o in page.get('Contents', [])]
    if not page.get('IsTruncated'): break
    token = page['NextContinuationToken']
shas = {k: sha(s3.get_object(Bucket=b, Key=k)['Body'].read()) for k in keys}
out({'keys': keys, 'shas': shas, 'sent': sent, 'pages': pages})
`,
      { bucket: buckets['cn-hangzhou'], root, files: [...AWKWARD_NAMES], extra },
    )
    const expectedKeys = [...files.keys(), ...extra].map((k) => `tree/${k}`)
    // S3 lists in UTF-8 byte order.
    const byteOrder = [...expectedKeys].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    )
    expect(r.keys).toEqual(byteOrder)
    expect(r.keys).toContain('tree/a/b/../c')
    expect(r.pages).toBe(Math.ceil(expectedKeys.length / 4))
    for (const [name, sum] of files) expect(r.shas[`tree/${name}`]).toBe(sum)
    for (const [key, sum] of Object.entries(r.sent)) expect(r.shas[key]).toBe(sum)
  })

  it('serves presigned GET and PUT URLs used with fetch; an expired one gets 403 AccessDenied', async () => {
    const dc = 'us-east-1'
    const bucket = buckets[dc] as string
    const urls = await py<{ put: string; get: string; expired: string; expiredPut: string }>(
      `
s3 = client('us-east-1')
b = ARGS['bucket']
out({
    'put': s3.generate_presigned_url('put_object', Params={'Bucket': b, 'Key': 'pre/signed key+&.bin'}, ExpiresIn=300),
    'get': s3.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': 'pre/signed key+&.bin'}, ExpiresIn=300),
    'expired': s3.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': 'pre/signed key+&.bin'}, ExpiresIn=1),
    'expiredPut': s3.generate_presigned_url('put_object', Params={'Bucket': b, 'Key': 'pre/late.bin'}, ExpiresIn=1),
})
`,
      { bucket },
    )
    const body = Buffer.from(`presigned ${'x'.repeat(5000)} ${Date.now()}`)
    const put = await rawFetch(urls.put, { method: 'PUT', body })
    expect(put.status).toBe(200)
    const got = await rawFetch(urls.get)
    expect(got.status).toBe(200)
    expect(sha256(got.body)).toBe(sha256(body))

    await new Promise((r) => setTimeout(r, 2_100))
    const expired = await rawFetch(urls.expired)
    expect(expired.status).toBe(403)
    expect(xmlText(expired.body.toString('utf8'), 'Code')).toBe('AccessDenied')
    expect(expired.body.includes(body)).toBe(false)
    const latePut = await rawFetch(urls.expiredPut, { method: 'PUT', body })
    expect(latePut.status).toBe(403)
    expect(xmlText(latePut.body.toString('utf8'), 'Code')).toBe('AccessDenied')
    // ...and the refused PUT created nothing.
    const check = await py<{ missing: { code: string } | null }>(
      `
s3 = client('us-east-1')
out({'missing': err(lambda: s3.head_object(Bucket=ARGS['bucket'], Key='pre/late.bin'))})
`,
      { bucket },
    )
    expect(check.missing?.code).toBe('404')
  })

  interface RawResult {
    dc: string
    method: string
    status: number
    headers: Record<string, string>
    body: string
    leaked: boolean
    region: string
  }
  /** Raw S3SigV4-signed GET and HEAD of a cn-hangzhou object at other endpoints, over http.client. */
  async function rawAcross(key: string, targets: Array<[dc: string, region: string]>) {
    return py<{
      results: RawResult[]
      sdk: { code: string; status: number; headers: Record<string, string> } | null
    }>(
      `
import http.client, urllib.parse
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
b, key = ARGS['bucket'], ARGS['key']
payload = os.urandom(40000)
client('cn-hangzhou').put_object(Bucket=b, Key=key, Body=payload)
creds = Credentials(ARGS['accessKeyId'], ARGS['secretAccessKey'])
results = []
for dc, region in ARGS['targets']:
    for method in ['GET', 'HEAD']:
        url = ARGS['endpoints'][dc] + '/' + b + '/' + key
        req = AWSRequest(method=method, url=url)
        S3SigV4Auth(creds, 's3', region).add_auth(req)
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request(method, u.path, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        results.append({'dc': dc, 'method': method, 'region': region, 'status': resp.status,
                        'headers': {k.lower(): v for k, v in resp.getheaders()},
                        'body': body.decode('utf-8', 'replace'),
                        'leaked': len(body) > 0 and (payload.find(body[:64]) >= 0 or body.find(payload[:64]) >= 0)})
# The SDK at another endpoint: botocore sees the 301 and retries once signed for the home region.
sdk = err(lambda: client('ap-northeast-1').get_object(Bucket=b, Key=key)['Body'].read())
out({'results': results, 'sdk': sdk})
`,
      { bucket: buckets['cn-hangzhou'], key, targets },
    )
  }
  function expectRedirects(results: RawResult[]) {
    const home = server.hostPort('cn-hangzhou')
    for (const res of results) {
      const what = `${res.method} at ${res.dc} signed for ${res.region}: ${res.status} ${JSON.stringify(res.headers)} ${res.body}`
      expect(res.status, what).toBe(301)
      expect(res.headers['x-amz-bucket-region'], what).toBe('cn-hangzhou')
      expect(res.leaked).toBe(false)
      if (res.method === 'GET') {
        expect(xmlText(res.body, 'Code'), what).toBe('PermanentRedirect')
        expect(xmlText(res.body, 'Endpoint'), what).toBe(home)
      } else {
        expect(res.body).toBe('')
      }
    }
  }

  it('answers a raw signed GET and HEAD for another data center with 301, the home region and no bytes', async () => {
    const r = await rawAcross('secret.bin', [
      ['us-east-1', 'us-east-1'],
      ['ap-northeast-1', 'ap-northeast-1'],
      ['me-east-1', 'us-east-1'],
    ])
    expect(r.results).toHaveLength(6)
    expectRedirects(r.results)
  })

  it('redirects (301, home region) a request signed for the home region sent to another endpoint', async () => {
    // AWS: a request signed for the bucket's own region at another region's endpoint gets 301
    // PermanentRedirect, and x-amz-bucket-region always names the bucket's region. This is
    // exactly what botocore sends after a 301 when the endpoint URL is fixed.
    const r = await rawAcross('secret-2.bin', [['ap-northeast-1', 'cn-hangzhou']])
    expectRedirects(r.results)
    expect(r.sdk?.status).toBe(301)
    expect(r.sdk?.code).toBe('PermanentRedirect')
    expect(r.sdk?.headers['x-amz-bucket-region']).toBe('cn-hangzhou')
  })

  it('maps bad input to the S3 errors boto3 expects', async () => {
    const r = await py<Record<string, { code: string; status: number } | null>>(
      `
b = ARGS['bucket']
s3 = client('ap-northeast-1')
res = {}
res['invalidName'] = err(lambda: s3.create_bucket(Bucket='Bad_Bucket..name', CreateBucketConfiguration={'LocationConstraint': 'ap-northeast-1'}))
res['tooShort'] = err(lambda: s3.create_bucket(Bucket='ab', CreateBucketConfiguration={'LocationConstraint': 'ap-northeast-1'}))
res['wrongLocation'] = err(lambda: s3.create_bucket(Bucket=ARGS['fresh'], CreateBucketConfiguration={'LocationConstraint': 'us-west-1'}))
res['planned'] = err(lambda: client('ap-south-1').create_bucket(Bucket=ARGS['fresh'], CreateBucketConfiguration={'LocationConstraint': 'ap-south-1'}))
res['alreadyOwned'] = err(lambda: s3.create_bucket(Bucket=b, CreateBucketConfiguration={'LocationConstraint': 'ap-northeast-1'}))
res['noSuchKey'] = err(lambda: s3.get_object(Bucket=b, Key='missing/key'))
res['headMissing'] = err(lambda: s3.head_object(Bucket=b, Key='missing/key'))
res['noSuchBucket'] = err(lambda: s3.list_objects_v2(Bucket=ARGS['fresh']))
res['wrongSecret'] = err(lambda: client('ap-northeast-1', secret='wrong-secret-key-0123456789abcdefghijkl').list_objects_v2(Bucket=b))
res['badDigest'] = err(lambda: s3.put_object(Bucket=b, Key='bad-md5', Body=b'hello', ContentMD5=base64.b64encode(hashlib.md5(b'other').digest()).decode()))
res['badDigestVisible'] = err(lambda: s3.head_object(Bucket=b, Key='bad-md5'))
res['noSuchUpload'] = err(lambda: s3.upload_part(Bucket=b, Key='k', UploadId='nope', PartNumber=1, Body=b'x'))
res['badRange'] = err(lambda: (s3.put_object(Bucket=b, Key='small', Body=b'0123456789'), s3.get_object(Bucket=b, Key='small', Range='bytes=50-60')))
res['deleteNonEmpty'] = err(lambda: s3.delete_bucket(Bucket=b))
out(res)
`,
      { bucket: buckets['ap-northeast-1'], fresh: bucketName('boto3-fresh') },
    )
    expect(r.invalidName).toMatchObject({ code: 'InvalidBucketName', status: 400 })
    expect(r.tooShort).toMatchObject({ code: 'InvalidBucketName', status: 400 })
    expect(r.wrongLocation).toMatchObject({
      code: 'IllegalLocationConstraintException',
      status: 400,
    })
    expect(r.planned?.status).toBe(400)
    expect(r.alreadyOwned).toMatchObject({ code: 'BucketAlreadyOwnedByYou', status: 409 })
    expect(r.noSuchKey).toMatchObject({ code: 'NoSuchKey', status: 404 })
    expect(r.headMissing).toMatchObject({ code: '404', status: 404 })
    expect(r.noSuchBucket).toMatchObject({ code: 'NoSuchBucket', status: 404 })
    expect(r.wrongSecret).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 })
    expect(r.badDigest).toMatchObject({ code: 'BadDigest', status: 400 })
    expect(r.badDigestVisible).toMatchObject({ code: '404', status: 404 })
    expect(r.noSuchUpload).toMatchObject({ code: 'NoSuchUpload', status: 404 })
    expect(r.badRange).toMatchObject({ code: 'InvalidRange', status: 416 })
    expect(r.deleteNonEmpty).toMatchObject({ code: 'BucketNotEmpty', status: 409 })
  })
})

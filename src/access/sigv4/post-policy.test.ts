import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { authenticatePostPolicy } from './post-policy.js'
import { AKID, docOptions, SECRET } from './test-fixtures.js'

const POLICY = Buffer.from(
  JSON.stringify({ expiration: '2013-05-25T00:00:00Z', conditions: [{ bucket: 'b' }] }),
).toString('base64')

/** The POST signature computed independently: HMAC chain, then HMAC of the base64 policy. */
function sign(policy: string, secret = SECRET, date = '20130524', region = 'us-east-1'): string {
  const h = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest()
  const key = h(h(h(h(`AWS4${secret}`, date), region), 's3'), 'aws4_request')
  return h(key, policy).toString('hex')
}

function form(overrides: Record<string, string | undefined> = {}): Map<string, string> {
  const fields: Record<string, string | undefined> = {
    policy: POLICY,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${AKID}/20130524/us-east-1/s3/aws4_request`,
    'x-amz-date': '20130524T000000Z',
    'x-amz-signature': sign(POLICY),
    ...overrides,
  }
  return new Map(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined))
}

describe('authenticatePostPolicy()', () => {
  it('accepts the HMAC of the base64 policy under the credential scope (any hex case)', async () => {
    await expect(authenticatePostPolicy(form(), docOptions())).resolves.toMatchObject({
      kind: 'signed',
      accessKeyId: AKID,
      region: 'us-east-1',
      presigned: false,
    })
    const upper = form({ 'x-amz-signature': sign(POLICY).toUpperCase() })
    await expect(authenticatePostPolicy(upper, docOptions())).resolves.toMatchObject({
      kind: 'signed',
    })
  })

  it('refuses a signature of another policy, secret, day or region: SignatureDoesNotMatch', async () => {
    const other = Buffer.from('{"expiration":"2099-01-01T00:00:00Z","conditions":[]}').toString(
      'base64',
    )
    for (const signature of [
      sign(other),
      sign(POLICY, 'another-secret'),
      sign(POLICY, SECRET, '20130523'),
      sign(POLICY, SECRET, '20130524', 'eu-west-1'),
      '',
    ]) {
      await expect(
        authenticatePostPolicy(form({ 'x-amz-signature': signature }), docOptions()),
      ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
    }
  })

  it('checks the algorithm, credential scope, date and key before any signature', async () => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ 'x-amz-algorithm': 'AWS4-HMAC-SHA1' }, 'InvalidArgument'],
      [{ 'x-amz-algorithm': undefined }, 'InvalidArgument'],
      [{ 'x-amz-algorithm': undefined, awsaccesskeyid: AKID }, 'InvalidRequest'],
      [{ 'x-amz-credential': 'nonsense' }, 'InvalidArgument'],
      [{ 'x-amz-credential': `${AKID}/20130524/us-east-1/ec2/aws4_request` }, 'InvalidArgument'],
      [{ 'x-amz-credential': `${AKID}/20130524/eu-west-1/s3/aws4_request` }, 'InvalidArgument'],
      [{ 'x-amz-date': '20130525T000000Z' }, 'InvalidArgument'],
      [{ 'x-amz-date': undefined }, 'InvalidArgument'],
      [{ 'x-amz-signature': undefined }, 'InvalidArgument'],
      [
        { 'x-amz-credential': 'AKIDUNKNOWN/20130524/us-east-1/s3/aws4_request' },
        'InvalidAccessKeyId',
      ],
    ]
    for (const [overrides, code] of cases) {
      await expect(authenticatePostPolicy(form(overrides), docOptions())).rejects.toMatchObject({
        code,
      })
    }
  })
})

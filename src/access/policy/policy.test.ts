import { describe, expect, it } from 'vitest'
import {
  type BucketPolicy,
  evaluatePolicy,
  isPublicPolicy,
  type PolicyDecision,
  parseBucketPolicy,
  type Requester,
} from './index.js'

const BUCKET = 'shared'
const OWNER: Requester = { kind: 'tenant', id: 't-00000000000000aa', canonicalId: 'a'.repeat(64) }
const OTHER: Requester = { kind: 'tenant', id: 't-00000000000000bb', canonicalId: 'b'.repeat(64) }
const ANON: Requester = { kind: 'anonymous' }

function policyOf(statements: unknown[]): BucketPolicy {
  const parsed = parseBucketPolicy(
    JSON.stringify({ Version: '2012-10-17', Statement: statements }),
    BUCKET,
  )
  if (!parsed.ok) throw new Error(`policy refused: ${parsed.problem.message}`)
  return parsed.policy
}

function decide(
  policy: BucketPolicy,
  requester: Requester,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): PolicyDecision {
  const lower = new Map(
    Object.entries(context).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]),
  )
  return evaluatePolicy(policy, {
    requester,
    action,
    resource: `arn:aws:s3:::${resource}`,
    context: (key) => lower.get(key),
  })
}

describe('parseBucketPolicy refuses what AWS refuses, with its messages', () => {
  const stmt = {
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::shared/*',
  }
  const cases: Array<[string, string, string]> = [
    ['not JSON', '{"Statement": [', 'This policy contains invalid Json'],
    ['a JSON array', '[]', 'This policy contains invalid Json'],
    ['no Statement', '{"Version":"2012-10-17"}', 'Missing required field Statement'],
    ['an empty Statement', '{"Statement":[]}', 'Could not parse the policy: Statement is empty!'],
    [
      'a bad Version',
      JSON.stringify({ Version: '2020-01-01', Statement: [stmt] }),
      'The policy must contain a valid version string',
    ],
    [
      'an unknown Effect',
      JSON.stringify({ Statement: [{ ...stmt, Effect: 'Permit' }] }),
      'Invalid effect: Permit',
    ],
    [
      'no Effect',
      JSON.stringify({ Statement: [{ ...stmt, Effect: undefined }] }),
      'Missing required field Effect',
    ],
    [
      'no Principal',
      JSON.stringify({ Statement: [{ ...stmt, Principal: undefined }] }),
      'Missing required field Principal',
    ],
    [
      'a Service principal',
      JSON.stringify({ Statement: [{ ...stmt, Principal: { Service: 'x.amazonaws.com' } }] }),
      'Invalid principal in policy',
    ],
    [
      'an AWS account number',
      JSON.stringify({ Statement: [{ ...stmt, Principal: { AWS: '123456789012' } }] }),
      'Invalid principal in policy',
    ],
    [
      'a canonical id that is not 64 hex',
      JSON.stringify({ Statement: [{ ...stmt, Principal: { CanonicalUser: 'abc' } }] }),
      'Invalid principal in policy',
    ],
    [
      'an IAM user ARN',
      JSON.stringify({
        Statement: [{ ...stmt, Principal: { AWS: 'arn:aws:iam::t-00000000000000bb:user/bob' } }],
      }),
      'Invalid principal in policy',
    ],
    [
      'an empty principal object',
      JSON.stringify({ Statement: [{ ...stmt, Principal: {} }] }),
      'Invalid principal in policy',
    ],
    [
      'no Action',
      JSON.stringify({ Statement: [{ ...stmt, Action: undefined }] }),
      'Missing required field Action',
    ],
    [
      'an unknown action',
      JSON.stringify({ Statement: [{ ...stmt, Action: 's3:GetObjekt' }] }),
      'Policy has invalid action',
    ],
    [
      'another service',
      JSON.stringify({ Statement: [{ ...stmt, Action: 'ec2:RunInstances' }] }),
      'Policy has invalid action',
    ],
    [
      'an empty action list',
      JSON.stringify({ Statement: [{ ...stmt, Action: [] }] }),
      'Missing required field Action cannot be empty!',
    ],
    [
      'no Resource',
      JSON.stringify({ Statement: [{ ...stmt, Resource: undefined }] }),
      'Missing required field Resource',
    ],
    [
      'another bucket',
      JSON.stringify({ Statement: [{ ...stmt, Resource: 'arn:aws:s3:::other/*' }] }),
      'Policy has invalid resource',
    ],
    [
      'Resource "*"',
      JSON.stringify({ Statement: [{ ...stmt, Resource: '*' }] }),
      'Policy has invalid resource',
    ],
    [
      'a bucket name prefix',
      JSON.stringify({ Statement: [{ ...stmt, Resource: 'arn:aws:s3:::share/*' }] }),
      'Policy has invalid resource',
    ],
    [
      'ListBucket on objects only',
      JSON.stringify({ Statement: [{ ...stmt, Action: 's3:ListBucket' }] }),
      'Action does not apply to any resource(s) in statement',
    ],
    [
      'both Action and NotAction',
      JSON.stringify({ Statement: [{ ...stmt, NotAction: 's3:PutObject' }] }),
      'Statement/policy already has instance of Action',
    ],
    [
      'an unknown operator',
      JSON.stringify({ Statement: [{ ...stmt, Condition: { StringEq: { 's3:prefix': 'a' } } }] }),
      'Invalid Condition type : StringEq',
    ],
    [
      'IfExists on Null',
      JSON.stringify({
        Statement: [{ ...stmt, Condition: { NullIfExists: { 's3:prefix': 'true' } } }],
      }),
      'Invalid Condition type : NullIfExists',
    ],
    [
      'an unknown condition key',
      JSON.stringify({
        Statement: [{ ...stmt, Condition: { StringEquals: { 'ec2:Region': 'x' } } }],
      }),
      'Policy has an invalid condition key',
    ],
    [
      'a bad CIDR',
      JSON.stringify({
        Statement: [{ ...stmt, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }],
      }),
      'Invalid Condition value for IpAddress on key aws:SourceIp',
    ],
    [
      'an unknown statement field',
      JSON.stringify({ Statement: [{ ...stmt, Effects: 'Allow' }] }),
      'Unknown field Effects',
    ],
    [
      'duplicate Sids',
      JSON.stringify({
        Statement: [
          { ...stmt, Sid: 'a' },
          { ...stmt, Sid: 'a' },
        ],
      }),
      'Statement IDs (SID) in a single policy must be unique',
    ],
  ]
  it.each(cases)('%s', (_name, text, message) => {
    const parsed = parseBucketPolicy(text, BUCKET)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.problem).toEqual({ code: 'MalformedPolicy', message })
  })

  it('refuses a policy over 20 KB (whitespace not counted) as PolicyTooLarge', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      ...stmt,
      Sid: `s${i}`,
      Resource: `arn:aws:s3:::shared/${'p'.repeat(60)}${i}/*`,
    }))
    const parsed = parseBucketPolicy(JSON.stringify({ Statement: many }), BUCKET)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.problem.code).toBe('PolicyTooLarge')
    // The same policy padded with whitespace but small enough compacted is accepted.
    const padded = JSON.stringify({ Statement: many.slice(0, 20) }).replaceAll(
      ',',
      `,${' '.repeat(200)}`,
    )
    expect(padded.length).toBeGreaterThan(20 * 1024)
    expect(parseBucketPolicy(padded, BUCKET).ok).toBe(true)
  })

  it('accepts every principal form a tenant can be named by, and keeps the text as sent', () => {
    const text = JSON.stringify({
      Version: '2012-10-17',
      Id: 'p1',
      Statement: {
        Effect: 'Allow',
        Principal: {
          AWS: ['t-00000000000000bb', 'arn:aws:iam::t-00000000000000cc:root'],
          CanonicalUser: 'd'.repeat(64),
        },
        Action: ['s3:Get*', 's3:ListBucket'],
        Resource: ['arn:aws:s3:::shared', 'arn:aws:s3:::shared/*'],
      },
    })
    const parsed = parseBucketPolicy(text, BUCKET)
    expect(parsed.ok).toBe(true)
    if (parsed.ok) expect(parsed.policy.text).toBe(text)
  })
})

describe('evaluatePolicy', () => {
  it('grants only what a statement names: principal, action, resource', () => {
    const p = policyOf([
      {
        Effect: 'Allow',
        Principal: { AWS: 't-00000000000000bb' },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::shared/reports/*',
      },
    ])
    const table: Array<[Requester, string, string, PolicyDecision]> = [
      [OTHER, 's3:GetObject', 'shared/reports/q1.csv', 'allow'],
      [OTHER, 's3:getobject', 'shared/reports/q1.csv', 'allow'], // actions are case-insensitive
      [OTHER, 's3:GetObject', 'shared/Reports/q1.csv', 'default'], // resources are not
      [OTHER, 's3:GetObject', 'shared/private/x', 'default'],
      [OTHER, 's3:PutObject', 'shared/reports/q1.csv', 'default'],
      [OWNER, 's3:GetObject', 'shared/reports/q1.csv', 'default'],
      [ANON, 's3:GetObject', 'shared/reports/q1.csv', 'default'],
    ]
    for (const [who, action, resource, want] of table) {
      expect(decide(p, who, action, resource), `${JSON.stringify(who)} ${action} ${resource}`).toBe(
        want,
      )
    }
  })

  it('names a tenant by id, by arn:aws:iam::<id>:root and by canonical id', () => {
    for (const principal of [
      { AWS: OTHER.kind === 'tenant' ? OTHER.id : '' },
      { AWS: 'arn:aws:iam::t-00000000000000bb:root' },
      { CanonicalUser: 'b'.repeat(64) },
    ]) {
      const p = policyOf([
        {
          Effect: 'Allow',
          Principal: principal,
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared/*',
        },
      ])
      expect(decide(p, OTHER, 's3:GetObject', 'shared/k')).toBe('allow')
      expect(decide(p, OWNER, 's3:GetObject', 'shared/k')).toBe('default')
      expect(decide(p, ANON, 's3:GetObject', 'shared/k')).toBe('default')
    }
  })

  it('"*" and {"AWS":"*"} include anonymous requests', () => {
    for (const principal of ['*', { AWS: '*' }, { AWS: ['*', 't-00000000000000bb'] }]) {
      const p = policyOf([
        {
          Effect: 'Allow',
          Principal: principal,
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared/*',
        },
      ])
      expect(decide(p, ANON, 's3:GetObject', 'shared/k')).toBe('allow')
      expect(decide(p, OTHER, 's3:GetObject', 'shared/k')).toBe('allow')
    }
  })

  it('an explicit deny wins over any allow, in any order, for the owner too', () => {
    const allow = {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:*',
      Resource: 'arn:aws:s3:::shared/*',
    }
    const deny = {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:DeleteObject',
      Resource: 'arn:aws:s3:::shared/keep/*',
    }
    for (const p of [policyOf([allow, deny]), policyOf([deny, allow])]) {
      expect(decide(p, OWNER, 's3:DeleteObject', 'shared/keep/a')).toBe('deny')
      expect(decide(p, OWNER, 's3:DeleteObject', 'shared/tmp/a')).toBe('allow')
      expect(decide(p, OWNER, 's3:GetObject', 'shared/keep/a')).toBe('allow')
    }
  })

  it('NotPrincipal, NotAction and NotResource invert their element', () => {
    const p = policyOf([
      {
        Effect: 'Deny',
        NotPrincipal: { AWS: 't-00000000000000aa' },
        NotAction: ['s3:GetObject', 's3:ListBucket'],
        NotResource: 'arn:aws:s3:::shared/public/*',
      },
    ])
    expect(decide(p, OTHER, 's3:PutObject', 'shared/x')).toBe('deny')
    expect(decide(p, ANON, 's3:DeleteObject', 'shared/x')).toBe('deny')
    expect(decide(p, OWNER, 's3:PutObject', 'shared/x')).toBe('default')
    expect(decide(p, OTHER, 's3:GetObject', 'shared/x')).toBe('default')
    expect(decide(p, OTHER, 's3:PutObject', 'shared/public/x')).toBe('default')
  })

  it('wildcards: * any run, ? one character, the escaped star variable a literal star', () => {
    const p = policyOf([
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:Get*',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
        Resource: ['arn:aws:s3:::shared/log-????.txt', 'arn:aws:s3:::shared/star${*}'],
      },
    ])
    expect(decide(p, ANON, 's3:GetObject', 'shared/log-2026.txt')).toBe('allow')
    expect(decide(p, ANON, 's3:GetObjectTagging', 'shared/log-2026.txt')).toBe('allow')
    expect(decide(p, ANON, 's3:GetObject', 'shared/log-26.txt')).toBe('default')
    expect(decide(p, ANON, 's3:GetObject', 'shared/star*')).toBe('allow')
    expect(decide(p, ANON, 's3:GetObject', 'shared/starry')).toBe('default')
    expect(decide(p, ANON, 's3:PutObject', 'shared/log-2026.txt')).toBe('default')
  })

  it('a bucket ARN and an object ARN are different resources', () => {
    const p = policyOf([
      { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::shared' },
    ])
    expect(decide(p, ANON, 's3:ListBucket', 'shared')).toBe('allow')
    expect(decide(p, ANON, 's3:GetObject', 'shared/k')).toBe('default')
  })
})

describe('conditions', () => {
  function withCondition(condition: unknown): BucketPolicy {
    return policyOf([
      {
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: ['arn:aws:s3:::shared', 'arn:aws:s3:::shared/*'],
        Condition: condition,
      },
    ])
  }
  const cases: Array<[string, unknown, Record<string, string | string[]>, PolicyDecision]> = [
    [
      'StringEquals match',
      { StringEquals: { 's3:prefix': 'home/' } },
      { 's3:prefix': 'home/' },
      'allow',
    ],
    [
      'StringEquals other value',
      { StringEquals: { 's3:prefix': 'home/' } },
      { 's3:prefix': 'etc/' },
      'default',
    ],
    [
      'StringEquals is case-sensitive',
      { StringEquals: { 's3:prefix': 'home/' } },
      { 's3:prefix': 'HOME/' },
      'default',
    ],
    [
      'StringEquals any of several values',
      { StringEquals: { 's3:prefix': ['a/', 'b/'] } },
      { 's3:prefix': 'b/' },
      'allow',
    ],
    ['StringEquals key absent', { StringEquals: { 's3:prefix': 'home/' } }, {}, 'default'],
    [
      'condition key names are case-insensitive',
      { StringEquals: { 'S3:Prefix': 'home/' } },
      { 's3:prefix': 'home/' },
      'allow',
    ],
    [
      'StringNotEquals other value',
      { StringNotEquals: { 's3:prefix': 'home/' } },
      { 's3:prefix': 'etc/' },
      'allow',
    ],
    [
      'StringNotEquals same value',
      { StringNotEquals: { 's3:prefix': 'home/' } },
      { 's3:prefix': 'home/' },
      'default',
    ],
    [
      'StringNotEquals none of several',
      { StringNotEquals: { 's3:prefix': ['a/', 'b/'] } },
      { 's3:prefix': 'b/' },
      'default',
    ],
    [
      'StringNotEquals key absent holds',
      { StringNotEquals: { 's3:prefix': 'home/' } },
      {},
      'allow',
    ],
    [
      'StringEqualsIgnoreCase',
      { StringEqualsIgnoreCase: { 's3:prefix': 'Home/' } },
      { 's3:prefix': 'hOME/' },
      'allow',
    ],
    [
      'StringNotEqualsIgnoreCase',
      { StringNotEqualsIgnoreCase: { 's3:prefix': 'Home/' } },
      { 's3:prefix': 'hOME/' },
      'default',
    ],
    [
      'StringLike star',
      { StringLike: { 's3:prefix': 'home/*' } },
      { 's3:prefix': 'home/alice/' },
      'allow',
    ],
    [
      'StringLike question mark',
      { StringLike: { 's3:prefix': 'v?' } },
      { 's3:prefix': 'v12' },
      'default',
    ],
    [
      'StringLike empty prefix',
      { StringLike: { 's3:prefix': ['', 'home/*'] } },
      { 's3:prefix': '' },
      'allow',
    ],
    [
      'StringNotLike',
      { StringNotLike: { 's3:prefix': 'secret*' } },
      { 's3:prefix': 'secret/x' },
      'default',
    ],
    [
      'StringNotLike other',
      { StringNotLike: { 's3:prefix': 'secret*' } },
      { 's3:prefix': 'public/' },
      'allow',
    ],
    [
      'StringEqualsIfExists absent',
      { StringEqualsIfExists: { 's3:prefix': 'home/' } },
      {},
      'allow',
    ],
    [
      'StringEqualsIfExists present other',
      { StringEqualsIfExists: { 's3:prefix': 'home/' } },
      { 's3:prefix': 'x' },
      'default',
    ],
    [
      'Bool true',
      { Bool: { 'aws:SecureTransport': 'true' } },
      { 'aws:securetransport': 'true' },
      'allow',
    ],
    [
      'Bool false on plain http',
      { Bool: { 'aws:SecureTransport': 'true' } },
      { 'aws:securetransport': 'false' },
      'default',
    ],
    [
      'Bool with a JSON boolean',
      { Bool: { 'aws:SecureTransport': false } },
      { 'aws:securetransport': 'false' },
      'allow',
    ],
    [
      'IpAddress v4 in range',
      { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } },
      { 'aws:sourceip': '192.0.2.77' },
      'allow',
    ],
    [
      'IpAddress v4 out of range',
      { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } },
      { 'aws:sourceip': '192.0.3.1' },
      'default',
    ],
    [
      'IpAddress IPv4-mapped IPv6',
      { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
      { 'aws:sourceip': '::ffff:127.0.0.1' },
      'allow',
    ],
    [
      'IpAddress bare address',
      { IpAddress: { 'aws:SourceIp': '203.0.113.5' } },
      { 'aws:sourceip': '203.0.113.5' },
      'allow',
    ],
    [
      'IpAddress v6',
      { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } },
      { 'aws:sourceip': '2001:db8:1::5' },
      'allow',
    ],
    [
      'IpAddress v6 out of range',
      { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } },
      { 'aws:sourceip': '2001:db9::5' },
      'default',
    ],
    [
      'IpAddress v4 rule, v6 caller',
      { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
      { 'aws:sourceip': '::1' },
      'default',
    ],
    [
      'IpAddress /12 boundary inside',
      { IpAddress: { 'aws:SourceIp': '172.16.0.0/12' } },
      { 'aws:sourceip': '172.31.255.255' },
      'allow',
    ],
    [
      'IpAddress /12 boundary outside',
      { IpAddress: { 'aws:SourceIp': '172.16.0.0/12' } },
      { 'aws:sourceip': '172.32.0.0' },
      'default',
    ],
    [
      'IpAddress /0 any IPv4',
      { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
      { 'aws:sourceip': '8.8.8.8' },
      'allow',
    ],
    [
      'IpAddress ::1',
      { IpAddress: { 'aws:SourceIp': '::1/128' } },
      { 'aws:sourceip': '::1' },
      'allow',
    ],
    [
      'IpAddress v6 with an embedded IPv4',
      { IpAddress: { 'aws:SourceIp': '64:ff9b::/96' } },
      { 'aws:sourceip': '64:ff9b::192.0.2.33' },
      'allow',
    ],
    [
      'NotIpAddress outside',
      { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
      { 'aws:sourceip': '192.0.2.1' },
      'allow',
    ],
    [
      'NotIpAddress inside',
      { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.1/32'] } },
      { 'aws:sourceip': '127.0.0.1' },
      'default',
    ],
    [
      'NumericLessThanEquals max-keys',
      { NumericLessThanEquals: { 's3:max-keys': '10' } },
      { 's3:max-keys': '10' },
      'allow',
    ],
    [
      'NumericLessThan max-keys',
      { NumericLessThan: { 's3:max-keys': '10' } },
      { 's3:max-keys': '10' },
      'default',
    ],
    [
      'NumericGreaterThan',
      { NumericGreaterThan: { 's3:max-keys': 5 } },
      { 's3:max-keys': '6' },
      'allow',
    ],
    [
      'NumericGreaterThanEquals',
      { NumericGreaterThanEquals: { 's3:max-keys': '5' } },
      { 's3:max-keys': '4' },
      'default',
    ],
    ['NumericEquals', { NumericEquals: { 's3:max-keys': '5.0' } }, { 's3:max-keys': '5' }, 'allow'],
    [
      'NumericNotEquals',
      { NumericNotEquals: { 's3:max-keys': '5' } },
      { 's3:max-keys': '5' },
      'default',
    ],
    [
      'Numeric on a non-number',
      { NumericEquals: { 's3:max-keys': '5' } },
      { 's3:max-keys': 'five' },
      'default',
    ],
    [
      'DateLessThan ISO',
      { DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } },
      { 'aws:currenttime': '2026-11-28T01:00:00Z' },
      'allow',
    ],
    [
      'DateLessThan expired',
      { DateLessThan: { 'aws:CurrentTime': '2026-01-01' } },
      { 'aws:currenttime': '2026-11-28T01:00:00Z' },
      'default',
    ],
    [
      'DateGreaterThan epoch value',
      { DateGreaterThan: { 'aws:EpochTime': '1700000000' } },
      { 'aws:epochtime': '1800000000' },
      'allow',
    ],
    [
      'DateGreaterThanEquals',
      { DateGreaterThanEquals: { 'aws:CurrentTime': '2026-11-28T01:00:00Z' } },
      { 'aws:currenttime': '2026-11-28T01:00:00.000Z' },
      'allow',
    ],
    [
      'DateLessThanEquals',
      { DateLessThanEquals: { 'aws:CurrentTime': '2026-11-28T00:59:59Z' } },
      { 'aws:currenttime': '2026-11-28T01:00:00Z' },
      'default',
    ],
    [
      'DateEquals',
      { DateEquals: { 'aws:CurrentTime': '2026-11-28T01:00:00+01:00' } },
      { 'aws:currenttime': '2026-11-28T00:00:00Z' },
      'allow',
    ],
    [
      'DateNotEquals',
      { DateNotEquals: { 'aws:CurrentTime': '2026-11-28T00:00:00Z' } },
      { 'aws:currenttime': '2026-11-28T00:00:00Z' },
      'default',
    ],
    ['Null true: key absent', { Null: { 's3:x-amz-acl': 'true' } }, {}, 'allow'],
    [
      'Null true: key present',
      { Null: { 's3:x-amz-acl': 'true' } },
      { 's3:x-amz-acl': 'private' },
      'default',
    ],
    [
      'Null false: key present',
      { Null: { 's3:x-amz-acl': 'false' } },
      { 's3:x-amz-acl': 'private' },
      'allow',
    ],
    [
      'two keys in one operator: both must hold',
      { StringEquals: { 's3:prefix': 'a/', 's3:delimiter': '/' } },
      { 's3:prefix': 'a/' },
      'default',
    ],
    [
      'two operators: both must hold',
      { StringEquals: { 's3:prefix': 'a/' }, Bool: { 'aws:SecureTransport': 'true' } },
      { 's3:prefix': 'a/', 'aws:securetransport': 'true' },
      'allow',
    ],
    [
      'ForAnyValue one of many',
      { 'ForAnyValue:StringEquals': { 's3:prefix': 'b' } },
      { 's3:prefix': ['a', 'b'] },
      'allow',
    ],
    ['ForAnyValue absent', { 'ForAnyValue:StringEquals': { 's3:prefix': 'b' } }, {}, 'default'],
    [
      'ForAllValues all listed',
      { 'ForAllValues:StringEquals': { 's3:prefix': ['a', 'b'] } },
      { 's3:prefix': ['a', 'b'] },
      'allow',
    ],
    [
      'ForAllValues one unlisted',
      { 'ForAllValues:StringEquals': { 's3:prefix': ['a'] } },
      { 's3:prefix': ['a', 'b'] },
      'default',
    ],
    [
      'ForAllValues absent holds',
      { 'ForAllValues:StringEquals': { 's3:prefix': ['a'] } },
      {},
      'allow',
    ],
    [
      'operator names are case-insensitive',
      { stringequals: { 's3:prefix': 'a' } },
      { 's3:prefix': 'a' },
      'allow',
    ],
    [
      'ArnLike',
      { ArnLike: { 'aws:userid': 'arn:aws:iam::*:root' } },
      { 'aws:userid': 'arn:aws:iam::t-1:root' },
      'allow',
    ],
  ]
  it.each(cases)('%s', (_name, condition, context, want) => {
    expect(decide(withCondition(condition), ANON, 's3:ListBucket', 'shared', context)).toBe(want)
  })
})

describe('isPublicPolicy (GetBucketPolicyStatus, BlockPublicPolicy)', () => {
  const base = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' }
  const cases: Array<[string, unknown, boolean]> = [
    ['Principal "*"', { ...base, Principal: '*' }, true],
    ['{"AWS": "*"}', { ...base, Principal: { AWS: '*' } }, true],
    ['a named tenant', { ...base, Principal: { AWS: 't-00000000000000bb' } }, false],
    ['a canonical user', { ...base, Principal: { CanonicalUser: 'b'.repeat(64) } }, false],
    ['NotPrincipal', { ...base, NotPrincipal: { AWS: 't-00000000000000bb' } }, true],
    ['a Deny for everyone', { ...base, Effect: 'Deny', Principal: '*' }, false],
    [
      '"*" pinned to a /24',
      { ...base, Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } },
      false,
    ],
    [
      '"*" with a /4 range',
      { ...base, Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/4' } } },
      true,
    ],
    [
      '"*" pinned to an account',
      {
        ...base,
        Principal: '*',
        Condition: { StringEquals: { 'aws:PrincipalAccount': 't-00000000000000bb' } },
      },
      false,
    ],
    [
      '"*" with a wildcard account',
      { ...base, Principal: '*', Condition: { StringLike: { 'aws:PrincipalAccount': 't-*' } } },
      true,
    ],
    [
      '"*" with only SecureTransport',
      { ...base, Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
      true,
    ],
  ]
  it.each(cases)('%s', (_name, statement, want) => {
    expect(isPublicPolicy(policyOf([statement]))).toBe(want)
  })
})

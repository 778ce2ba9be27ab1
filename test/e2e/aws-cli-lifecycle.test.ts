// Bucket lifecycle through the Debian aws cli v2 (/usr/bin/aws) against the built server, with
// the lifecycle clock accelerated (SOVRA_LIFECYCLE_DAY_MS): put-bucket-lifecycle-configuration
// and get-bucket-lifecycle-configuration round-trip the rules as the cli sends and prints them,
// an object under the rule's prefix is expired by the worker while another stays, a bad rule gets
// AWS's error, and delete-bucket-lifecycle removes the configuration.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SpawnedSovra, spawnSovra } from '../support/spawn-server.js'
import { awsCliFor, bucketName, tempDir } from './lib/e2e-helpers.js'

const DC = 'us-west-1'
let server: SpawnedSovra
let work: { path: string; remove: () => void }
let cli: ReturnType<typeof awsCliFor>

const aws = (args: string[]) => cli.aws(DC, args)
const awsOk = (args: string[]) => cli.awsOk(DC, args)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

beforeAll(async () => {
  server = await spawnSovra({
    env: { SOVRA_LIFECYCLE_DAY_MS: '200', SOVRA_LIFECYCLE_INTERVAL_MS: '50' },
  })
  work = tempDir()
  cli = awsCliFor(server, work.path)
})

afterAll(async () => {
  await server?.stop()
  work?.remove()
})

describe('aws s3api lifecycle', () => {
  const bucket = bucketName('awscli-lifecycle')
  const rules = {
    Rules: [
      {
        ID: 'expire-tmp',
        Status: 'Enabled',
        Filter: { Prefix: 'tmp/' },
        Expiration: { Days: 1 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      },
      {
        ID: 'tagged',
        Status: 'Disabled',
        Filter: {
          And: {
            Prefix: 'logs/',
            Tags: [{ Key: 'class', Value: 'tmp' }],
            ObjectSizeLessThan: 4096,
          },
        },
        Expiration: { Date: '2031-01-01T00:00:00+00:00' },
      },
    ],
  }

  it('puts and gets a lifecycle configuration, and the worker applies it', async () => {
    await awsOk([
      's3api',
      'create-bucket',
      '--bucket',
      bucket,
      '--create-bucket-configuration',
      `LocationConstraint=${DC}`,
    ])
    const file = join(work.path, 'lifecycle.json')
    writeFileSync(file, JSON.stringify(rules))
    await awsOk([
      's3api',
      'put-bucket-lifecycle-configuration',
      '--bucket',
      bucket,
      '--lifecycle-configuration',
      `file://${file}`,
    ])
    const got = JSON.parse(
      (await awsOk(['s3api', 'get-bucket-lifecycle-configuration', '--bucket', bucket])).stdout,
    ) as { Rules: unknown[] }
    // (This cli predates x-amz-transition-default-minimum-object-size; the SDK v3 test checks it.)
    expect(got.Rules).toEqual([
      rules.Rules[0],
      { ...rules.Rules[1], Expiration: { Date: '2031-01-01T00:00:00+00:00' } },
    ])

    const body = join(work.path, 'body.txt')
    writeFileSync(body, 'temporary')
    await awsOk(['s3api', 'put-object', '--bucket', bucket, '--key', 'tmp/a.txt', '--body', body])
    await awsOk(['s3api', 'put-object', '--bucket', bucket, '--key', 'keep/b.txt', '--body', body])
    const deadline = Date.now() + 10_000
    let keys: string[] = []
    while (Date.now() < deadline) {
      const listed = JSON.parse(
        (await awsOk(['s3api', 'list-objects-v2', '--bucket', bucket])).stdout || '{}',
      ) as { Contents?: { Key: string }[] }
      keys = (listed.Contents ?? []).map((o) => o.Key)
      if (!keys.includes('tmp/a.txt')) break
      await sleep(100)
    }
    expect(keys).toEqual(['keep/b.txt'])
    const head = await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'tmp/a.txt'])
    expect(head.code).not.toBe(0)
    expect(head.stderr).toContain('404')
  })

  it('shows AWS error for a bad rule and removes the configuration on delete', async () => {
    const bad = join(work.path, 'bad.json')
    writeFileSync(
      bad,
      JSON.stringify({
        Rules: [{ ID: 'zero', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }],
      }),
    )
    const refused = await aws([
      's3api',
      'put-bucket-lifecycle-configuration',
      '--bucket',
      bucket,
      '--lifecycle-configuration',
      `file://${bad}`,
    ])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('InvalidArgument')
    expect(refused.stderr).toContain("'Days' for Expiration action must be a positive integer")

    await awsOk(['s3api', 'delete-bucket-lifecycle', '--bucket', bucket])
    const gone = await aws(['s3api', 'get-bucket-lifecycle-configuration', '--bucket', bucket])
    expect(gone.code).not.toBe(0)
    expect(gone.stderr).toContain('NoSuchLifecycleConfiguration')
  })
})

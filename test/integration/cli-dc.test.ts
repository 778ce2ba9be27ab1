import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliOf } from '../support/cli.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'

let server: TestSovra
beforeAll(async () => {
  server = await startSovra()
})
afterAll(async () => {
  await server?.stop()
})

/** Runs the CLI on the server's machine: same data folder (token file), its admin URL. */
const sovra = (args: string[], env: Record<string, string> = {}) => cliOf(server)(args, env)

describe('sovra dc against a running server', () => {
  it('adds a data center that serves at once, lists it live, drains and retires it', async () => {
    const add = await sovra([
      'dc',
      'add',
      'eu-zurich-1',
      '--city',
      'Zurich',
      '--jurisdiction',
      'CH',
      '--port',
      '0',
    ])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect(add.stdout).toMatch(
      /^Added data center "eu-zurich-1" \(active\) in Zurich, CH: S3 endpoint http:\/\/127\.0\.0\.1:\d+\n$/,
    )
    await s3For(server, 'eu-zurich-1').send(new CreateBucketCommand({ Bucket: 'cli-zurich' }))

    const list = await sovra(['dc', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(
      /^DATA CENTER\s+NAME\s+CITY\s+JURISDICTION\s+STATUS\s+PORT\s+ENDPOINT\n/,
    )
    expect(list.stdout).toMatch(
      new RegExp(
        `eu-zurich-1\\s+Zurich\\s+Zurich\\s+CH\\s+active\\s+any\\s+${server.endpoint('eu-zurich-1')}\\n`,
      ),
    )
    const json = JSON.parse((await sovra(['dc', 'list', '--json'])).stdout) as Array<{ id: string }>
    expect(json.at(-1)).toMatchObject({
      id: 'eu-zurich-1',
      endpoint: server.endpoint('eu-zurich-1'),
    })
    const keys = await sovra(['dc', 'list', '--keys'])
    expect(keys.stdout).toMatch(
      /eu-zurich-1\s+active\s+127\.0\.0\.1\/ledger\/eu-zurich-1\s+127\.0\.0\.1\/ledger\/eu-zurich-1\+/,
    )

    const drain = await sovra(['dc', 'drain', 'eu-zurich-1'])
    expect(drain).toEqual({
      code: 0,
      stdout: 'Data center "eu-zurich-1" is now draining\n',
      stderr: '',
    })
    const refused = await s3Error(
      s3For(server, 'eu-zurich-1').send(new CreateBucketCommand({ Bucket: 'cli-zurich-2' })),
    )
    expect(refused.name).toBe('IllegalLocationConstraintException')
    const retire = await sovra(['dc', 'retire', 'eu-zurich-1'])
    expect(retire.code).toBe(1)
    expect(retire.stderr).toBe(
      'sovra: Cannot retire data center "eu-zurich-1": it still holds "1" buckets (DataCenterNotEmpty)\n',
    )
  })

  it('reports refusals and a wrong token as errors, exit 1, changing nothing', async () => {
    const before = (await sovra(['dc', 'list', '--json'])).stdout
    const dup = await sovra([
      'dc',
      'add',
      'us-west-1',
      '--city',
      'X',
      '--jurisdiction',
      'US',
      '--port',
      '0',
    ])
    expect(dup.code).toBe(1)
    expect(dup.stderr).toMatch(
      /^sovra: Cannot add data center "us-west-1": .* \(DataCenterAlreadyExists\)\n$/,
    )
    const bad = await sovra([
      'dc',
      'add',
      'eu-bern-1',
      '--city',
      'Bern',
      '--jurisdiction',
      'ZZ',
      '--port',
      'x',
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('body.port')
    const unknown = await sovra([
      'dc',
      'add',
      'eu-bern-1',
      '--city',
      'Bern',
      '--jurisdiction',
      'ZZ',
      '--port',
      '0',
    ])
    expect(unknown.stderr).toMatch(/Unknown jurisdiction "ZZ".*\(UnknownJurisdiction\)/)
    const wrong = await sovra([
      'dc',
      'activate',
      'ap-south-1',
      '--token',
      'sovra_op_not-the-token-0123456789abcdef',
    ])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/\(Unauthenticated\)\n$/)
    expect((await sovra(['dc', 'list', '--json'])).stdout).toBe(before)
  })

  it('uses SOVRA_OPERATOR_TOKEN when given, and activates a planned data center', async () => {
    const token = server.sovra.operatorToken as string
    const result = await sovra(['dc', 'activate', 'ap-south-1'], {
      SOVRA_DATA_DIR: '/nonexistent-sovra-dir',
      SOVRA_OPERATOR_TOKEN: token,
    })
    expect(result).toEqual({
      code: 0,
      stdout: 'Data center "ap-south-1" is now active\n',
      stderr: '',
    })
  })
})

describe('tenant-signed admin calls from the CLI', () => {
  it('signs with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and names the tenant; refuses without or with a wrong secret', async () => {
    const me = await sovra(['tenant', 'whoami', '--json'], {
      AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    })
    expect(me.stderr).toBe('')
    expect(me.code).toBe(0)
    expect(JSON.parse(me.stdout)).toMatchObject({ accessKeyId: ROOT.accessKeyId, name: 'admin' })

    const none = await sovra(['tenant', 'whoami'])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('No tenant credentials')

    const wrong = await sovra(['tenant', 'whoami'], {
      AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
      AWS_SECRET_ACCESS_KEY: `${ROOT.secretAccessKey.slice(0, -1)}x`,
    })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('SignatureDoesNotMatch')
  })
})

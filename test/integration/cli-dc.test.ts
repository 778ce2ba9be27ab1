import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliOf } from '../support/cli.js'
import { s3Error, s3For } from '../support/s3-client.js'
import { ROOT, startSovra, type TestSovra } from '../support/start-server.js'
import { tempDir } from '../support/tmp.js'

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

describe('sovra dc add --storage', () => {
  it("keeps the new data center's files in the folder given, and refuses folders that are not its alone", async () => {
    const volume = tempDir()
    try {
      const folder = join(volume.path, 'zurich-volume')
      const add = (id: string, storage: string) =>
        sovra([
          'dc',
          'add',
          id,
          '--city',
          'Zurich',
          '--jurisdiction',
          'CH',
          '--port',
          '0',
          '--storage',
          storage,
        ])
      const ok = await add('eu-zurich-2', folder)
      expect(ok.stderr).toBe('')
      expect(ok.code).toBe(0)
      const s3 = s3For(server, 'eu-zurich-2')
      await s3.send(new CreateBucketCommand({ Bucket: 'cli-volume' }))
      await s3.send(
        new PutObjectCommand({ Bucket: 'cli-volume', Key: 'k', Body: 'on its own volume' }),
      )
      expect(readFileSync(join(folder, 'DATA_CENTER'), 'utf8')).toBe('eu-zurich-2\n')
      expect(existsSync(join(folder, 'meta.sqlite'))).toBe(true)
      expect(existsSync(join(server.dataDir, 'dcs', 'eu-zurich-2'))).toBe(false)
      // Its ledger key is published and listed, though not under the data folder.
      const keys = JSON.parse((await sovra(['dc', 'list', '--keys', '--json'])).stdout) as Array<{
        id: string
        ledger: { verifierKey: string | null }
      }>
      expect(keys.find((k) => k.id === 'eu-zurich-2')?.ledger.verifierKey).toMatch(/^127\.0\.0\.1/)

      const before = (await sovra(['dc', 'list', '--json'])).stdout
      const refusals: Array<[string, RegExp]> = [
        ['relative/folder', /expected an absolute, normalized folder path/],
        [`${volume.path}/a/../b`, /expected an absolute, normalized folder path/],
        [folder, /overlaps the folder of data center "eu-zurich-2"/],
        [join(folder, 'inner'), /overlaps the folder of data center "eu-zurich-2"/],
        [join(server.dataDir, 'elsewhere'), /overlaps the data folder/],
        [join(server.dataDir, 'dcs', 'us-west-1', 'x'), /overlaps the data folder/],
      ]
      mkdirSync(join(volume.path, 'full'))
      writeFileSync(join(volume.path, 'full', 'someone-elses.txt'), 'x')
      refusals.push([join(volume.path, 'full'), /the folder is not empty/])
      for (const [storage, message] of refusals) {
        const refused = await add('eu-zurich-3', storage)
        expect(refused.code, storage).toBe(1)
        expect(refused.stderr, storage).toMatch(message)
      }
      expect((await sovra(['dc', 'list', '--json'])).stdout).toBe(before)
      expect(readFileSync(join(volume.path, 'full', 'someone-elses.txt'), 'utf8')).toBe('x')
    } finally {
      volume.remove()
    }
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

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.js'
import { openDirectory } from '../directory/index.js'
import { runCli } from './index.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-transfer-cli-'))
  dirs.push(dir)
  return dir
}

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  })
  return { code, stdout, stderr }
}

describe('sovra instruction / transfer / tenant pubkey', () => {
  it('makes a key pair offline, registers it, signs, submits once, and lists', async () => {
    const dataDir = temp()
    const home = temp()
    const env = { SOVRA_DATA_DIR: dataDir }

    const keys = await run(['instruction', 'keygen', '--out', join(home, 'keys'), '--json'])
    expect(keys.code).toBe(0)
    const made = JSON.parse(keys.stdout) as { keyId: string; privateKey: string; publicKey: string }
    expect(statSync(made.privateKey).mode & 0o777).toBe(0o600)
    expect(readFileSync(made.publicKey, 'utf8')).toContain('BEGIN PUBLIC KEY')
    // Never overwrites a key.
    expect((await run(['instruction', 'keygen', '--out', join(home, 'keys')])).code).toBe(1)

    const tenant = JSON.parse((await run(['tenant', 'create', 'acme', '--json'], env)).stdout) as {
      id: string
    }
    // The server side: the catalog and two buckets of the tenant (the S3 face would make them).
    const directory = await openDirectory({ dataDir })
    await directory.syncDataCenters(loadConfig({ env }).dataCenters)
    await directory.reserveBucket({ name: 'src-b', tenantId: tenant.id, dcId: 'us-west-1' })
    await directory.reserveBucket({ name: 'dst-b', tenantId: tenant.id, dcId: 'us-east-1' })
    await directory.close()

    expect(
      (await run(['tenant', 'pubkey', 'add', 'acme', made.privateKey, '--data-dir', dataDir]))
        .stderr,
    ).toContain('Cannot register a private key')
    const added = await run([
      'tenant',
      'pubkey',
      'add',
      'acme',
      made.publicKey,
      '--data-dir',
      dataDir,
    ])
    expect(added).toMatchObject({ code: 0, stdout: `Registered signing key "${made.keyId}"\n` })

    const file = join(home, 'signed.json')
    const signed = await run([
      'transfer',
      'sign',
      '--key',
      made.privateKey,
      '--tenant',
      tenant.id,
      '--from',
      'us-west-1/src-b',
      '--to',
      'us-east-1/dst-b',
      '--keys',
      'a.txt,b.txt',
      '--op',
      'copy',
      '--valid-for',
      '1h',
      '--purpose',
      'test',
      '--out',
      file,
      '--json',
    ])
    expect(signed.code).toBe(0)
    const { id } = JSON.parse(signed.stdout) as { id: string }
    expect(id).toMatch(/^[0-9a-f]{64}$/)
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      keyId: string
      instruction: { scope: unknown }
    }
    expect(doc.keyId).toBe(made.keyId)
    expect(doc.instruction.scope).toEqual({ kind: 'keys', keys: ['a.txt', 'b.txt'] })

    const submitted = await run(['transfer', 'submit', file], env)
    expect(submitted.code).toBe(0)
    expect(submitted.stdout).toContain(`Accepted transfer ${id}`)
    const again = await run(['transfer', 'submit', file], env)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already used')

    const status = JSON.parse((await run(['transfer', 'status', id, '--json'], env)).stdout) as {
      status: string
      loggedAt: number | null
    }
    expect(status).toMatchObject({ status: 'queued', loggedAt: null })
    const list = await run(['transfer', 'list', '--tenant', 'acme'], env)
    expect(list.stdout).toContain(id.slice(0, 16))
    expect(list.stdout).toContain('us-west-1/src-b')

    const revoked = await run(['tenant', 'pubkey', 'revoke', made.keyId, '--tenant', 'acme'], env)
    expect(revoked.code).toBe(0)
    const listed = await run(['tenant', 'pubkey', 'list', 'acme'], env)
    expect(listed.stdout).toMatch(new RegExp(`${made.keyId}\\s+revoked`))
  })

  it('refuses bad sign arguments with a clear message', async () => {
    const home = temp()
    await run(['instruction', 'keygen', '--out', home])
    const base = [
      'transfer',
      'sign',
      '--key',
      join(home, 'signing-key.pem'),
      '--tenant',
      't-0123456789abcdef',
    ]
    const sameDc = await run([
      ...base,
      '--from',
      'us-west-1/a-b',
      '--to',
      'us-west-1/c-d',
      '--op',
      'copy',
      '--valid-for',
      '1h',
      '--out',
      join(home, 'x.json'),
    ])
    expect(sameDc.code).toBe(1)
    expect(sameDc.stderr).toContain('destination.dc')
    const badDuration = await run([
      ...base,
      '--from',
      'us-west-1/a-b',
      '--to',
      'us-east-1/c-d',
      '--op',
      'copy',
      '--valid-for',
      'soon',
      '--out',
      join(home, 'y.json'),
    ])
    expect(badDuration.stderr).toContain('Invalid duration "soon"')
    const tooLong = await run([
      ...base,
      '--from',
      'us-west-1/a-b',
      '--to',
      'us-east-1/c-d',
      '--op',
      'copy',
      '--valid-for',
      '40d',
      '--out',
      join(home, 'z.json'),
    ])
    expect(tooLong.stderr).toContain('at most 31 days')
  })
})

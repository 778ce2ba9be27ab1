import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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

describe('sovra instruction keygen / transfer sign (offline) / tenant pubkey add', () => {
  it('makes a key pair offline and signs an instruction offline', async () => {
    const home = temp()
    const keys = await run(['instruction', 'keygen', '--out', join(home, 'keys'), '--json'])
    expect(keys.code).toBe(0)
    const made = JSON.parse(keys.stdout) as { keyId: string; privateKey: string; publicKey: string }
    expect(statSync(made.privateKey).mode & 0o777).toBe(0o600)
    expect(readFileSync(made.publicKey, 'utf8')).toContain('BEGIN PUBLIC KEY')
    // Never overwrites a key.
    expect((await run(['instruction', 'keygen', '--out', join(home, 'keys')])).code).toBe(1)

    const file = join(home, 'signed.json')
    const signed = await run([
      'transfer',
      'sign',
      '--key',
      made.privateKey,
      '--tenant',
      't-0123456789abcdef',
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
  })

  it('refuses to send a private key anywhere: pubkey add stops before any request', async () => {
    const home = temp()
    const made = JSON.parse((await run(['instruction', 'keygen', '--out', home, '--json'])).stdout)
    const requests: string[] = []
    let stderr = ''
    const code = await runCli(['tenant', 'pubkey', 'add', made.privateKey], {
      stdout: { write: () => undefined },
      stderr: { write: (s: string) => (stderr += s) },
      env: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' },
      fetch: async (url) => {
        requests.push(url)
        throw new Error('no request may be made')
      },
    })
    expect(code).toBe(1)
    expect(stderr).toContain('Cannot register a private key')
    expect(requests).toEqual([])
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

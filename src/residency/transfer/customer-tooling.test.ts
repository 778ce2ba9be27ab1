// The customer's own-tools path of docs/transfer-instructions.md, run for real: openssl makes the
// key and the signature, python3 (standard library only) makes the canonical bytes, and the
// gate's verifyInstruction must accept the result. The doc's example and script are read from
// the doc itself, so the doc cannot drift from the code.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { canonicalBytes, parseSignedInstruction, type TransferInstruction } from './instruction.js'
import { signInstruction } from './sign-instruction.js'
import { publicKeyId } from './signing-keys.js'
import { makeWorld, sampleInstruction, TENANT } from './test-fixtures.js'
import { verifyInstruction } from './verify-instruction.js'

const PYTHON = '/usr/bin/python3'
const hasOpenssl = spawnSync('openssl', ['version']).status === 0
const hasPython = spawnSync(PYTHON, ['--version']).status === 0
const doc = readFileSync(new URL('../../../docs/transfer-instructions.md', import.meta.url), 'utf8')

/** The fenced code blocks of the doc with the given info string, in order. */
function blocks(lang: string): string[] {
  const fence = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g')
  return [...doc.matchAll(fence)].map((m) => m[1] ?? '')
}

/** An instruction with non-ASCII keys and text, which is where canonical forms usually differ. */
function awkwardInstruction(): TransferInstruction {
  return sampleInstruction({
    scope: {
      kind: 'keys',
      keys: ['报告/2025 Q1.csv', 'naïve "quoted"\\key\ttab', 'emoji 😀/x', '\u007f'],
    },
    purpose: 'Übertragung für das Büro in Singapur — 新加坡\n第二行',
  })
}

const dir = mkdtempSync(join(tmpdir(), 'sovra-customer-tooling-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('docs/transfer-instructions.md', () => {
  it('has an example that verifies with the RFC 8032 test 1 public key', () => {
    const example = blocks('json').find((b) => b.includes('"signature"') && !b.includes('…'))
    if (example === undefined) throw new Error('the doc has no signed example')
    const signed = parseSignedInstruction(example)
    const world = makeWorld()
    const rfc8032Test1 = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='
    expect(signed.keyId).toBe(publicKeyId(rfc8032Test1))
    world.keys.set(signed.keyId, { publicKey: rfc8032Test1, tenantId: TENANT, revoked: false })
    const result = verifyInstruction(JSON.parse(example), world.options(signed.instruction))
    expect(result.ok || result.error.message).toBe(true)
    // The doc's "signed bytes" block is exactly what is signed.
    const bytes = blocks('text').find((b) => b.startsWith('{"destination"'))
    expect(bytes?.trimEnd()).toBe(canonicalBytes(signed.instruction).toString('utf8'))
  })
})

// Skipped only where the customer's tools are absent: openssl, or python3 at /usr/bin/python3.
describe.skipIf(!hasOpenssl || !hasPython)(
  'the openssl + python3 path (skipped only when openssl or /usr/bin/python3 is missing)',
  () => {
    it('python3 json.dumps(sort_keys, compact, ensure_ascii=False) gives the RFC 8785 bytes', () => {
      const instruction = awkwardInstruction()
      const python = execFileSync(
        PYTHON,
        [
          '-c',
          "import json,sys; o=json.load(sys.stdin); sys.stdout.buffer.write(json.dumps(o, sort_keys=True, separators=(',',':'), ensure_ascii=False).encode('utf-8'))",
        ],
        { input: JSON.stringify(instruction, null, 2) },
      )
      expect(python.equals(canonicalBytes(instruction))).toBe(true)
    })

    it('verifyInstruction accepts an instruction signed by openssl over bytes python3 built', () => {
      const key = join(dir, 'key.pem')
      execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key])
      const publicKeyPem = execFileSync('openssl', ['pkey', '-in', key, '-pubout']).toString()

      const instruction = awkwardInstruction()
      const message = join(dir, 'message.bin')
      execFileSync(PYTHON, [
        '-c',
        "import json,sys; o=json.load(open(sys.argv[1], encoding='utf-8')); open(sys.argv[2],'wb').write(json.dumps(o, sort_keys=True, separators=(',',':'), ensure_ascii=False).encode('utf-8'))",
        writeJson('instruction.json', instruction),
        message,
      ])
      const signature = execFileSync('openssl', [
        'pkeyutl',
        '-sign',
        '-rawin',
        '-inkey',
        key,
        '-in',
        message,
      ]).toString('base64')

      const keyId = publicKeyId(publicKeyPem)
      const world = makeWorld()
      world.keys.set(keyId, { publicKey: publicKeyPem, tenantId: TENANT, revoked: false })
      const result = verifyInstruction(
        { instruction, signature, keyId },
        world.options(instruction),
      )
      expect(result.ok || result.error.message).toBe(true)
    })

    it("the doc's sign.py and key id shell recipe produce what the gate accepts", () => {
      const script = blocks('python').find((b) => b.startsWith('#!/usr/bin/env python3'))
      if (script === undefined) throw new Error('the doc has no sign.py')
      const signPy = join(dir, 'sign.py')
      writeFileSync(signPy, script)
      const key = join(dir, 'doc-key.pem')
      execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key])
      const publicKeyPem = execFileSync('openssl', ['pkey', '-in', key, '-pubout']).toString()

      const instruction = awkwardInstruction()
      const out = execFileSync(PYTHON, [
        signPy,
        writeJson('doc-instruction.json', instruction),
        key,
      ])
      const signed = JSON.parse(out.toString('utf8')) as { keyId: string }

      const recipe = blocks('sh').find((b) => b.includes('basenc'))
      if (recipe === undefined) throw new Error('the doc has no key id recipe')
      const shellKeyId = execFileSync('sh', ['-c', recipe.replaceAll('key.pem', key)])
        .toString()
        .trim()
      expect(`ed25519:${shellKeyId}`).toBe(signed.keyId)
      expect(signed.keyId).toBe(publicKeyId(publicKeyPem))

      const world = makeWorld()
      world.keys.set(signed.keyId, { publicKey: publicKeyPem, tenantId: TENANT, revoked: false })
      const result = verifyInstruction(signed, world.options(instruction))
      expect(result.ok || result.error.message).toBe(true)
    })

    it('openssl pkeyutl -verify accepts a signature made by signInstruction', () => {
      const world = makeWorld()
      const signed = signInstruction(awkwardInstruction(), world.privateKeyPem)
      const pub = join(dir, 'verify.pub.pem')
      execFileSync('openssl', [
        'pkey',
        '-in',
        writeFile('verify.pem', world.privateKeyPem),
        '-pubout',
        '-out',
        pub,
      ])
      const message = writeFile('verify-message.bin', canonicalBytes(signed.instruction))
      const sig = writeFile('verify-sig.bin', Buffer.from(signed.signature, 'base64'))
      const run = spawnSync('openssl', [
        'pkeyutl',
        '-verify',
        '-rawin',
        '-pubin',
        '-inkey',
        pub,
        '-in',
        message,
        '-sigfile',
        sig,
      ])
      expect(run.stdout.toString()).toContain('Signature Verified Successfully')
    })
  },
)

function writeJson(name: string, value: unknown): string {
  return writeFile(name, JSON.stringify(value, null, 2))
}

function writeFile(name: string, content: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

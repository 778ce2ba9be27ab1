import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ensureOperatorToken,
  hashOperatorToken,
  OPERATOR_TOKEN_PREFIX,
  type OperatorTokenStore,
  operatorTokenPath,
  readOperatorTokenFile,
} from './operator-token.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-op-'))
  dirs.push(dir)
  return dir
}

function memoryStore(): OperatorTokenStore & { hash: string | null } {
  return {
    hash: null,
    async operatorTokenHash() {
      return this.hash
    },
    async initOperatorTokenHash(sha256) {
      this.hash ??= sha256
      return this.hash
    },
  }
}

describe('ensureOperatorToken()', () => {
  it('creates a token once, keeps it in a 0600 file and only its hash in the store', async () => {
    const dir = dataDir()
    const store = memoryStore()
    const first = await ensureOperatorToken({ store, dataDir: dir })
    const token = first.created as string
    expect(token.startsWith(OPERATOR_TOKEN_PREFIX)).toBe(true)
    expect(token.length).toBeGreaterThanOrEqual(50)
    expect(store.hash).toBe(hashOperatorToken(token))
    expect(store.hash).not.toContain(token)
    expect(statSync(operatorTokenPath(dir)).mode & 0o777).toBe(0o600)
    expect(readFileSync(operatorTokenPath(dir), 'utf8')).toBe(`${token}\n`)
    expect(await readOperatorTokenFile(dir)).toBe(token)

    const second = await ensureOperatorToken({ store, dataDir: dir })
    expect(second.created).toBeNull()
    expect(second.check.matches(token)).toBe(true)
    expect(second.check.matches(`${token}x`)).toBe(false)
    expect(second.check.matches('')).toBe(false)
  })

  it('uses a configured token instead, storing nothing', async () => {
    const dir = dataDir()
    const store = memoryStore()
    const configured = 'c'.repeat(40)
    const result = await ensureOperatorToken({ store, dataDir: dir, configured })
    expect(result.created).toBeNull()
    expect(result.check.matches(configured)).toBe(true)
    expect(result.check.matches('d'.repeat(40))).toBe(false)
    expect(store.hash).toBeNull()
    expect(await readOperatorTokenFile(dir)).toBeUndefined()
  })
})

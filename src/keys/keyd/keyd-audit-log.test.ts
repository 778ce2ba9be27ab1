import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuditLog, type AuditRecord } from './keyd-audit-log.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sovra-keyd-audit-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const record = (i: number): AuditRecord => ({
  requestId: `r${i}`,
  op: 'decrypt',
  outcome: 'ok',
  status: 200,
  client: 'dc:us-west-1',
})

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { requestId: string }).requestId)
}

describe('keyd audit log', () => {
  it('keeps every line of concurrent requests, in call order, each on disk when its append resolves', async () => {
    const path = join(dir, 'audit.jsonl')
    const log = await AuditLog.open(path)
    const seen: boolean[] = []
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        log.append(record(i)).then(async () => {
          // Group-committed with others, but never answered before its own line is written.
          seen[i] = (await readFile(path, 'utf8')).includes(`"requestId":"r${i}"`)
        }),
      ),
    )
    expect(seen.every(Boolean)).toBe(true)
    expect(await lines(path)).toEqual(Array.from({ length: 300 }, (_, i) => `r${i}`))
    // A later request after the burst is written too.
    await log.append(record(300))
    await log.close()
    expect((await lines(path)).at(-1)).toBe('r300')
  })

  it('reopens for appending after a restart', async () => {
    const path = join(dir, 'audit.jsonl')
    const first = await AuditLog.open(path)
    await first.append(record(1))
    await first.close()
    const second = await AuditLog.open(path)
    await second.append(record(2))
    await second.close()
    expect(await lines(path)).toEqual(['r1', 'r2'])
  })

  it('rejects an append that cannot be written instead of answering without a record', async () => {
    const log = await AuditLog.open(join(dir, 'audit.jsonl'))
    await log.close()
    await expect(log.append(record(1))).rejects.toThrow()
  })
})

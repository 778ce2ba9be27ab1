import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runLedgerStorageContract } from '../ledger-storage.contract.js'
import { FsLedgerStorage } from './fs-ledger-storage.js'

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sovra-ledger-'))
}

runLedgerStorageContract({
  name: 'fs',
  place: async () => {
    const dir = await tempDir()
    return {
      open: () => FsLedgerStorage.open(dir),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
})

describe('FsLedgerStorage', () => {
  it('open() sweeps temp files and batches the tree state already covers', async () => {
    const dir = await tempDir()
    try {
      const s = await FsLedgerStorage.open(dir)
      await s.sequence([new Uint8Array([1])])
      await s.sequence([new Uint8Array([2])])
      await writeFile(
        join(dir, 'state', 'sequenced', '.tmp-00000000000000000002.batch-abc'),
        'junk',
      )
      // A crash after the tree state was written but before the covered batch was unlinked:
      await writeFile(
        join(dir, 'state', 'tree.json'),
        `${JSON.stringify({ version: 1, size: 1, root: '00'.repeat(32) })}\n`,
      )
      const again = await FsLedgerStorage.open(dir)
      expect(again.sequencedSize()).toBe(2)
      expect(await readdir(join(dir, 'state', 'sequenced'))).toEqual(['00000000000000000001.batch'])
      expect(await again.readSequenced(1, 5)).toEqual([new Uint8Array([2])])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('open() refuses a gap in the sequenced batches', async () => {
    const dir = await tempDir()
    try {
      const s = await FsLedgerStorage.open(dir)
      await s.sequence([new Uint8Array([1])])
      await s.sequence([new Uint8Array([2])])
      await rm(join(dir, 'state', 'sequenced', '00000000000000000000.batch'))
      await expect(FsLedgerStorage.open(dir)).rejects.toMatchObject({ code: 'Corrupt' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('open() refuses a batch whose checksum does not match', async () => {
    const dir = await tempDir()
    try {
      const s = await FsLedgerStorage.open(dir)
      await s.sequence([new Uint8Array([1, 2, 3])])
      await writeFile(
        join(dir, 'state', 'sequenced', '00000000000000000000.batch'),
        'SOVRASEQ\u0001'.padEnd(80, 'x'),
      )
      await expect(FsLedgerStorage.open(dir)).rejects.toMatchObject({ code: 'Corrupt' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { concatBytes, utf8Bytes } from '../../encoding.js'
import { runLedgerStorageContract } from '../ledger-storage.contract.js'
import type { LedgerStorage } from '../ledger-storage.js'
import { FsLedgerStorage } from './fs-ledger-storage.js'
import { encodeWalRecord, WAL_HEADER_SIZE } from './wal.js'

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

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A temp log folder, removed after the test (storages opened through `open` are closed). */
async function place(): Promise<{
  dir: string
  seq: string
  wal: string
  open: (options?: { walRewriteBytes?: number }) => Promise<FsLedgerStorage>
}> {
  const dir = await tempDir()
  const opened: LedgerStorage[] = []
  cleanups.push(async () => {
    for (const s of opened) await s.close()
    await rm(dir, { recursive: true, force: true })
  })
  const seq = join(dir, 'state', 'sequenced')
  return {
    dir,
    seq,
    wal: join(seq, 'wal'),
    open: async (options = {}) => {
      const s = await FsLedgerStorage.open(dir, options)
      opened.push(s)
      return s
    },
  }
}

const b = (...bytes: number[]) => new Uint8Array(bytes)
const treeJson = (size: number) =>
  `${JSON.stringify({ version: 1, size, root: '00'.repeat(32) })}\n`
const integrate = (s: LedgerStorage, size: number) =>
  s.commitIntegration({
    tiles: new Map(),
    bundles: new Map(),
    state: { size, root: new Uint8Array(32) },
  })

/** A batch file of the previous format (one per group commit). */
function legacyBatch(first: number, entries: Uint8Array[]): Uint8Array {
  const header = Buffer.alloc(21)
  header.set(utf8Bytes('SOVRASEQ'), 0)
  header.writeUInt8(1, 8)
  header.writeBigUInt64BE(BigInt(first), 9)
  header.writeUInt32BE(entries.length, 17)
  const parts: Uint8Array[] = [header]
  for (const e of entries) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(e.byteLength)
    parts.push(len, e)
  }
  const body = concatBytes(parts)
  return concatBytes([body, createHash('sha256').update(body).digest()])
}
const legacyName = (first: number) => `${String(first).padStart(20, '0')}.batch`

describe('FsLedgerStorage', () => {
  it('sequences into one WAL file, one record per batch, and sweeps temp files at open', async () => {
    const p = await place()
    const s = await p.open()
    await s.sequence([b(1)])
    await s.sequence([b(2), b(3)])
    await writeFile(join(p.seq, '.tmp-wal-abc'), 'junk')
    const again = await p.open()
    expect(await readdir(p.seq)).toEqual(['wal'])
    expect((await stat(p.wal)).size).toBe(2 * WAL_HEADER_SIZE + 3 * (4 + 1))
    expect(await again.readSequenced(0, 5)).toEqual([b(1), b(2), b(3)])
  })

  it('a torn last record (crash mid-append) is truncated; earlier entries stay and indices continue', async () => {
    const p = await place()
    const s = await p.open()
    await s.sequence([b(1)])
    await s.sequence([b(2), b(3)])
    const good = (await stat(p.wal)).size
    // Half of the next record reached the disk, then the process died.
    const torn = encodeWalRecord(3, [b(4), b(5), b(6)]).bytes
    await appendFile(p.wal, torn.subarray(0, Math.floor(torn.byteLength / 2)))
    const again = await p.open()
    expect(again.sequencedSize()).toBe(3)
    expect(await again.readSequenced(0, 10)).toEqual([b(1), b(2), b(3)])
    expect((await stat(p.wal)).size).toBe(good)
    expect(await again.sequence([b(7)])).toBe(3)
    const third = await p.open()
    expect(await third.readSequenced(0, 10)).toEqual([b(1), b(2), b(3), b(7)])
  })

  it('a torn header and a complete last record that fails its checksum are torn tails too', async () => {
    const p = await place()
    const s = await p.open()
    await s.sequence([b(1)])
    const good = (await stat(p.wal)).size
    await appendFile(p.wal, new Uint8Array(WAL_HEADER_SIZE - 3)) // a few zero bytes of a header
    expect((await p.open()).sequencedSize()).toBe(1)
    expect((await stat(p.wal)).size).toBe(good)
    const damaged = Buffer.from(encodeWalRecord(1, [b(2), b(3)]).bytes)
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 0xff, damaged.length - 1)
    await appendFile(p.wal, damaged)
    const again = await p.open()
    expect(again.sequencedSize()).toBe(1)
    expect((await stat(p.wal)).size).toBe(good)
  })

  it('open() refuses a record that fails its checksum when intact records follow (Corrupt)', async () => {
    const p = await place()
    const s = await p.open()
    await s.sequence([b(1, 1, 1)])
    await s.sequence([b(2)])
    await s.sequence([b(3)])
    const bytes = await readFile(p.wal)
    const flip = (at: number) => bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at)
    flip(WAL_HEADER_SIZE + 5) // the first record's body
    await writeFile(p.wal, bytes)
    await expect(FsLedgerStorage.open(p.dir)).rejects.toMatchObject({ code: 'Corrupt' })
    flip(WAL_HEADER_SIZE + 5)
    flip(10) // the first record's header: its length can no longer be trusted
    await writeFile(p.wal, bytes)
    await expect(FsLedgerStorage.open(p.dir)).rejects.toMatchObject({ code: 'Corrupt' })
  })

  it('open() refuses a gap between the tree and the WAL, and an unknown record version', async () => {
    const p = await place()
    await p.open()
    await writeFile(p.wal, encodeWalRecord(5, [b(1)]).bytes)
    await expect(FsLedgerStorage.open(p.dir)).rejects.toMatchObject({ code: 'Corrupt' })
    const future = encodeWalRecord(0, [b(1)]).bytes.slice()
    future[4] = 2 // version 2, header CRC recomputed below
    Buffer.from(future.buffer).writeUInt32BE(crc32(future.subarray(0, 28)), 28)
    await writeFile(p.wal, future)
    await expect(FsLedgerStorage.open(p.dir)).rejects.toMatchObject({ code: 'Corrupt' })
  })

  it('empties the WAL once everything is integrated; indices stay continuous across reopen', async () => {
    const p = await place()
    const s = await p.open()
    await s.sequence([b(1), b(2)])
    await s.sequence([b(3)])
    await integrate(s, 2)
    expect((await stat(p.wal)).size).toBeGreaterThan(0) // entry 2 still pending
    await integrate(s, 3)
    expect((await stat(p.wal)).size).toBe(0)
    expect(await s.sequence([b(4)])).toBe(3)
    const again = await p.open()
    expect(again.sequencedSize()).toBe(4)
    expect(await again.readSequenced(3, 10)).toEqual([b(4)])
    expect(await again.sequence([b(5)])).toBe(4)
    await integrate(again, 5)
    const third = await p.open()
    expect(third.sequencedSize()).toBe(5)
    expect((await stat(p.wal)).size).toBe(0)
    expect(await third.sequence([b(6)])).toBe(5)
  })

  it('open() drops records the tree covers (crash after the tree state, before the reset)', async () => {
    const p = await place()
    const s = await p.open()
    await s.sequence([b(1)])
    await s.sequence([b(2)])
    await writeFile(join(p.dir, 'state', 'tree.json'), treeJson(1))
    const partly = await p.open()
    expect(partly.sequencedSize()).toBe(2)
    expect(await partly.readSequenced(1, 5)).toEqual([b(2)])
    await writeFile(join(p.dir, 'state', 'tree.json'), treeJson(2))
    const covered = await p.open()
    expect(covered.sequencedSize()).toBe(2)
    expect((await stat(p.wal)).size).toBe(0)
    expect(await covered.sequence([b(3)])).toBe(2)
  })

  it('rewrites a large WAL to its pending entries after an integration', async () => {
    const p = await place()
    const s = await p.open({ walRewriteBytes: 1 })
    await s.sequence([b(1), b(2)])
    await s.sequence([b(3), b(4)])
    await integrate(s, 3)
    expect((await stat(p.wal)).size).toBe(WAL_HEADER_SIZE + 4 + 1)
    expect(await readdir(p.seq)).toEqual(['wal'])
    expect(await s.readSequenced(3, 5)).toEqual([b(4)])
    expect(await s.sequence([b(5)])).toBe(4)
    const again = await p.open()
    expect(again.sequencedSize()).toBe(5)
    expect(await again.readSequenced(3, 5)).toEqual([b(4), b(5)])
  })

  it('imports batch files of the previous format and unlinks them once integrated', async () => {
    const p = await place()
    await p.open()
    await writeFile(join(p.seq, legacyName(0)), legacyBatch(0, [b(1), b(2)]))
    await writeFile(join(p.seq, legacyName(2)), legacyBatch(2, [b(3)]))
    const s = await p.open()
    expect(s.sequencedSize()).toBe(3)
    expect(await s.sequence([b(4)])).toBe(3)
    expect(await s.readSequenced(0, 10)).toEqual([b(1), b(2), b(3), b(4)])
    await integrate(s, 2)
    expect((await readdir(p.seq)).sort()).toEqual([legacyName(2), 'wal'])
    const again = await p.open()
    expect(await again.readSequenced(2, 10)).toEqual([b(3), b(4)])
    await integrate(again, 4)
    expect(await readdir(p.seq)).toEqual(['wal'])
    expect((await stat(p.wal)).size).toBe(0)
  })

  it('open() refuses a gap in old-format batches and a batch whose checksum does not match', async () => {
    const p = await place()
    await p.open()
    await writeFile(join(p.seq, legacyName(1)), legacyBatch(1, [b(2)]))
    await expect(FsLedgerStorage.open(p.dir)).rejects.toMatchObject({ code: 'Corrupt' })
    await writeFile(join(p.seq, legacyName(0)), 'SOVRASEQ\u0001'.padEnd(80, 'x'))
    await expect(FsLedgerStorage.open(p.dir)).rejects.toMatchObject({ code: 'Corrupt' })
  })
})

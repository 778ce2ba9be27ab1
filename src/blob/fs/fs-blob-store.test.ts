import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runBlobStoreContract } from '../blob-store.contract.js'
import { withWriteCheck } from '../write-check.js'
import { openFsBlobStore } from './fs-blob-store.js'

runBlobStoreContract({
  name: 'fs',
  open: (location) => openFsBlobStore({ driver: 'fs', root: location }),
  countTemp: async (location) => (await readdir(join(location, 'tmp'))).length,
})

describe('fs blob store: write-behind', () => {
  it('a blob past several write-behind syncs (80 MiB) round-trips intact, with its temp file gone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sovra-blob-wb-'))
    try {
      const store = await openFsBlobStore({ driver: 'fs', root })
      const block = randomBytes(1024 * 1024)
      const written = createHash('sha256')
      async function* source(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 80; i++) {
          const chunk = Buffer.from(block)
          chunk.writeUInt32BE(i, 0) // every MiB different
          written.update(chunk)
          yield chunk
        }
      }
      const pending = await store.write(source())
      expect(pending.size).toBe(80 * 1024 * 1024)
      await pending.commit()
      const read = createHash('sha256')
      for await (const chunk of store.read(pending.ref)) read.update(chunk as Buffer)
      expect(read.digest('hex')).toBe(written.digest('hex'))
      expect(await readdir(join(root, 'tmp'))).toEqual([])
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('fs blob store: a write check reads the file', () => {
  it('sees what the file holds, not what the writer was handed (a byte changed on disk mid-write)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sovra-blob-check-'))
    try {
      const store = await openFsBlobStore({ driver: 'fs', root })
      const first = Buffer.alloc(1024 * 1024, 0x11)
      const second = Buffer.alloc(512 * 1024, 0x22)
      let changed: () => void = () => {}
      const onDisk = new Promise<void>((resolve) => {
        changed = resolve
      })
      async function* source(): AsyncGenerator<Buffer> {
        yield first
        // Once the first MiB is in the temp file, a "disk" flips byte 10 of it.
        for (;;) {
          const [name] = await readdir(join(root, 'tmp'))
          const path = join(root, 'tmp', name as string)
          if ((await stat(path)).size === first.length) {
            const file = await open(path, 'r+')
            await file.write(Buffer.from([0x99]), 0, 1, 10)
            await file.close()
            break
          }
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        changed()
        yield second
      }
      let seen: Buffer | null = null
      const pending = await store.write(source(), {
        check: async (stored) => {
          await onDisk
          const chunks: Buffer[] = []
          for await (const chunk of stored) chunks.push(chunk as Buffer)
          seen = Buffer.concat(chunks)
        },
      })
      const got = seen as Buffer | null
      expect(got?.length).toBe(first.length + second.length)
      expect(got?.[10]).toBe(0x99)
      expect(got?.[11]).toBe(0x11)
      expect(got?.[first.length]).toBe(0x22)
      await pending.discard()
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('withWriteCheck', () => {
  it('adds its check to every write of the store it wraps, and reads through to it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sovra-blob-view-'))
    try {
      const store = await openFsBlobStore({ driver: 'fs', root })
      const checked: string[] = []
      const view = withWriteCheck(store, async (stored, ref) => {
        const chunks: Buffer[] = []
        for await (const chunk of stored) chunks.push(chunk as Buffer)
        checked.push(`${ref}:${Buffer.concat(chunks).toString()}`)
      })
      const pending = await view.write(Readable.from([Buffer.from('checked bytes')]))
      expect(checked).toEqual([`${pending.ref}:checked bytes`])
      await pending.commit()
      const read: Buffer[] = []
      for await (const chunk of view.read(pending.ref)) read.push(chunk as Buffer)
      expect(Buffer.concat(read).toString()).toBe('checked bytes')
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runBlobStoreContract } from '../blob-store.contract.js'
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

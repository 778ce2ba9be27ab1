import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { runBlobStoreContract } from '../blob-store.contract.js'
import { openFsBlobStore } from './fs-blob-store.js'

runBlobStoreContract({
  name: 'fs',
  open: (location) => openFsBlobStore({ driver: 'fs', root: location }),
  countTemp: async (location) => (await readdir(join(location, 'tmp'))).length,
})

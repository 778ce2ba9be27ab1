import type { BlobStore, BlobWriteCheck } from './blob-store.js'

/**
 * `store` with `check` (`BlobWriteOptions.check`) added to every write: for a caller that hands
 * the store to code writing through it (the cell's storage seam, `encryptingWrite`) and must
 * check what the store holds. Reads, removals and sweeps go to `store` as they are.
 */
export function withWriteCheck(store: BlobStore, check: BlobWriteCheck): BlobStore {
  return {
    write: (source, options) => store.write(source, { ...options, check }),
    read: (ref, range) => store.read(ref, range),
    remove: (refs) => store.remove(refs),
    sweep: (isLive) => store.sweep(isLive),
    close: () => store.close(),
  }
}

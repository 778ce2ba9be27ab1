import type { BlobStore } from './blob-store.js'
import { openFsBlobStore } from './fs/fs-blob-store.js'

export { BLOB_ERROR_CODES, BlobError, type BlobErrorCode, BlobErrors } from './blob-error.js'
export type { BlobStore, BlobWriteCheck, BlobWriteOptions, PendingBlob } from './blob-store.js'
export { withWriteCheck } from './write-check.js'

/** Which blob driver to open, and where. */
export type BlobStoreConfig = { readonly driver: 'fs'; readonly root: string }

/** Opens the blob store named by `config.driver`, creating its folders if needed. */
export async function openBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  switch (config.driver) {
    case 'fs':
      return openFsBlobStore({ driver: 'fs', root: config.root })
  }
}

import type { Readable } from 'node:stream'

/** Bytes written and fsynced to a temporary file, not yet visible under their ref. */
export interface PendingBlob {
  readonly ref: string
  readonly size: number
  /** Renames into place and fsyncs the directory; after this the ref is readable. */
  commit(): Promise<void>
  /** Removes the temporary file; safe to call more than once. */
  discard(): Promise<void>
}

/**
 * One cell's blob folder. Writes go temp file → fsync → rename → fsync dir; a blob becomes part
 * of an object only when the metadata store commits a reference to it.
 */
export interface BlobStore {
  /** Streams `source` into a temporary file and fsyncs it. Rejects (and removes the temp file) if the source errors or `signal` aborts. */
  write(
    source: AsyncIterable<Buffer> | Readable,
    options?: { signal?: AbortSignal },
  ): Promise<PendingBlob>
  /** Reads bytes `start`..`end` inclusive (defaults: whole blob). */
  read(ref: string, range?: { start: number; end: number }): Readable
  /** Removes committed blobs; missing ones are ignored. */
  remove(refs: readonly string[]): Promise<void>
  /** Removes temp files and every committed blob for which `isLive` is false. */
  sweep(
    isLive: (ref: string) => Promise<boolean>,
  ): Promise<{ readonly temp: number; readonly orphans: number }>
  close(): Promise<void>
}

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
 * Reads a blob back while it is being written (`BlobWriteOptions.check`), given the stream of
 * its stored bytes and its ref. It must read the stream to its end before it resolves.
 */
export type BlobWriteCheck = (stored: Readable, ref: string) => Promise<void>

/** Options of `BlobStore.write`. */
export interface BlobWriteOptions {
  /** Stops the write; it rejects with `Aborted` and leaves nothing. */
  readonly signal?: AbortSignal
  /**
   * Reads the blob back from the store while it is written, lagging behind the writer. Called
   * once, as the write starts, with a stream of the blob's bytes from the first: each byte is
   * read from the store only after the write that put it there returned (what the store holds,
   * not what it was handed), and the stream ends only after the whole blob was written and
   * flushed to stable storage. If the write fails the stream errors with the write's error.
   * `write()` resolves only once the check has resolved too, having read every byte; if the
   * check rejects, the write stops, its temp file is removed and `write()` rejects with the
   * check's error as it is. Lets a caller verify what the store holds without a second pass
   * after the write.
   */
  readonly check?: BlobWriteCheck
}

/**
 * One cell's blob folder. Writes go temp file → fsync → rename → fsync dir; a blob becomes part
 * of an object only when the metadata store commits a reference to it.
 */
export interface BlobStore {
  /**
   * Streams `source` into a temporary file and fsyncs it. Rejects (and removes the temp file) if
   * the source errors, `signal` aborts or `check` rejects.
   */
  write(source: AsyncIterable<Buffer> | Readable, options?: BlobWriteOptions): Promise<PendingBlob>
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

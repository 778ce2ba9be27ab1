import { type FileHandle, open } from 'node:fs/promises'
import { Readable } from 'node:stream'

/**
 * The read side of a blob file being written (`BlobWriteOptions.check`): the writer reports each
 * completed write (`landed`), its end (`finish`) or its failure (`fail`); `stream()` reads the
 * file through its own descriptor, never past the bytes whose write has returned, and ends only
 * after `finish`. It reads a chunk once a whole one has landed (or the write has finished), so it
 * lags the writer by up to one chunk and its reads are full-sized. The writer's side owns the
 * read descriptor and closes it (`close`) once the reader is done.
 */
export class WriteTail {
  readonly #path: string
  readonly #chunk: number
  #handle: Promise<FileHandle> | null = null
  #landed = 0
  #finished = false
  #failure: { readonly error: unknown } | null = null
  #delivered = 0
  #streamed = false
  #closed = false
  #wake: (() => void) | null = null

  /** `path`: the file the writer creates; `chunk`: bytes per read. */
  constructor(path: string, chunk: number) {
    this.#path = path
    this.#chunk = chunk
  }

  /** The writer has created the file: open it for reading now, before it can be renamed or removed. */
  opened(): void {
    if (this.#closed) return
    this.#handle = open(this.#path, 'r')
    // Reported by the stream; a tail nobody reads must not leave an unhandled rejection.
    this.#handle.catch(() => {})
    this.#notify()
  }

  /** `bytes` more were written, right after the previous ones. */
  landed(bytes: number): void {
    this.#landed += bytes
    this.#notify()
  }

  /** The write finished: every byte landed and the file is flushed. */
  finish(): void {
    this.#finished = true
    this.#notify()
  }

  /** The write failed: the stream errors with `error` (the first one reported) at its next step. */
  fail(error: unknown): void {
    this.#failure ??= { error }
    this.#notify()
  }

  /** True once the write finished and the stream handed out every byte of it. */
  get complete(): boolean {
    return this.#finished && this.#failure === null && this.#delivered === this.#landed
  }

  /** The file's bytes from the first, as they land; call once. */
  stream(): Readable {
    if (this.#streamed) throw new Error('WriteTail.stream() was already called')
    this.#streamed = true
    return Readable.from(this.#bytes(), { objectMode: false, highWaterMark: this.#chunk })
  }

  async *#bytes(): AsyncGenerator<Buffer, void, undefined> {
    const handle = await this.#open()
    let at = 0
    for (;;) {
      if (this.#failure !== null) throw this.#failure.error
      if (this.#closed) throw new Error('the tail was closed')
      const ready = this.#landed - at
      if (ready >= this.#chunk || (this.#finished && ready > 0)) {
        const n = Math.min(this.#chunk, ready)
        // A buffer of its own per read (never pooled): a consumer may transfer it to a worker.
        const buffer = Buffer.allocUnsafeSlow(n)
        const { bytesRead } = await handle.read(buffer, 0, n, at)
        if (bytesRead === 0) {
          throw new Error(`the file ends at byte ${at}, before the ${this.#landed} written`)
        }
        at += bytesRead
        this.#delivered = at
        yield bytesRead === n ? buffer : buffer.subarray(0, bytesRead)
      } else if (this.#finished) {
        return
      } else {
        await this.#changed()
      }
    }
  }

  /** Closes the read descriptor; the stream must no longer be read. Safe to call more than once. */
  async close(): Promise<void> {
    this.#closed = true
    this.#notify()
    const handle = this.#handle
    this.#handle = null
    if (handle !== null) await handle.then((h) => h.close()).catch(() => {})
  }

  /** The read descriptor, once the writer has created the file (or the write's error). */
  async #open(): Promise<FileHandle> {
    while (this.#handle === null) {
      if (this.#failure !== null) throw this.#failure.error
      if (this.#closed) throw new Error('the tail was closed')
      await this.#changed()
    }
    try {
      return await this.#handle
    } catch (err) {
      throw this.#failure === null ? err : this.#failure.error
    }
  }

  #changed(): Promise<void> {
    return new Promise<void>((wake) => {
      this.#wake = wake
    })
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = null
    wake?.()
  }
}

import type { FileHandle } from 'node:fs/promises'
import { mkdir, open } from 'node:fs/promises'
import { dirname } from 'node:path'

/** One audit record. Never holds key material, plaintext, ciphertext or tokens. */
export interface AuditRecord {
  readonly requestId: string
  /** `encrypt`, `decrypt`, `rewrap`, `datakey`, `create-key`, `read-key`, `config-key`, `rotate-key`, `delete-key`, `list-keys`, or `request` for requests refused before routing. */
  readonly op: string
  readonly outcome: 'ok' | 'denied' | 'error'
  readonly status: number
  readonly key?: string
  readonly keyVersion?: number
  readonly dc?: string
  readonly bucket?: string
  /** Who called: `admin`, `dc:<id>`, or `unknown`. */
  readonly client: string
  readonly reason?: string
}

/** A line waiting for the write and sync that will carry it. */
interface Waiting {
  readonly line: string
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

/**
 * keyd's append-only audit log: one JSON line per request, written (and fdatasync'ed) before the
 * answer is sent, so a decrypt that was answered is always on record. Opened with O_APPEND, mode
 * 0600; lines are never rewritten. Group commit: the lines of requests that arrive while a
 * write is being synced go out together in the next write and share its fdatasync, so keyd
 * answers many requests per sync instead of one; each line still waits for the sync that
 * covers it, and lines stay in call order.
 */
export class AuditLog {
  readonly #handle: FileHandle
  readonly #now: () => Date
  #waiting: Waiting[] = []
  /** The flush loop, while it runs. */
  #flushing: Promise<void> | null = null

  private constructor(handle: FileHandle, now: () => Date) {
    this.#handle = handle
    this.#now = now
  }

  /** Opens (creating) the log file for appending. */
  static async open(path: string, now: () => Date = () => new Date()): Promise<AuditLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    return new AuditLog(await open(path, 'a', 0o600), now)
  }

  /** Appends one record; resolves once it is durable. Records are written in call order. */
  append(record: AuditRecord): Promise<void> {
    const line = `${JSON.stringify({ time: this.#now().toISOString(), ...record })}\n`
    const done = new Promise<void>((resolve, reject) => {
      this.#waiting.push({ line, resolve, reject })
    })
    this.#flushing ??= this.#flush()
    return done
  }

  async close(): Promise<void> {
    await this.#flushing
    await this.#handle.close()
  }

  /** Writes and syncs what is waiting, batch after batch, until nothing is. */
  async #flush(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting
      this.#waiting = []
      try {
        await this.#handle.appendFile(batch.map((w) => w.line).join(''), 'utf8')
        await this.#handle.datasync()
        for (const w of batch) w.resolve()
      } catch (err) {
        for (const w of batch) w.reject(err)
      }
    }
    this.#flushing = null
  }
}

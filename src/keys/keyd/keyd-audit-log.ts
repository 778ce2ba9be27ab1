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

/**
 * keyd's append-only audit log: one JSON line per request, written (and fdatasync'ed) before the
 * answer is sent, so a decrypt that was answered is always on record. Opened with O_APPEND, mode
 * 0600; lines are never rewritten.
 */
export class AuditLog {
  readonly #handle: FileHandle
  readonly #now: () => Date
  #tail: Promise<void> = Promise.resolve()

  private constructor(handle: FileHandle, now: () => Date) {
    this.#handle = handle
    this.#now = now
  }

  /** Opens (creating) the log file for appending. */
  static async open(path: string, now: () => Date = () => new Date()): Promise<AuditLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    return new AuditLog(await open(path, 'a', 0o600), now)
  }

  /** Appends one record durably; records are written in call order. */
  append(record: AuditRecord): Promise<void> {
    const line = `${JSON.stringify({ time: this.#now().toISOString(), ...record })}\n`
    const write = this.#tail.then(async () => {
      await this.#handle.appendFile(line, 'utf8')
      await this.#handle.datasync()
    })
    this.#tail = write.catch(() => undefined)
    return write
  }

  async close(): Promise<void> {
    await this.#tail
    await this.#handle.close()
  }
}

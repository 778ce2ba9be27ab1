import { createHash } from 'node:crypto'

/** Bounds of the unwrapped-DEK cache. */
export interface DekCacheConfig {
  /** Most entries kept; the least recently used goes first. */
  readonly maxEntries: number
  /** How long an unwrapped key may be served without asking the key service again. */
  readonly ttlMs: number
}

interface Entry {
  readonly dek: Buffer
  readonly expiresAt: number
}

/**
 * Unwrapped data keys, in memory only, bounded in size and time: a revocation in the key service
 * takes effect within `ttlMs`. Entries are keyed by a hash of (context, wrapped key), store a
 * private copy of the key, hand out copies, and are zeroed on eviction.
 */
export class DekCache {
  readonly #config: Readonly<DekCacheConfig>
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()

  constructor(config: DekCacheConfig, now: () => number = Date.now) {
    if (!(config.maxEntries >= 0) || !(config.ttlMs >= 0)) {
      throw new RangeError('DEK cache bounds must be non-negative')
    }
    this.#config = Object.freeze({ ...config })
    this.#now = now
  }

  /** The cache id of a wrapped key in a context. */
  static idOf(context: Buffer, wrapped: string): string {
    return createHash('sha256').update(context).update('\0').update(wrapped).digest('hex')
  }

  /** Entries currently held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size
  }

  /** A copy of the cached key, or undefined when absent or expired. */
  get(id: string): Buffer | undefined {
    const entry = this.#entries.get(id)
    if (entry === undefined) return undefined
    if (this.#now() >= entry.expiresAt) {
      this.#evict(id, entry)
      return undefined
    }
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    return Buffer.from(entry.dek)
  }

  /** Stores a copy of `dek`, evicting the least recently used entries beyond the bound. */
  set(id: string, dek: Buffer): void {
    if (this.#config.maxEntries === 0 || this.#config.ttlMs === 0) return
    const old = this.#entries.get(id)
    if (old !== undefined) this.#evict(id, old)
    this.#entries.set(id, { dek: Buffer.from(dek), expiresAt: this.#now() + this.#config.ttlMs })
    while (this.#entries.size > this.#config.maxEntries) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, Entry]
      this.#evict(oldest, entry)
    }
  }

  /** Drops and zeroes every entry. */
  clear(): void {
    for (const [id, entry] of this.#entries) this.#evict(id, entry)
  }

  #evict(id: string, entry: Entry): void {
    entry.dek.fill(0)
    this.#entries.delete(id)
  }
}

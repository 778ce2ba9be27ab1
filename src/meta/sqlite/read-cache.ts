/**
 * Values read from the store, kept by key until the store forgets them. The store calls
 * `forget(key)` in every write that can change the value, inside that write's transaction, so a
 * cached value is always the table's current one. Values are deep-frozen: every reader shares
 * them, and a reader that tried to change one would throw instead of changing the others'.
 */
export class ReadCache<V> {
  readonly #values = new Map<string, V>()
  readonly #maxEntries: number

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries
  }

  /** The value of `key`, from `load` the first time (or after `forget`). */
  get(key: string, load: () => V): V {
    const cached = this.#values.get(key)
    if (cached !== undefined || this.#values.has(key)) return cached as V
    const value = deepFreeze(load())
    if (this.#values.size >= this.#maxEntries) this.#values.clear()
    this.#values.set(key, value)
    return value
  }

  /** Drops every value. */
  clear(): void {
    this.#values.clear()
  }

  /** Drops `key`: the next `get` loads it again. */
  forget(key: string): void {
    this.#values.delete(key)
  }
}

function deepFreeze<V>(value: V): V {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  if (ArrayBuffer.isView(value)) return value
  for (const field of Object.values(value)) deepFreeze(field)
  return Object.freeze(value)
}

/** A FIFO of buffers that hands out exact-length slices without copying the whole backlog. */
export class ByteQueue {
  #chunks: Buffer[] = []
  #length = 0

  /** Bytes queued. */
  get length(): number {
    return this.#length
  }

  /** Appends a chunk (kept by reference). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /**
   * Removes exactly `n` bytes (n ≤ length) as the pieces of the queued chunks that hold them, in
   * order, never copying (a cipher can be fed piece by piece).
   */
  takePieces(n: number): Buffer[] {
    if (n > this.#length)
      throw new RangeError(`Cannot take "${n}" bytes: only "${this.#length}" queued`)
    const out: Buffer[] = []
    let want = n
    while (want > 0) {
      const chunk = this.#chunks[0] as Buffer
      if (chunk.length <= want) {
        out.push(chunk)
        want -= chunk.length
        this.#chunks.shift()
      } else {
        out.push(chunk.subarray(0, want))
        this.#chunks[0] = chunk.subarray(want)
        want = 0
      }
    }
    this.#length -= n
    return out
  }

  /**
   * Replaces the queued bytes with one copy of them in a buffer of the queue's own, so that no
   * chunk pushed so far is referenced any more (it can then be transferred or reused).
   */
  compact(): void {
    if (this.#chunks.length === 0) return
    const copy = Buffer.allocUnsafeSlow(this.#length)
    let at = 0
    for (const chunk of this.#chunks) at += chunk.copy(copy, at)
    this.#chunks = [copy]
  }

  /** Removes and returns exactly `n` bytes (n ≤ length); copies only when a slice spans chunks. */
  take(n: number): Buffer {
    if (n > this.#length)
      throw new RangeError(`Cannot take "${n}" bytes: only "${this.#length}" queued`)
    const first = this.#chunks[0]
    if (first !== undefined && first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
      this.#length -= n
      return out
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer
      const want = n - filled
      if (chunk.length <= want) {
        chunk.copy(out, filled)
        filled += chunk.length
        this.#chunks.shift()
      } else {
        chunk.copy(out, filled, 0, want)
        this.#chunks[0] = chunk.subarray(want)
        filled += want
      }
    }
    this.#length -= n
    return out
  }
}

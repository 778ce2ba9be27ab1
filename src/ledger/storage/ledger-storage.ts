/** Options every ledger I/O method takes. */
export interface IoOptions {
  readonly signal?: AbortSignal | undefined
}

/** The integrated tree: its size and RFC 6962 root. */
export interface TreeState {
  readonly size: number
  readonly root: Uint8Array
}

/** What one integration step writes. */
export interface IntegrationCommit {
  /** Changed hash tiles by tlog-tiles path (`tile/<L>/<N>[.p/<W>]`). */
  readonly tiles: ReadonlyMap<string, Uint8Array>
  /** Changed entry bundles by path (`tile/entries/<N>[.p/<W>]`). */
  readonly bundles: ReadonlyMap<string, Uint8Array>
  /** The tree after the step. */
  readonly state: TreeState
}

/**
 * Where one log keeps its state (STYLE habit 18, Tessera's split): a durable sequence of
 * entries waiting for integration, the integrated tree's tiles and bundles, the tree state and
 * the latest signed checkpoint. One process owns a log's storage at a time (single writer).
 *
 * Order of durability the log relies on: `sequence` resolves only once the batch survives a
 * crash; `commitIntegration` makes tiles and bundles durable before the tree state, and the
 * tree state before the sequenced entries it covers are forgotten; the log writes a checkpoint
 * only for a durable tree state.
 */
export interface LedgerStorage {
  /** The index the next sequenced entry gets (integrated size + entries waiting). */
  sequencedSize(): number
  /**
   * Durably assigns the next indices to `entries`, in order, and resolves with the first index
   * once the whole batch survives `kill -9` and power loss. Calls are serialized: batches get
   * contiguous, non-overlapping ranges, and a later batch is never durable without an earlier one.
   */
  sequence(entries: readonly Uint8Array[], options?: IoOptions): Promise<number>
  /** Up to `limit` sequenced entries from index `from` (≥ the integrated size), in order. */
  readSequenced(from: number, limit: number, options?: IoOptions): Promise<Uint8Array[]>
  /** The integrated tree, or undefined for a log that never integrated. */
  readTreeState(options?: IoOptions): Promise<TreeState | undefined>
  /** Writes tiles and bundles, then the tree state, then drops sequenced entries it covers. */
  commitIntegration(commit: IntegrationCommit, options?: IoOptions): Promise<void>
  /** Hash tile (level, index) of exactly `width` hashes (256 = full), or undefined. */
  readTile(
    level: number,
    index: number,
    width: number,
    options?: IoOptions,
  ): Promise<Uint8Array | undefined>
  /** Entry bundle `index` of exactly `width` entries (256 = full), or undefined. */
  readEntryBundle(
    index: number,
    width: number,
    options?: IoOptions,
  ): Promise<Uint8Array | undefined>
  /** The latest signed checkpoint note, or undefined. */
  readCheckpoint(options?: IoOptions): Promise<string | undefined>
  /** Replaces the signed checkpoint atomically. */
  writeCheckpoint(note: string, options?: IoOptions): Promise<void>
  /** Waits for writes in progress and releases the storage; later calls reject with `Closed`. */
  close(): Promise<void>
}

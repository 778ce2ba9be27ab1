import { formatEntryReceipt, type IoOptions, parseCheckpoint, parseNote } from '../ledger/index.js'
import type { CellLedger } from './cell-ledger.js'

/**
 * The receipt of entry `index` of a cell's log, for log-before-decrypt: waits until the entry is
 * in a published checkpoint (`log.sync()` when the latest one does not cover it yet), then
 * returns a c2sp.org/tlog-proof carrying the entry (`formatEntryReceipt`). The proof is against
 * the served (witness-cosigned) checkpoint when that one already covers the entry, so the
 * receipt carries cosignature times; otherwise against the log's own latest checkpoint.
 */
export async function ledgerReceipt(
  ledger: CellLedger,
  index: number,
  options: IoOptions = {},
): Promise<string> {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`Cannot make a ledger receipt: index "${index}" is not an entry index`)
  }
  let latest = ledger.log.checkpoint()
  if (latest.checkpoint.size <= BigInt(index)) latest = await ledger.log.sync(options)
  if (latest.checkpoint.size <= BigInt(index)) {
    throw new RangeError(
      `Cannot make a ledger receipt: entry "${index}" is not in the log of size "${latest.checkpoint.size}"`,
    )
  }
  let note = latest.note
  let size = latest.checkpoint.size
  if (ledger.witnessing !== undefined) {
    const served = await ledger.servedCheckpoint()
    if (served !== undefined) {
      const servedSize = parseCheckpoint(parseNote(served).text).size
      if (servedSize > BigInt(index)) {
        note = served
        size = servedSize
      }
    }
  }
  const [entry, proof] = await Promise.all([
    ledger.log.readEntry(index, options),
    ledger.log.inclusionProof(index, Number(size), options),
  ])
  return formatEntryReceipt({ entry, index: BigInt(index), proof, checkpoint: note })
}

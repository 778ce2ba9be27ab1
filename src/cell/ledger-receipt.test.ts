import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../core/index.js'
import { openEntryReceipt } from '../ledger/index.js'
import { type CellLedger, openCellLedger } from './cell-ledger.js'
import { ledgerReceipt } from './ledger-receipt.js'

const dir = mkdtempSync(join(tmpdir(), 'sovra-ledger-receipt-'))
let ledger: CellLedger | undefined
afterAll(async () => {
  await ledger?.log.close()
  ledger?.index.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('ledgerReceipt()', () => {
  it('waits for the entry to be checkpointed and returns a receipt that proves it', async () => {
    ledger = await openCellLedger(dir, {
      origin: 'sovra.test/ledger/us-west-1',
      batchMaxDelayMs: 1,
      maxPending: 1000,
      logger: createLogger('silent'),
    })
    const entry = new TextEncoder().encode('{"hello":"receipt"}')
    await ledger.log.append(new TextEncoder().encode('{"first":1}'))
    const { index } = await ledger.log.append(entry)
    // Appended, not yet necessarily in a checkpoint: the receipt call waits for one.
    const text = await ledgerReceipt(ledger, index)
    const opened = openEntryReceipt(text, { logVerifierKey: ledger.verifierKey })
    expect(opened.entry).toEqual(entry)
    expect(opened.index).toBe(BigInt(index))
    expect(opened.checkpoint.size).toBeGreaterThan(BigInt(index))
    await expect(ledgerReceipt(ledger, 99)).rejects.toThrow(/is not in the log of size/)
    await expect(ledgerReceipt(ledger, -1)).rejects.toThrow(RangeError)
  })
})

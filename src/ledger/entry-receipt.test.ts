import { describe, expect, it } from 'vitest'
import { formatCheckpoint } from './checkpoint.js'
import { cosignatureSigner } from './cosignature.js'
import { formatEntryReceipt, openEntryReceipt } from './entry-receipt.js'
import { isLedgerError } from './ledger-error.js'
import { inclusionProof, memoryNodeFetcher } from './merkle/proofs.js'
import { leafHash, rootFromLeafHashes } from './merkle/rfc6962.js'
import { ed25519Signer, formatSignerKey, parseSignerKey, signNote } from './note/signed-note.js'
import { parseTlogProof } from './tlog-proof.js'

const LOG = formatSignerKey('sovra.test/ledger/us-west-1', new Uint8Array(32).fill(1))
const LOG_VKEY = parseSignerKey(LOG).vkey
const entries = ['a', 'b', 'c', 'd', 'e'].map((s) => new TextEncoder().encode(`{"e":"${s}"}`))
const leaves = entries.map((e) => leafHash(e))

async function receipt(index: number, cosigners: ReturnType<typeof cosignatureSigner>[] = []) {
  const body = formatCheckpoint({
    origin: 'sovra.test/ledger/us-west-1',
    size: BigInt(entries.length),
    root: rootFromLeafHashes(leaves),
    extensions: [],
  })
  return formatEntryReceipt({
    entry: entries[index] as Uint8Array,
    index: BigInt(index),
    proof: await inclusionProof({
      index,
      size: entries.length,
      getNodes: memoryNodeFetcher(leaves),
    }),
    checkpoint: signNote(body, [ed25519Signer(LOG), ...cosigners]),
  })
}

describe('entry receipts', () => {
  it('formatEntryReceipt() writes a tlog-proof whose extra is the entry, and openEntryReceipt() proves it', async () => {
    const text = await receipt(3)
    expect(text.startsWith('c2sp.org/tlog-proof@v1\nextra ')).toBe(true)
    expect(parseTlogProof(text).extra).toEqual(entries[3])
    const opened = openEntryReceipt(text, { logVerifierKey: LOG_VKEY })
    expect(opened.entry).toEqual(entries[3])
    expect(opened.index).toBe(3n)
    expect(opened.checkpoint.size).toBe(5n)
    expect(opened.cosignedAt).toBeUndefined()
  })

  it('openEntryReceipt() gives the newest cosignature time of the known witnesses only', async () => {
    const w1 = cosignatureSigner({
      name: 'w1.test',
      seed: new Uint8Array(32).fill(5),
      now: () => 1_800_000_000,
    })
    const w2 = cosignatureSigner({
      name: 'w2.test',
      seed: new Uint8Array(32).fill(6),
      now: () => 1_800_000_100,
    })
    const text = await receipt(0, [w1, w2])
    expect(
      openEntryReceipt(text, { logVerifierKey: LOG_VKEY, witnessVerifierKeys: [w1.vkey] })
        .cosignedAt,
    ).toEqual(new Date(1_800_000_000_000))
    expect(
      openEntryReceipt(text, { logVerifierKey: LOG_VKEY, witnessVerifierKeys: [w1.vkey, w2.vkey] })
        .cosignedAt,
    ).toEqual(new Date(1_800_000_100_000))
  })

  it('openEntryReceipt() refuses another log key, a changed entry and a receipt without entry', async () => {
    const text = await receipt(2)
    const other = parseSignerKey(
      formatSignerKey('sovra.test/ledger/us-west-1', new Uint8Array(32).fill(2)),
    ).vkey
    expect(() => openEntryReceipt(text, { logVerifierKey: other })).toThrow(
      /no signature is by a known key/,
    )
    const changed = text.replace(
      /^extra \S+$/m,
      `extra ${Buffer.from('{"e":"x"}').toString('base64')}`,
    )
    let err: unknown
    try {
      openEntryReceipt(changed, { logVerifierKey: LOG_VKEY })
    } catch (e) {
      err = e
    }
    expect(isLedgerError(err) && err.code === 'Corrupt').toBe(true)
    expect(() =>
      openEntryReceipt(text.replace(/^extra \S+\n/m, ''), { logVerifierKey: LOG_VKEY }),
    ).toThrow(/carries no entry/)
  })
})

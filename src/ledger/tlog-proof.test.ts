import { describe, expect, it } from 'vitest'
import { toHex, utf8Bytes } from './encoding.js'
import { LedgerError } from './ledger-error.js'
import { leafHash } from './merkle/rfc6962.js'
import { loadVectors } from './test-fixtures.js'
import { formatTlogProof, parseTlogProof, verifyTlogProof } from './tlog-proof.js'
import { verifierFromKey } from './verifiers.js'

interface WitnessVectors {
  logVkey: string
  tlogProof: { entryUtf8: string; index: number; leafHashHex: string; proofText: string }
}
const vectors = loadVectors<WitnessVectors>('tlog-witness.json')
const witnesses = loadVectors<{ derived: { witnesses: Array<{ vkey: string }> } }>(
  'cosignature.json',
).derived.witnesses
const p = vectors.tlogProof

describe('tlog-proof (tlog-witness.json tlogProof)', () => {
  const options = {
    leafHash: leafHash(utf8Bytes(p.entryUtf8)),
    origin: 'example.com/log/testdata',
    logVerifiers: [verifierFromKey(vectors.logVkey)],
    witnessVerifiers: witnesses.map((w) => verifierFromKey(w.vkey)),
  }

  it('parses and re-formats the receipt byte for byte', () => {
    const parsed = parseTlogProof(p.proofText)
    expect(parsed.index).toBe(BigInt(p.index))
    expect(formatTlogProof(parsed)).toBe(p.proofText)
    expect(toHex(options.leafHash)).toBe(p.leafHashHex)
  })

  it('verifies the receipt with the log key and a 2-of-3 witness quorum', () => {
    expect(verifyTlogProof(p.proofText, { ...options, minCosignatures: 2 }).size).toBe(15n)
  })

  it('rejects another entry, an unmet quorum and a garbled header', () => {
    expect(() =>
      verifyTlogProof(p.proofText, { ...options, leafHash: leafHash(utf8Bytes('nain')) }),
    ).toThrow(LedgerError)
    expect(() => verifyTlogProof(p.proofText, { ...options, minCosignatures: 3 })).toThrow(
      /3 are required/,
    )
    expect(() => parseTlogProof(p.proofText.replace('@v1', '@v2'))).toThrow(SyntaxError)
  })
})

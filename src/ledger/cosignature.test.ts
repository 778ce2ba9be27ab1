import { describe, expect, it } from 'vitest'
import { openCheckpoint } from './checkpoint.js'
import { cosignatureMessage, cosignatureSigner, parseCosignature } from './cosignature.js'
import { fromBase64Strict, toHex } from './encoding.js'
import { LedgerError } from './ledger-error.js'
import { addSignatures, openNote, parseNote } from './note/signed-note.js'
import { hex, loadVectors } from './test-fixtures.js'
import { verifierFromKey } from './verifiers.js'

interface CosignatureVectors {
  publishedParseOnly: Array<{
    desc: string
    line?: string
    sigB64?: string
    want?: { keyName?: string; keyId: string; timestamp: number; signatureHex?: string }
    wantErr?: boolean
  }>
  derived: {
    witnesses: Array<{ name: string; seedHex: string; vkey: string; keyIdType04: string }>
    logVkey: string
    checkpoint: string
    timestamp: number
    signedMessageForW1: string
    cosignatureLines: Record<string, string>
    verify: Array<{
      desc: string
      note: string
      verifierKeys: string[]
      want: string
      wantVerifiedNames?: string[]
    }>
  }
}

const vectors = loadVectors<CosignatureVectors>('cosignature.json')
const d = vectors.derived

describe('cosignatures (cosignature.json)', () => {
  it.each(vectors.publishedParseOnly)('parses: $desc', (v) => {
    let blob: Uint8Array | undefined
    if (v.line) {
      const note = parseNote(`x\n\n${v.line}\n`)
      const sig = note.signatures[0]
      expect(sig?.name).toBe(v.want?.keyName)
      expect(sig?.keyId).toBe(v.want?.keyId)
      const parts = parseCosignature(sig?.signature ?? new Uint8Array())
      expect(parts.timestamp).toBe(BigInt(v.want?.timestamp ?? -1))
      expect(toHex(parts.signature)).toBe(v.want?.signatureHex)
      return
    }
    blob = fromBase64Strict(v.sigB64 ?? '') ?? new Uint8Array()
    if (v.wantErr) {
      expect(() => parseCosignature(blob.subarray(4))).toThrow(SyntaxError)
      return
    }
    expect(toHex(blob.subarray(0, 4))).toBe(v.want?.keyId)
    expect(parseCosignature(blob.subarray(4)).timestamp).toBe(BigInt(v.want?.timestamp ?? -1))
  })

  it('builds the signed message "cosignature/v1\\ntime <ts>\\n<body>"', () => {
    const text = parseNote(d.checkpoint).text
    expect(new TextDecoder().decode(cosignatureMessage(text, d.timestamp))).toBe(
      d.signedMessageForW1,
    )
  })

  it('reproduces the derived witness cosignature lines byte for byte', () => {
    for (const w of d.witnesses) {
      const line = d.cosignatureLines[w.name]
      if (line === undefined) continue
      const signer = cosignatureSigner({
        name: w.name,
        seed: hex(w.seedHex),
        now: () => d.timestamp,
      })
      expect(signer.vkey).toBe(w.vkey)
      expect(signer.keyId).toBe(w.keyIdType04)
      // w2's line carries its own timestamp; take it from the vector.
      const ts = parseCosignature(
        parseNote(`x\n\n${line}`).signatures[0]?.signature ?? new Uint8Array(),
      )
      const timed = cosignatureSigner({
        name: w.name,
        seed: hex(w.seedHex),
        now: () => Number(ts.timestamp),
      })
      const cosigned = addSignatures(d.checkpoint, [timed])
      expect(cosigned.endsWith(line)).toBe(true)
    }
  })

  it.each(d.verify)('openNote(): $desc → $want', (v) => {
    const verifiers = v.verifierKeys.map(verifierFromKey)
    if (v.want !== 'valid') {
      expect(() => openNote(v.note, verifiers)).toThrow(LedgerError)
      return
    }
    const opened = openNote(v.note, verifiers)
    expect(opened.verified.map((s) => s.name)).toEqual(v.wantVerifiedNames)
  })

  it('openCheckpoint() requires the log signature even when witnesses verify', () => {
    const v = d.verify[1]
    expect(v).toBeDefined()
    expect(() =>
      openCheckpoint(v?.note ?? '', {
        origin: 'example.com/log/testdata',
        logVerifiers: [],
        otherVerifiers: (v?.verifierKeys ?? []).map(verifierFromKey),
      }),
    ).toThrow(/log/)
  })
})

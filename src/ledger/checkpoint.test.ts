import { describe, expect, it } from 'vitest'
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.js'
import { toHex } from './encoding.js'
import { LedgerError } from './ledger-error.js'
import { ed25519Signer, signNote } from './note/signed-note.js'
import { loadVectors } from './test-fixtures.js'
import { verifierFromKey } from './verifiers.js'

interface CheckpointVectors {
  published: {
    vkey: string
    skey: string
    checkpoints: Array<{
      size: number
      note: string
      body: string
      origin: string
      rootHex: string
    }>
  }
  derivedNegative: {
    cases: Array<{ desc: string; note: string; verifyWith: string[]; want: string }>
  }
  bodyParsing: {
    cases: Array<{
      body: string
      desc?: string
      note?: string
      wantErr?: boolean
      want?: { origin: string; size: number; hashHex?: string; extensionLines?: string[] }
    }>
  }
}

const vectors = loadVectors<CheckpointVectors>('checkpoint.json')
const ORIGIN = 'example.com/log/testdata'

describe('checkpoints (checkpoint.json)', () => {
  it.each(vectors.published.checkpoints)('opens published Tessera checkpoint $size', (v) => {
    const opened = openCheckpoint(v.note, {
      origin: ORIGIN,
      logVerifiers: [verifierFromKey(vectors.published.vkey)],
    })
    expect(opened.checkpoint.size).toBe(BigInt(v.size))
    expect(toHex(opened.checkpoint.root)).toBe(v.rootHex)
    expect(opened.note.text).toBe(v.body)
    expect(formatCheckpoint(opened.checkpoint)).toBe(v.body)
    // Ed25519 is deterministic: re-signing with the published test key reproduces the note.
    expect(signNote(v.body, [ed25519Signer(vectors.published.skey)])).toBe(v.note)
  })

  it.each(vectors.derivedNegative.cases)('openCheckpoint(): $desc → $want', (v) => {
    const open = () =>
      openCheckpoint(v.note, { origin: ORIGIN, logVerifiers: v.verifyWith.map(verifierFromKey) })
    if (v.want === 'reject') expect(open).toThrow(LedgerError)
    else expect(open().checkpoint.size).toBe(15n)
  })

  it('rejects a validly signed checkpoint of another origin', () => {
    const note = vectors.published.checkpoints[3]?.note ?? ''
    expect(() =>
      openCheckpoint(note, {
        origin: 'example.com/log',
        logVerifiers: [verifierFromKey(vectors.published.vkey)],
      }),
    ).toThrow(/origin/)
  })

  it.each(vectors.bodyParsing.cases)('parseCheckpoint($body)', (v) => {
    const want = v.want
    if (v.wantErr || want === undefined) {
      expect(() => parseCheckpoint(v.body)).toThrow(SyntaxError)
      expect(() => parseCheckpoint(v.body, { anyHashLength: true })).toThrow(SyntaxError)
      return
    }
    // Strict parsing demands a 32-byte root; formats' lenient vectors only pass when asked to.
    const lenient = parseCheckpoint(v.body, { anyHashLength: true })
    expect(lenient.origin).toBe(want.origin)
    expect(lenient.size).toBe(BigInt(want.size))
    if (want.hashHex) expect(toHex(lenient.root)).toBe(want.hashHex)
    if (want.extensionLines) expect(lenient.extensions).toEqual(want.extensionLines)
    if (lenient.root.byteLength === 32) expect(parseCheckpoint(v.body)).toEqual(lenient)
    else expect(() => parseCheckpoint(v.body)).toThrow(/not 32/)
  })
})

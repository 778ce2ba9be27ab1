import { describe, expect, it } from 'vitest'
import { toHex } from '../encoding.js'
import { LedgerError } from '../ledger-error.js'
import { hex, loadVectors } from '../test-fixtures.js'
import { verifierFromKey } from '../verifiers.js'
import {
  ed25519Signer,
  formatSignerKey,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from './signed-note.js'

interface SignedNoteVectors {
  keys: Record<string, { vkey: string; skey?: string; ed25519SeedHex: string }>
  signing: Array<{
    desc: string
    text: string
    skey?: string
    ed25519SeedHex?: string
    vkey?: string
    want?: string
    wantErr?: boolean
  }>
  open: Array<{
    desc: string
    msg: string
    verifierKeys: string[]
    want: 'valid' | 'unverified' | 'invalidSignature' | 'malformed' | 'configError'
    wantVerified?: string[]
    wantUnverified?: string[]
    wantText?: string
  }>
  vkeys: Array<{
    vkey: string
    want: 'valid' | 'invalid'
    name?: string
    keyId?: string
    signatureType?: number
    publicKeyHex?: string
    desc?: string
  }>
}

const vectors = loadVectors<SignedNoteVectors>('signed-note.json')

/** signed-note.json result names → LedgerError codes. */
const CODE_OF = {
  unverified: 'UnverifiedNote',
  invalidSignature: 'InvalidSignature',
  malformed: 'MalformedNote',
  configError: 'AmbiguousKey',
} as const

describe('signed notes (signed-note.json)', () => {
  it.each(vectors.vkeys)('parseVerifierKey() judges $vkey as $want', (v) => {
    if (v.want === 'invalid') {
      expect(() => parseVerifierKey(v.vkey)).toThrow(LedgerError)
      return
    }
    const key = parseVerifierKey(v.vkey)
    expect(key.name).toBe(v.name)
    expect(key.keyId).toBe(v.keyId)
    expect(key.type).toBe(v.signatureType)
    expect(toHex(key.publicKey)).toBe(v.publicKeyHex)
  })

  it.each(vectors.signing)('signNote(): $desc', (v) => {
    const signers = v.skey
      ? [ed25519Signer(v.skey)]
      : [
          ed25519Signer(vectors.keys.PeterNeumann?.skey ?? ''),
          ed25519Signer({ name: 'EnochRoot', seed: hex(v.ed25519SeedHex ?? '') }),
        ]
    if (v.wantErr) {
      expect(() => signNote(v.text, signers)).toThrow(SyntaxError)
      return
    }
    expect(signNote(v.text, signers)).toBe(v.want)
  })

  it.each(vectors.open)('openNote(): $desc → $want', (v) => {
    const verifiers = v.verifierKeys.map(verifierFromKey)
    if (v.want !== 'valid') {
      let error: unknown
      try {
        openNote(v.msg, verifiers)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(LedgerError)
      expect((error as LedgerError).code).toBe(CODE_OF[v.want])
      return
    }
    const opened = openNote(v.msg, verifiers)
    if (v.wantVerified) {
      expect(opened.verified.map((s) => `${s.name}+${s.keyId}`)).toEqual(v.wantVerified)
    }
    if (v.wantUnverified) {
      expect(opened.unverified.map((s) => `${s.name}+${s.keyId}`)).toEqual(v.wantUnverified)
    }
    if (v.wantText) expect(opened.text).toBe(v.wantText)
  })

  it('parses signer keys and formats them back; the derived vkey matches', () => {
    for (const key of Object.values(vectors.keys)) {
      if (!key.skey) continue
      const parsed = parseSignerKey(key.skey)
      expect(parsed.vkey).toBe(key.vkey)
      expect(toHex(parsed.seed)).toBe(key.ed25519SeedHex)
      expect(formatSignerKey(parsed.name, parsed.seed)).toBe(key.skey)
    }
  })

  it('rejects a signer key whose key id does not match', () => {
    const skey = vectors.keys.PeterNeumann?.skey ?? ''
    expect(() => parseSignerKey(skey.replace('c74f20a3', 'c74f20a4'))).toThrow(LedgerError)
  })
})

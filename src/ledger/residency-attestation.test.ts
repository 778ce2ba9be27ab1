import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { formatCheckpoint } from './checkpoint.js'
import {
  ed25519Signer,
  ed25519Verifier,
  formatSignerKey,
  openNote,
  parseSignerKey,
  signNote,
} from './note/signed-note.js'
import {
  ATTESTATION_TYPE,
  type AttestationStatement,
  attestationMessage,
  ListDigest,
  parseAttestation,
  signAttestation,
  verifyAttestation,
} from './residency-attestation.js'

const ORIGIN = 'sovra.example/ledger/us-west-1'
const skey = formatSignerKey(ORIGIN, new Uint8Array(32).fill(7))
const vkey = parseSignerKey(skey).vkey
const signer = ed25519Signer(skey)
const otherVkey = parseSignerKey(formatSignerKey(ORIGIN, new Uint8Array(32).fill(8))).vkey

function statement(overrides: Partial<AttestationStatement> = {}): AttestationStatement {
  const checkpoint = signNote(
    formatCheckpoint({
      origin: ORIGIN,
      size: 3n,
      root: new Uint8Array(32).fill(1),
      extensions: [],
    }),
    [signer],
  )
  return {
    v: 1,
    type: ATTESTATION_TYPE,
    bucket: 'orders',
    dc: 'us-west-1',
    jurisdiction: 'US',
    tenant: 't-0123456789abcdef',
    tenantCommitment: 'ab'.repeat(32),
    objectCount: 2,
    totalBytes: 7,
    listDigest: 'cd'.repeat(32),
    issuedAt: '2026-11-27T10:00:00.000Z',
    checkpoint,
    ...overrides,
  }
}

describe('ListDigest', () => {
  it('hashes the documented byte layout', () => {
    const d = new ListDigest()
    d.add('a', 3, '"900150983cd24fb0d6963f7d28e17f72"')
    d.add('b/ü', 4, '0123456789abcdef0123456789abcdef-2')
    const expected = createHash('sha256')
      .update('sovra-list-digest/v1\n')
      .update(Buffer.from([0, 0, 0, 1]))
      .update('a')
      .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 32]))
      .update('900150983cd24fb0d6963f7d28e17f72')
      .update(Buffer.from([0, 0, 0, 4]))
      .update(Buffer.from('b/ü', 'utf8'))
      .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 34]))
      .update('0123456789abcdef0123456789abcdef-2')
      .digest('hex')
    expect([d.count, d.bytes]).toEqual([2, 7])
    expect(d.digest()).toBe(expected)
  })

  it('of an empty bucket is the hash of the domain line alone', () => {
    expect(new ListDigest().digest()).toBe(
      createHash('sha256').update('sovra-list-digest/v1\n').digest('hex'),
    )
  })

  it('refuses keys out of UTF-8 byte order (which is not UTF-16 order)', () => {
    const d = new ListDigest()
    // U+FF61 sorts after U+1F600 in UTF-16 code units, before it in UTF-8 bytes.
    d.add('\uFF61', 1, 'e')
    d.add('\u{1F600}', 1, 'e')
    expect(() => d.add('\uFF61', 1, 'e')).toThrow(/ascending UTF-8 byte order/)
    expect(() => new ListDigest().add('x', -1, 'e')).toThrow(/size/)
  })
})

describe('verifyAttestation', () => {
  it('accepts a signed statement, and reads it back from JSON', () => {
    const signed = signAttestation(statement(), signer)
    expect(verifyAttestation(parseAttestation(JSON.stringify(signed, null, 2)), vkey)).toEqual({
      ok: true,
    })
  })

  it('refuses any changed field, another key, and a key of another data center', () => {
    const signed = signAttestation(statement(), signer)
    const changed = { ...signed, statement: { ...signed.statement, totalBytes: 8 } }
    expect(verifyAttestation(changed, vkey)).toMatchObject({ ok: false, reason: /signature/ })
    expect(verifyAttestation(signed, otherVkey)).toMatchObject({
      ok: false,
      reason: /not by the given key/,
    })
    const elsewhere = signAttestation(statement({ dc: 'us-east-1' }), signer)
    expect(verifyAttestation(elsewhere, vkey)).toMatchObject({
      ok: false,
      reason: /not the ledger key of data center "us-east-1"/,
    })
  })

  it('checks the embedded checkpoint with the same key', () => {
    const foreign = ed25519Signer({ name: ORIGIN, seed: new Uint8Array(32).fill(9) })
    const forged = signNote(
      formatCheckpoint({
        origin: ORIGIN,
        size: 3n,
        root: new Uint8Array(32).fill(1),
        extensions: [],
      }),
      [foreign],
    )
    const signed = signAttestation(statement({ checkpoint: forged }), signer)
    expect(verifyAttestation(signed, vkey)).toMatchObject({ ok: false, reason: /^checkpoint:/ })
    expect(
      verifyAttestation(signAttestation(statement({ checkpoint: null }), signer), vkey),
    ).toEqual({ ok: true })
  })

  it('is domain-separated: no note text is the signed message, so no checkpoint can reuse it', () => {
    const s = statement()
    const message = Buffer.from(attestationMessage(s)).toString('utf8')
    expect(message.startsWith('sovra-residency-attestation/v1\n{')).toBe(true)
    // A signed note's text ends in a newline; the message never does (canonical JSON ends in `}`).
    expect(message.endsWith('\n')).toBe(false)
    const signed = signAttestation(s, signer)
    const sig = Buffer.concat([
      Buffer.from(signer.keyId, 'hex'),
      Buffer.from(signed.signature.value, 'base64'),
    ]).toString('base64')
    expect(() => openNote(`${message}\n\n— ${ORIGIN} ${sig}\n`, [ed25519Verifier(vkey)])).toThrow(
      /signature/i,
    )
  })

  it('refuses documents that are not attestations', () => {
    expect(() => parseAttestation('[]')).toThrow(/not a JSON object/)
    expect(() => parseAttestation('{"statement":{"v":2},"signature":{}}')).toThrow(/version/)
    const bad = signAttestation(statement({ listDigest: 'XY' }), signer)
    expect(() => parseAttestation(JSON.stringify(bad))).toThrow(/listDigest/)
  })
})

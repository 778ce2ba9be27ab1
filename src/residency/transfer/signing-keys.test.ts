import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  importPrivateKey,
  importPublicKey,
  importRegisteredKey,
  keygen,
  publicKeyId,
} from './signing-keys.js'

describe('keygen()', () => {
  it('returns PKCS#8 and SPKI PEM, the raw key in base64 and its key id', () => {
    const pair = keygen()
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    expect(Buffer.from(pair.publicKeyRaw, 'base64')).toHaveLength(32)
    expect(createPublicKey(pair.privateKeyPem).export({ format: 'pem', type: 'spki' })).toBe(
      pair.publicKeyPem,
    )
    expect(pair.keyId).toBe(publicKeyId(pair.publicKeyPem))
  })
})

describe('publicKeyId()', () => {
  it('is "ed25519:" and base64url of the first 16 bytes of SHA-256 of the raw key', () => {
    // RFC 8032 §7.1 test 1 public key.
    const raw = Buffer.from(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      'hex',
    )
    const expected = `ed25519:${createHash('sha256').update(raw).digest().subarray(0, 16).toString('base64url')}`
    expect(publicKeyId(raw.toString('base64'))).toBe(expected)
    expect(publicKeyId(raw.toString('base64url'))).toBe(expected)
    expect(expected).toMatch(/^ed25519:[A-Za-z0-9_-]{22}$/)
    const pem = importPublicKey(raw.toString('base64'))
      .export({ format: 'pem', type: 'spki' })
      .toString()
    expect(publicKeyId(pem)).toBe(expected)
  })
})

describe('importPublicKey() and importPrivateKey()', () => {
  it('refuse keys of another algorithm, private keys as public ones, and wrong lengths', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(() => importPublicKey(ec.publicKey)).toThrow('it is "ec", not "ed25519"')
    expect(() => importPrivateKey(ec.privateKey)).toThrow(
      'Cannot sign: the key is "ec", not "ed25519"',
    )
    expect(() => importPublicKey(generateKeyPairSync('ed25519').privateKey)).toThrow(
      'Cannot use the key as a public key: it is a private key',
    )
    expect(() => importPublicKey(Buffer.alloc(31).toString('base64'))).toThrow(TypeError)
    expect(() => importPublicKey(keygen().privateKeyPem)).toThrow(
      'the PEM is not "PUBLIC KEY" (SPKI)',
    )
  })
})

describe('importRegisteredKey()', () => {
  it('gives what a fresh import gives, for each text of each key, and still refuses bad keys', () => {
    const a = keygen()
    const b = keygen()
    for (const text of [a.publicKeyPem, a.publicKeyRaw, b.publicKeyPem]) {
      const first = importRegisteredKey(text)
      const again = importRegisteredKey(text)
      expect(again).toBe(first) // remembered
      expect(first.keyId).toBe(publicKeyId(text))
      expect(first.key.equals(importPublicKey(text))).toBe(true)
    }
    expect(importRegisteredKey(a.publicKeyRaw).keyId).toBe(a.keyId)
    expect(importRegisteredKey(b.publicKeyPem).keyId).toBe(b.keyId)
    expect(() => importRegisteredKey(a.privateKeyPem)).toThrow(TypeError)
  })
})

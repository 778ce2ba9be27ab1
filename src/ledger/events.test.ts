import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  commit,
  decodeEvent,
  encodeEvent,
  LEDGER_EVENT_SCHEMA,
  LEDGER_EVENT_TYPES,
  type LedgerEvent,
} from './events.js'

const SECRET = new Uint8Array(32).fill(7)
const tenantActor = {
  kind: 'tenant',
  tenant: commit(SECRET, 'tenant-acme'),
  accessKey: commit(SECRET, 'AKIA1'),
} as const

describe('ledger events', () => {
  it('commit() is HMAC-SHA256(secret, value) in hex (RFC 4231 test case 1)', () => {
    expect(commit(new Uint8Array(20).fill(0x0b), 'Hi There')).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    )
    expect(commit(SECRET, 'a')).not.toBe(commit(new Uint8Array(32).fill(8), 'a'))
    expect(() => commit(new TextEncoder().encode('Jefe'), 'short secret')).toThrow(RangeError)
  })

  it('encodeEvent() writes canonical JSON with no customer value in clear', () => {
    const event: LedgerEvent = {
      schema: LEDGER_EVENT_SCHEMA,
      type: 'object.put',
      at: '2026-11-27T16:42:09.123Z',
      dc: 'us-west-1',
      actor: tenantActor,
      tenant: commit(SECRET, 'tenant-acme'),
      bucket: commit(SECRET, 'acme-photos'),
      key: commit(SECRET, 'photos/2026/cat.jpg'),
      size: 1024,
      content: commit(SECRET, 'e3b0c442'),
    }
    const text = new TextDecoder().decode(encodeEvent(event))
    expect(text.startsWith('{"actor":{"accessKey":"')).toBe(true)
    expect(text).not.toMatch(/acme|photos|cat\.jpg|AKIA/)
    expect(text).toContain('"schema":1')
    expect(text).toContain('"type":"object.put"')
    expect(decodeEvent(encodeEvent(event))).toEqual(event)
  })

  it('encodes the same event to the same bytes whatever the property order', () => {
    const a: LedgerEvent = {
      schema: 1,
      type: 'dc.change',
      at: '2026-01-01T00:00:00.000Z',
      dc: 'directory',
      actor: { kind: 'operator', operator: 'ops-7', session: 's-1' },
      target: 'ap-south-1',
      change: 'status',
      jurisdiction: 'IN',
      status: 'active',
    }
    const b = Object.fromEntries(Object.entries(a).reverse()) as unknown as LedgerEvent
    expect(encodeEvent(b)).toEqual(encodeEvent(a))
  })

  it('decodeEvent() refuses unknown schemas and types', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
    expect(() => decodeEvent(enc({ schema: 2, type: 'object.put' }))).toThrow(/schema 2/)
    expect(() => decodeEvent(enc({ schema: 1, type: 'object.burn' }))).toThrow(/unknown/)
    expect(() => decodeEvent(enc([1]))).toThrow(SyntaxError)
  })

  it('documents every event type in src/ledger/README.md', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8')
    for (const type of LEDGER_EVENT_TYPES) expect(readme, type).toContain(`| \`${type}\` |`)
  })
})

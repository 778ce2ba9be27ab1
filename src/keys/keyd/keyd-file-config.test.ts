import { describe, expect, it } from 'vitest'
import { parseKeydFile } from './keyd-file-config.js'

const KEY = 'sovra.example/ledger/us-west-1+0a1b2c3d+AWZha2Uga2V5IGZvciB0ZXN0cyBvbmx5IDEyMzQ1Njc4'
const base = {
  stateDir: 'state',
  tokens: {
    admin: 'admin-token-0123456789',
    dataCenters: { 'us-west-1': 'usw1-token-0123456789' },
  },
  dataCenters: [{ ledgerKey: KEY }],
}
const secret = Buffer.alloc(16, 1).toString('base64')

describe('parseKeydFile()', () => {
  it('fills defaults: loopback:8200, mount transit, log-before-decrypt off; stateDir relative to the file', () => {
    const s = parseKeydFile(base, '/etc/sovra/keyd.json')
    expect(s.listen).toEqual({ host: '127.0.0.1', port: 8200 })
    expect(s.keyd.mount).toBe('transit')
    expect(s.keyd.stateFile).toBe('/etc/sovra/state/keys.json')
    expect(s.keyd.auditLogPath).toBe('/etc/sovra/state/audit.jsonl')
    expect(s.keyd.allowedDcs).toEqual(['us-west-1'])
    expect(s.ledgerKeys).toEqual({ 'us-west-1': KEY })
    expect(s.logBeforeDecrypt).toBeUndefined()
    expect(s.keyd.tokens).toEqual([
      { token: 'admin-token-0123456789', role: 'admin' },
      { token: 'usw1-token-0123456789', role: 'dc', dc: 'us-west-1' },
    ])
  })

  it('turns log-before-decrypt on with the secret and bound', () => {
    const s = parseKeydFile(
      {
        ...base,
        logBeforeDecrypt: { enabled: true, maxCheckpointAgeSeconds: 15, tenantSecret: secret },
      },
      '/k.json',
    )
    expect(s.logBeforeDecrypt?.maxCheckpointAgeSeconds).toBe(15)
    expect(s.logBeforeDecrypt?.tenantSecret).toEqual(new Uint8Array(16).fill(1))
    expect(s.logBeforeDecrypt?.ledgerKeys).toEqual({ 'us-west-1': KEY })
  })

  it.each([
    [{ ...base, extra: 1 }, /at "extra": unknown key/],
    [{ ...base, stateDir: undefined }, /at "stateDir"/],
    [
      { ...base, tokens: { ...base.tokens, admin: 'short' } },
      /at "tokens.admin": tokens must be at least 16/,
    ],
    [{ ...base, dataCenters: [{ ledgerKey: 'us-west-1' }] }, /at "dataCenters.0.ledgerKey"/],
    [{ ...base, dataCenters: [] }, /at "dataCenters"/],
    [
      { ...base, dataCenters: [{ ledgerKey: KEY }, { ledgerKey: KEY }] },
      /"us-west-1" is listed twice/,
    ],
    [{ ...base, logBeforeDecrypt: { enabled: true } }, /tenantSecret is required/],
    [{ ...base, logBeforeDecrypt: { enabled: true, tenantSecret: 'AAAA' } }, /at least 16 bytes/],
    [
      {
        ...base,
        logBeforeDecrypt: { enabled: true, tenantSecret: secret, maxCheckpointAgeSeconds: 0 },
      },
      /maxCheckpointAgeSeconds/,
    ],
    [{ ...base, listen: { port: 70000 } }, /at "listen.port"/],
  ])('refuses a bad file (%#)', (file, message) => {
    expect(() => parseKeydFile(file, '/k.json')).toThrow(message)
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isKeyError, type KeyErrorCode } from './key-error.js'
import { runKeyProviderContract } from './key-provider.contract.js'
import {
  checkSseCForRead,
  createSseCKeyProvider,
  matchesSseCFingerprint,
  parseSseCHeaders,
  type SseCKey,
  sseCFingerprint,
  sseCResponseHeaders,
} from './sse-c.js'

function headersFor(key: Buffer, overrides: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = {
    'x-amz-server-side-encryption-customer-algorithm': 'AES256',
    'x-amz-server-side-encryption-customer-key': key.toString('base64'),
    'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(key).digest('base64'),
    ...overrides,
  }
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >
}

function codeOf(fn: () => unknown): KeyErrorCode | string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return isKeyError(err) ? err.code : String(err)
  }
}

const shared = randomBytes(32)
const sharedKey = parseSseCHeaders(headersFor(shared), { secure: true }) as SseCKey
runKeyProviderContract({
  name: 'sse-c',
  open: async (dc) => createSseCKeyProvider(sharedKey, { dc }),
})

describe('parseSseCHeaders()', () => {
  const key = randomBytes(32)

  it('returns the validated key, or undefined when no SSE-C header is present', () => {
    const parsed = parseSseCHeaders(headersFor(key), { secure: true })
    expect(parsed?.key.equals(key)).toBe(true)
    expect(parseSseCHeaders({ host: 'x' }, { secure: true })).toBeUndefined()
    expect(sseCResponseHeaders(parsed as SseCKey)).toEqual({
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key-md5': createHash('md5')
        .update(key)
        .digest('base64'),
    })
  })

  it('reads the copy-source headers when asked', () => {
    const copy = Object.fromEntries(
      Object.entries(headersFor(key)).map(([k, v]) => [
        k.replace('x-amz-', 'x-amz-copy-source-'),
        v,
      ]),
    )
    expect(parseSseCHeaders(copy, { secure: true, copySource: true })?.key.equals(key)).toBe(true)
    expect(parseSseCHeaders(copy, { secure: true })).toBeUndefined()
  })

  it('refuses each malformed request with its own code and the header name', () => {
    const cases: Array<[Record<string, string | undefined>, KeyErrorCode]> = [
      [{ 'x-amz-server-side-encryption-customer-key-md5': undefined }, 'SseCHeadersIncomplete'],
      [{ 'x-amz-server-side-encryption-customer-algorithm': undefined }, 'SseCHeadersIncomplete'],
      [{ 'x-amz-server-side-encryption-customer-key': undefined }, 'SseCHeadersIncomplete'],
      [{ 'x-amz-server-side-encryption-customer-algorithm': 'aws:kms' }, 'SseCAlgorithmInvalid'],
      [{ 'x-amz-server-side-encryption-customer-algorithm': 'aes256' }, 'SseCAlgorithmInvalid'],
      [
        { 'x-amz-server-side-encryption-customer-key': randomBytes(16).toString('base64') },
        'SseCKeyInvalid',
      ],
      [{ 'x-amz-server-side-encryption-customer-key': 'not base64!' }, 'SseCKeyInvalid'],
      [
        {
          'x-amz-server-side-encryption-customer-key-md5': createHash('md5')
            .update('x')
            .digest('base64'),
        },
        'SseCKeyMd5Mismatch',
      ],
      [{ 'x-amz-server-side-encryption-customer-key-md5': 'garbage' }, 'SseCKeyMd5Mismatch'],
    ]
    for (const [overrides, code] of cases) {
      expect(codeOf(() => parseSseCHeaders(headersFor(key, overrides), { secure: true }))).toBe(
        code,
      )
    }
    try {
      parseSseCHeaders(
        headersFor(key, { 'x-amz-server-side-encryption-customer-key-md5': undefined }),
        { secure: true },
      )
    } catch (err) {
      expect((err as { details: Record<string, string> }).details.argumentName).toBe(
        'x-amz-server-side-encryption-customer-key-md5',
      )
    }
  })

  it('refuses SSE-C over an insecure connection', () => {
    expect(codeOf(() => parseSseCHeaders(headersFor(key), { secure: false }))).toBe(
      'SseCInsecureTransport',
    )
  })

  it('never puts the key into an error message', () => {
    const bad = headersFor(key, {
      'x-amz-server-side-encryption-customer-key-md5': 'AAAAAAAAAAAAAAAAAAAAAA==',
    })
    try {
      parseSseCHeaders(bad, { secure: true })
    } catch (err) {
      expect(
        JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details }),
      ).not.toContain(key.toString('base64'))
    }
  })
})

describe('SSE-C fingerprint and read check', () => {
  const right = parseSseCHeaders(headersFor(randomBytes(32)), { secure: true }) as SseCKey
  const wrong = parseSseCHeaders(headersFor(randomBytes(32)), { secure: true }) as SseCKey

  it('recognises the right key and only it; salts make two fingerprints of one key differ', () => {
    const fp = sseCFingerprint(right)
    expect(fp).toMatch(/^sse-c-hmac-v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/)
    expect(fp.includes(right.key.toString('base64url'))).toBe(false)
    expect(matchesSseCFingerprint(fp, right)).toBe(true)
    expect(matchesSseCFingerprint(fp, wrong)).toBe(false)
    expect(sseCFingerprint(right)).not.toBe(fp)
    expect(matchesSseCFingerprint('garbage', right)).toBe(false)
  })

  it('checkSseCForRead(): missing key, wrong key, key for a plain object, and the happy paths', () => {
    const fp = sseCFingerprint(right)
    expect(codeOf(() => checkSseCForRead(fp, undefined))).toBe('SseCKeyMissing')
    expect(codeOf(() => checkSseCForRead(fp, wrong))).toBe('SseCKeyMismatch')
    expect(codeOf(() => checkSseCForRead(undefined, right))).toBe('SseCNotApplicable')
    expect(codeOf(() => checkSseCForRead(fp, right))).toBe('no error')
    expect(codeOf(() => checkSseCForRead(undefined, undefined))).toBe('no error')
  })

  it("an SSE-C wrapped data key does not open with another customer's key", async () => {
    const ctx = { dc: 'us-west-1', bucket: 'b' }
    const wrapped = await createSseCKeyProvider(right, ctx).wrap(randomBytes(32), ctx)
    const err = await createSseCKeyProvider(wrong, ctx)
      .unwrap(wrapped, ctx)
      .catch((e: unknown) => e)
    expect(isKeyError(err, 'InvalidWrappedKey')).toBe(true)
  })
})

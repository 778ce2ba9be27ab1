import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isKeyError, type KeyErrorCode } from './key-error.js'
import type { KeyContext, KeyProvider } from './key-provider.js'

/** How a provider's test file plugs into the shared KeyProvider suite. */
export interface KeyProviderContractOptions {
  readonly name: string
  /**
   * Opens a provider acting for data center `dc`. Called for two data centers ('dc-a', 'dc-b');
   * the two must hold independent keys, as two real data centers would.
   */
  readonly open: (dc: string) => Promise<KeyProvider>
  /** Releases what `open` created (servers, temp folders), after the suite. */
  readonly cleanup?: () => Promise<void>
  /** Test names to skip, each with the reason. */
  readonly skip?: Readonly<Record<string, string>>
}

/** Codes a provider may use to refuse a key that is not valid for the context. */
const REFUSALS: readonly KeyErrorCode[] = ['InvalidWrappedKey', 'KeyAccessDenied', 'KeyNotFound']

async function refusal(promise: Promise<unknown>): Promise<KeyErrorCode> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isKeyError(err)) throw new Error(`Expected a KeyError refusal: got ${String(err)}`)
  return err.code
}

/** The behaviour every KeyProvider must show; call it from `<provider>.test.ts`. */
export function runKeyProviderContract(options: KeyProviderContractOptions): void {
  const skip = options.skip ?? {}
  const test = (name: string, fn: () => Promise<void>) =>
    skip[name] === undefined ? it(name, fn) : it.skip(`${name} (skipped: ${skip[name]})`, fn)

  describe(`KeyProvider contract: ${options.name}`, () => {
    let a: KeyProvider
    let b: KeyProvider
    const ctx: KeyContext = { dc: 'dc-a', bucket: 'photos' }

    beforeAll(async () => {
      a = await options.open('dc-a')
      b = await options.open('dc-b')
    })
    afterAll(async () => {
      await options.cleanup?.()
    })

    test('wrap() then unwrap() returns the data key', async () => {
      const dek = randomBytes(32)
      const wrapped = await a.wrap(dek, ctx)
      expect((await a.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
      // A second unwrap (possibly cached) still returns the same bytes.
      expect((await a.unwrap(wrapped, ctx)).equals(dek)).toBe(true)
    })

    test('a wrapped key is printable ASCII with the provider prefix and hides the data key', async () => {
      const dek = randomBytes(32)
      const wrapped = await a.wrap(dek, ctx)
      expect(wrapped.startsWith(`${a.name}:`)).toBe(true)
      expect(wrapped).toMatch(/^[\x21-\x7e]+$/)
      expect(wrapped.length).toBeLessThanOrEqual(2048)
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        expect(wrapped.includes(dek.toString(encoding))).toBe(false)
      }
      // Wrapping is randomized: the same key wrapped twice gives two different strings.
      expect(await a.wrap(dek, ctx)).not.toBe(wrapped)
    })

    test('unwrap() refuses the wrong bucket', async () => {
      const wrapped = await a.wrap(randomBytes(32), ctx)
      expect(REFUSALS).toContain(await refusal(a.unwrap(wrapped, { ...ctx, bucket: 'photos2' })))
    })

    test('unwrap() refuses a tampered wrapped key', async () => {
      const wrapped = await a.wrap(randomBytes(32), ctx)
      const positions = [wrapped.length - 1, wrapped.length - 10, Math.floor(wrapped.length / 2)]
      for (const pos of positions) {
        const ch = wrapped[pos] as string
        const flipped = `${wrapped.slice(0, pos)}${ch === 'A' ? 'B' : 'A'}${wrapped.slice(pos + 1)}`
        expect(REFUSALS).toContain(await refusal(a.unwrap(flipped, ctx)))
      }
      expect(REFUSALS).toContain(await refusal(a.unwrap(`${a.name}:garbage`, ctx)))
      expect(REFUSALS).toContain(await refusal(a.unwrap('other-provider:v1:abc', ctx)))
      expect(REFUSALS).toContain(await refusal(a.unwrap('', ctx)))
    })

    test("another data center's provider refuses a key wrapped in this one", async () => {
      const wrapped = await a.wrap(randomBytes(32), ctx)
      expect(REFUSALS).toContain(await refusal(b.unwrap(wrapped, { dc: 'dc-b', bucket: 'photos' })))
      expect(REFUSALS).toContain(await refusal(b.unwrap(wrapped, ctx)))
    })

    test('a key wrapped for another bucket of the same data center is refused', async () => {
      const other = await a.wrap(randomBytes(32), { ...ctx, bucket: 'other' })
      expect(REFUSALS).toContain(await refusal(a.unwrap(other, ctx)))
    })

    test('an aborted signal rejects with Aborted', async () => {
      const controller = new AbortController()
      controller.abort()
      expect(await refusal(a.wrap(randomBytes(32), ctx, controller.signal))).toBe('Aborted')
    })

    test('wrap() rejects a data key that is not 32 bytes', async () => {
      await expect(a.wrap(randomBytes(16), ctx)).rejects.toThrow(RangeError)
    })
  })
}

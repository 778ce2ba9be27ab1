import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobError, type BlobErrorCode } from './blob-error.js'
import type { BlobStore } from './blob-store.js'

/** How a driver's test file plugs into the shared BlobStore suite. */
export interface BlobStoreContractOptions {
  readonly name: string
  /** Opens the store kept at `location` (a fresh temp folder per test; the same folder reopens it). */
  readonly open: (location: string) => Promise<BlobStore>
  /** Counts temporary files the driver holds (for "no temp file left" checks). */
  readonly countTemp: (location: string) => Promise<number>
  /** Test names to skip, each with the reason. */
  readonly skip?: Readonly<Record<string, string>>
}

/** The behaviour every BlobStore driver must show; call it from `<driver>-blob-store.test.ts`. */
export function runBlobStoreContract(options: BlobStoreContractOptions): void {
  const skip = options.skip ?? {}
  const test = (name: string, fn: () => Promise<void>) =>
    skip[name] === undefined ? it(name, fn) : it.skip(`${name} (skipped: ${skip[name]})`, fn)

  describe(`BlobStore contract: ${options.name}`, () => {
    let location: string
    let store: BlobStore

    beforeEach(async () => {
      location = await mkdtemp(join(tmpdir(), 'sovra-blob-'))
      store = await options.open(location)
    })
    afterEach(async () => {
      await store.close()
      await rm(location, { recursive: true, force: true })
    })

    test('write() then commit() makes the bytes readable under the ref', async () => {
      const body = Buffer.from('hello, blob')
      const pending = await store.write(Readable.from([body.subarray(0, 5), body.subarray(5)]))
      expect(pending.size).toBe(body.length)
      expect(await options.countTemp(location)).toBe(1)
      await pending.commit()
      await pending.commit()
      expect(await options.countTemp(location)).toBe(0)
      expect(await collect(store.read(pending.ref))).toEqual(body)
    })

    test('write() accepts an async iterable and an empty source', async () => {
      async function* gen() {
        yield Buffer.from('ab')
        yield Buffer.from('cd')
      }
      const a = await store.write(gen())
      await a.commit()
      expect((await collect(store.read(a.ref))).toString()).toBe('abcd')
      const empty = await store.write(Readable.from([]))
      await empty.commit()
      expect(empty.size).toBe(0)
      expect(await collect(store.read(empty.ref))).toEqual(Buffer.alloc(0))
    })

    test('read() returns the inclusive range asked for', async () => {
      const body = Buffer.from('0123456789')
      const pending = await store.write(Readable.from([body]))
      await pending.commit()
      expect((await collect(store.read(pending.ref, { start: 2, end: 5 }))).toString()).toBe('2345')
      expect((await collect(store.read(pending.ref, { start: 9, end: 9 }))).toString()).toBe('9')
      expect((await collect(store.read(pending.ref, { start: 0, end: 0 }))).toString()).toBe('0')
    })

    test('read() of a missing or uncommitted ref errors with NotFound', async () => {
      await expectCode(collect(store.read('0123456789abcdef0123456789abcdef')), 'NotFound')
      await expectCode(collect(store.read('../../etc/passwd')), 'NotFound')
      const pending = await store.write(Readable.from([Buffer.from('x')]))
      await expectCode(collect(store.read(pending.ref)), 'NotFound')
      await pending.discard()
    })

    test('discard() removes the temp file, may repeat, and blocks commit()', async () => {
      const pending = await store.write(Readable.from([Buffer.from('x')]))
      await pending.discard()
      await pending.discard()
      expect(await options.countTemp(location)).toBe(0)
      await expectCode(pending.commit(), 'NotFound')
    })

    test('an abort mid-stream rejects with Aborted and leaves no temp file', async () => {
      const controller = new AbortController()
      async function* slow() {
        yield Buffer.alloc(1024)
        controller.abort()
        await new Promise((resolve) => setTimeout(resolve, 10))
        yield Buffer.alloc(1024)
      }
      await expectCode(store.write(slow(), { signal: controller.signal }), 'Aborted')
      expect(await options.countTemp(location)).toBe(0)
      await expectCode(
        store.write(Readable.from([Buffer.from('x')]), { signal: controller.signal }),
        'Aborted',
      )
      expect(await options.countTemp(location)).toBe(0)
    })

    test('a failing source rejects with SourceFailed and leaves no temp file', async () => {
      async function* broken() {
        yield Buffer.alloc(1024)
        throw new Error('client went away')
      }
      const err = await expectCode(store.write(broken()), 'SourceFailed')
      expect((err.cause as Error).message).toBe('client went away')
      expect(await options.countTemp(location)).toBe(0)
    })

    test('remove() deletes committed blobs and ignores missing ones', async () => {
      const pending = await store.write(Readable.from([Buffer.from('x')]))
      await pending.commit()
      await store.remove([pending.ref, 'ffffffffffffffffffffffffffffffff', 'bogus'])
      await expectCode(collect(store.read(pending.ref)), 'NotFound')
    })

    test('sweep() removes temp files and unreferenced blobs only', async () => {
      const live = await store.write(Readable.from([Buffer.from('live')]))
      await live.commit()
      const dead = await store.write(Readable.from([Buffer.from('dead')]))
      await dead.commit()
      await store.write(Readable.from([Buffer.from('crash before commit')]))
      await store.close()
      store = await options.open(location)
      const swept = await store.sweep(async (ref) => ref === live.ref)
      expect(swept).toEqual({ temp: 1, orphans: 1 })
      expect(await options.countTemp(location)).toBe(0)
      expect((await collect(store.read(live.ref))).toString()).toBe('live')
      await expectCode(collect(store.read(dead.ref)), 'NotFound')
    })

    test('a 20 MiB stream round-trips chunk by chunk without buffering', async () => {
      const chunk = 64 * 1024
      const count = 320
      async function* big() {
        for (let i = 0; i < count; i++) yield Buffer.alloc(chunk, i % 251)
      }
      const pending = await store.write(big())
      expect(pending.size).toBe(chunk * count)
      await pending.commit()
      let offset = 0
      let largest = 0
      for await (const piece of store.read(pending.ref) as AsyncIterable<Buffer>) {
        largest = Math.max(largest, piece.length)
        for (const at of [0, piece.length - 1]) {
          expect(piece[at]).toBe(Math.floor((offset + at) / chunk) % 251)
        }
        offset += piece.length
      }
      expect(offset).toBe(chunk * count)
      expect(largest).toBeLessThanOrEqual(1024 * 1024)
      const tail = await collect(
        store.read(pending.ref, { start: chunk * count - 3, end: chunk * count - 1 }),
      )
      expect([...tail]).toEqual([(count - 1) % 251, (count - 1) % 251, (count - 1) % 251])
    })

    test('write() with a check: the check reads the stored bytes while the write streams, and the write waits for it', async () => {
      const half = patterned(1024 * 1024, 1)
      const rest = patterned(1024 * 1024 + 7, 2)
      let release: () => void = () => {}
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      const order: string[] = []
      async function* source() {
        yield half
        // Held until the check has seen stored bytes: a check that ran only after the write
        // would never see any, and this test would time out.
        await released
        yield rest
      }
      let seen: Buffer | null = null
      const pending = await store.write(source(), {
        check: async (stored, ref) => {
          expect(ref).toMatch(/^[0-9a-f]{32}$/)
          const chunks: Buffer[] = []
          for await (const chunk of stored as AsyncIterable<Buffer>) {
            chunks.push(chunk)
            release()
          }
          seen = Buffer.concat(chunks)
          order.push('check')
        },
      })
      order.push('write')
      expect(order).toEqual(['check', 'write'])
      const all = Buffer.concat([half, rest])
      expect(pending.size).toBe(all.length)
      expect(sha256(seen ?? Buffer.alloc(0))).toBe(sha256(all))
      await pending.commit()
      expect(sha256(await collect(store.read(pending.ref)))).toBe(sha256(all))
    })

    test('write() with a check of an empty source: the check sees no bytes and the write resolves', async () => {
      let seen = -1
      const pending = await store.write(Readable.from([]), {
        check: async (stored) => {
          seen = (await collect(stored)).length
        },
      })
      expect(seen).toBe(0)
      expect(pending.size).toBe(0)
      await pending.discard()
    })

    test('a check that rejects stops the write: write() rejects with its error as is and leaves no temp file', async () => {
      let yielded = 0
      async function* endless() {
        for (let i = 0; i < 4096; i++) {
          yielded++
          yield patterned(64 * 1024, i)
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      const wrong = new Error('the stored bytes are wrong')
      const err = await store
        .write(endless(), {
          check: async (stored) => {
            for await (const _ of stored) throw wrong
          },
        })
        .then(
          () => null,
          (e: unknown) => e,
        )
      expect(err).toBe(wrong)
      expect(yielded).toBeLessThan(4096)
      expect(await options.countTemp(location)).toBe(0)
    })

    test("a failing write errors the check's stream with the write's error; write() rejects with it", async () => {
      async function* broken() {
        yield patterned(512 * 1024, 3)
        throw new Error('client went away')
      }
      let checkSaw: unknown = null
      const err = await expectCode(
        store.write(broken(), {
          check: async (stored) => {
            try {
              await collect(stored)
            } catch (e) {
              checkSaw = e
              throw e
            }
          },
        }),
        'SourceFailed',
      )
      expect((err.cause as Error).message).toBe('client went away')
      expect(checkSaw).toMatchObject({ code: 'SourceFailed' })
      expect(await options.countTemp(location)).toBe(0)
    })

    test('a check that resolves before reading every byte fails the write with WriteFailed', async () => {
      await expectCode(
        store.write(Readable.from([patterned(1024 * 1024, 4)]), { check: async () => {} }),
        'WriteFailed',
      )
      expect(await options.countTemp(location)).toBe(0)
    })

    test('concurrent writes get distinct refs', async () => {
      const pendings = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.write(Readable.from([Buffer.from(`n${i}`)]))),
      )
      await Promise.all(pendings.map((p) => p.commit()))
      expect(new Set(pendings.map((p) => p.ref)).size).toBe(50)
      expect((await collect(store.read(pendings[42]?.ref ?? ''))).toString()).toBe('n42')
    })
  })
}

/** `size` bytes that differ from one offset (and one `seed`) to the next. */
function patterned(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff
  return bytes
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function expectCode(promise: Promise<unknown>, code: BlobErrorCode): Promise<BlobError> {
  const err = await promise.then(
    () => {
      throw new Error(`Expected a BlobError "${code}": the call succeeded`)
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(BlobError)
  expect((err as BlobError).code).toBe(code)
  return err as BlobError
}

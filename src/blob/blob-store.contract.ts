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

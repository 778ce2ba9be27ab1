import { describe, expect, it } from 'vitest'
import { utf8Bytes } from '../encoding.js'
import { LedgerError } from '../ledger-error.js'
import type { LedgerStorage } from './ledger-storage.js'

/** A place a driver keeps one log; `open` may be called again to simulate a restart. */
export interface LedgerStoragePlace {
  open(): Promise<LedgerStorage>
  cleanup(): Promise<void>
}

/** The behaviour every LedgerStorage driver must have (STYLE habit 22). */
export function runLedgerStorageContract(options: {
  name: string
  place: () => Promise<LedgerStoragePlace>
  /** Case names to skip, each with a written reason. */
  skip?: Readonly<Record<string, string>>
}): void {
  const cases: Record<string, () => Promise<void>> = {}
  const withPlace = (fn: (place: LedgerStoragePlace) => Promise<void>) => async () => {
    const place = await options.place()
    try {
      await fn(place)
    } finally {
      await place.cleanup()
    }
  }
  const e = (text: string) => utf8Bytes(text)
  const decode = (entries: Uint8Array[]) => entries.map((x) => new TextDecoder().decode(x))

  cases['a new log is empty'] = withPlace(async (place) => {
    const s = await place.open()
    expect(s.sequencedSize()).toBe(0)
    expect(await s.readTreeState()).toBeUndefined()
    expect(await s.readCheckpoint()).toBeUndefined()
    expect(await s.readTile(0, 0, 1)).toBeUndefined()
    expect(await s.readEntryBundle(0, 1)).toBeUndefined()
    await s.close()
  })

  cases['sequence() assigns contiguous indices, also to concurrent batches'] = withPlace(
    async (place) => {
      const s = await place.open()
      expect(await s.sequence([e('a'), e('b')])).toBe(0)
      const firsts = await Promise.all([
        s.sequence([e('c')]),
        s.sequence([e('d'), e('e')]),
        s.sequence([e('f')]),
      ])
      expect(firsts).toEqual([2, 3, 5])
      expect(s.sequencedSize()).toBe(6)
      expect(decode(await s.readSequenced(0, 100))).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
      expect(decode(await s.readSequenced(3, 2))).toEqual(['d', 'e'])
      await s.close()
    },
  )

  cases['sequenced entries survive a crash (reopen without close)'] = withPlace(async (place) => {
    const s = await place.open()
    await s.sequence([e('one'), e('two')])
    await s.sequence([e('three')])
    const again = await place.open()
    expect(again.sequencedSize()).toBe(3)
    expect(decode(await again.readSequenced(0, 10))).toEqual(['one', 'two', 'three'])
    await again.close()
  })

  cases['commitIntegration() publishes tiles, bundles and state, and forgets covered entries'] =
    withPlace(async (place) => {
      const s = await place.open()
      await s.sequence([e('a'), e('b')])
      await s.sequence([e('c')])
      const tile = new Uint8Array(64).fill(7)
      const bundle = new Uint8Array([0, 1, 97, 0, 1, 98])
      await s.commitIntegration({
        tiles: new Map([['tile/0/000.p/2', tile]]),
        bundles: new Map([['tile/entries/000.p/2', bundle]]),
        state: { size: 2, root: new Uint8Array(32).fill(9) },
      })
      expect(await s.readTile(0, 0, 2)).toEqual(tile)
      expect(await s.readEntryBundle(0, 2)).toEqual(bundle)
      expect((await s.readTreeState())?.size).toBe(2)
      expect(decode(await s.readSequenced(2, 10))).toEqual(['c'])
      await expect(s.readSequenced(0, 10)).rejects.toBeInstanceOf(LedgerError)
      const again = await place.open()
      expect(again.sequencedSize()).toBe(3)
      expect((await again.readTreeState())?.root).toEqual(new Uint8Array(32).fill(9))
      expect(decode(await again.readSequenced(2, 10))).toEqual(['c'])
      await again.close()
    })

  cases['writeCheckpoint() replaces the checkpoint'] = withPlace(async (place) => {
    const s = await place.open()
    await s.writeCheckpoint('origin\n0\nabc=\n\n— origin AAAA\n')
    await s.writeCheckpoint('origin\n1\nabc=\n\n— origin BBBB\n')
    expect(await s.readCheckpoint()).toBe('origin\n1\nabc=\n\n— origin BBBB\n')
    await s.close()
  })

  cases['I/O with an aborted signal rejects with LedgerError "Aborted"'] = withPlace(
    async (place) => {
      const s = await place.open()
      const signal = AbortSignal.abort()
      await expect(s.sequence([e('x')], { signal })).rejects.toMatchObject({ code: 'Aborted' })
      await expect(s.readTile(0, 0, 1, { signal })).rejects.toMatchObject({ code: 'Aborted' })
      await expect(s.readCheckpoint({ signal })).rejects.toMatchObject({ code: 'Aborted' })
      expect(s.sequencedSize()).toBe(0)
      await s.close()
    },
  )

  cases['a closed storage rejects with LedgerError "Closed"'] = withPlace(async (place) => {
    const s = await place.open()
    await s.close()
    await expect(s.sequence([e('x')])).rejects.toMatchObject({ code: 'Closed' })
  })

  describe(`LedgerStorage contract: ${options.name}`, () => {
    for (const [name, fn] of Object.entries(cases)) {
      const reason = options.skip?.[name]
      if (reason !== undefined) it.skip(`${name} (skipped: ${reason})`, fn)
      else it(name, fn)
    }
  })
}

import { randomBytes } from 'node:crypto'

/**
 * Object version ids: 30 characters of `0-9a-v` (base 32 in ASCII order), URL-safe and opaque to
 * clients. The first 10 are the creation time in milliseconds and the next 4 a per-process
 * counter, so ids made in one process sort by creation; the last 16 are random (80 bits), so ids
 * made anywhere are unique. The store orders versions itself and never relies on this.
 */
const VERSION_ID = /^[0-9a-v]{30}$/

let counter = 0

/** A fresh version id made at `now` (milliseconds since the epoch). */
export function newVersionId(now: number): string {
  counter = (counter + 1) % 32 ** 4
  const random = randomBytes(10)
  let tail = ''
  // 80 random bits as 16 base-32 digits, 5 bits each.
  let bits = 0
  let value = 0
  for (const byte of random) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      tail += ((value >> bits) & 31).toString(32)
    }
    value &= (1 << bits) - 1
  }
  return (
    Math.max(0, Math.trunc(now)).toString(32).padStart(10, '0').slice(-10) +
    counter.toString(32).padStart(4, '0') +
    tail
  )
}

/** Whether `id` is a version id this store could have made, or `null` (the null version). */
export function isVersionId(id: string): boolean {
  return id === 'null' || VERSION_ID.test(id)
}

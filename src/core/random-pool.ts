import { randomBytes, randomFillSync } from 'node:crypto'

/**
 * Small draws from the CSPRNG (a data key, a nonce), taken from a pool that one `randomFillSync`
 * refills 4 KiB at a time. Every `crypto.randomBytes` call costs a system call here (OpenSSL
 * checks the process id on each draw: ~7 µs on the benchmark VM, three times per small PUT),
 * while a 4 KiB fill costs about as much as one small draw. The bytes are the same CSPRNG's
 * output; each is handed out once and zeroed in the pool as it is taken, so a key drawn from it
 * lives only in the caller's buffer. Node's own `crypto.randomUUID` keeps a pool the same way.
 *
 * The pool is per thread (each worker loads its own copy of this module) and never shared.
 */

/** Bytes fetched per refill. */
const POOL_SIZE = 4096

/** Draws larger than this go to `crypto.randomBytes` directly. */
export const RANDOM_POOL_MAX_DRAW = 256

let pool: Buffer | undefined
let offset = POOL_SIZE

/**
 * `size` fresh random bytes from the CSPRNG, as `crypto.randomBytes(size)` returns them: a buffer
 * of its own (not a slice of the pool or of Node's shared allocation pool), which the caller may
 * zero when done.
 */
export function randomBytesPooled(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`Cannot draw random bytes: the size "${size}" is not a whole number`)
  }
  if (size > RANDOM_POOL_MAX_DRAW) return randomBytes(size)
  if (pool === undefined) pool = Buffer.allocUnsafeSlow(POOL_SIZE)
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const out = Buffer.allocUnsafeSlow(size)
  pool.copy(out, 0, offset, offset + size)
  pool.fill(0, offset, offset + size)
  offset += size
  return out
}

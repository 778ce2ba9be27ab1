/**
 * CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones), the checksum
 * S3 calls CRC64NVME. Kept as two 32-bit halves with slice-by-8 tables so no BigInt is on the hot path.
 */
const POLY_HI = 0x9a6c9329
const POLY_LO = 0xac4bc9b5

const TABLES_HI: Uint32Array[] = []
const TABLES_LO: Uint32Array[] = []
{
  const hi0 = new Uint32Array(256)
  const lo0 = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let hi = 0
    let lo = i
    for (let bit = 0; bit < 8; bit++) {
      const lsb = lo & 1
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0
      hi = hi >>> 1
      if (lsb) {
        hi = (hi ^ POLY_HI) >>> 0
        lo = (lo ^ POLY_LO) >>> 0
      }
    }
    hi0[i] = hi
    lo0[i] = lo
  }
  TABLES_HI.push(hi0)
  TABLES_LO.push(lo0)
  for (let t = 1; t < 8; t++) {
    const prevHi = TABLES_HI[t - 1] as Uint32Array
    const prevLo = TABLES_LO[t - 1] as Uint32Array
    const hi = new Uint32Array(256)
    const lo = new Uint32Array(256)
    for (let i = 0; i < 256; i++) {
      const h = prevHi[i] as number
      const l = prevLo[i] as number
      const idx = l & 0xff
      lo[i] = (((l >>> 8) | (h << 24)) ^ (lo0[idx] as number)) >>> 0
      hi[i] = ((h >>> 8) ^ (hi0[idx] as number)) >>> 0
    }
    TABLES_HI.push(hi)
    TABLES_LO.push(lo)
  }
}

/** Incremental CRC-64/NVME. */
export class Crc64Nvme {
  #hi = 0xffffffff
  #lo = 0xffffffff

  /** Feeds bytes. */
  update(data: Uint8Array): this {
    let hi = this.#hi
    let lo = this.#lo
    const [t0h, t1h, t2h, t3h, t4h, t5h, t6h, t7h] = TABLES_HI as [
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
    ]
    const [t0l, t1l, t2l, t3l, t4l, t5l, t6l, t7l] = TABLES_LO as [
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
    ]
    let i = 0
    const n = data.length
    for (; i + 8 <= n; i += 8) {
      const a =
        (lo ^
          ((data[i] as number) |
            ((data[i + 1] as number) << 8) |
            ((data[i + 2] as number) << 16) |
            ((data[i + 3] as number) << 24))) >>>
        0
      const b =
        (hi ^
          ((data[i + 4] as number) |
            ((data[i + 5] as number) << 8) |
            ((data[i + 6] as number) << 16) |
            ((data[i + 7] as number) << 24))) >>>
        0
      lo =
        ((t7l[a & 0xff] as number) ^
          (t6l[(a >>> 8) & 0xff] as number) ^
          (t5l[(a >>> 16) & 0xff] as number) ^
          (t4l[a >>> 24] as number) ^
          (t3l[b & 0xff] as number) ^
          (t2l[(b >>> 8) & 0xff] as number) ^
          (t1l[(b >>> 16) & 0xff] as number) ^
          (t0l[b >>> 24] as number)) >>>
        0
      hi =
        ((t7h[a & 0xff] as number) ^
          (t6h[(a >>> 8) & 0xff] as number) ^
          (t5h[(a >>> 16) & 0xff] as number) ^
          (t4h[a >>> 24] as number) ^
          (t3h[b & 0xff] as number) ^
          (t2h[(b >>> 8) & 0xff] as number) ^
          (t1h[(b >>> 16) & 0xff] as number) ^
          (t0h[b >>> 24] as number)) >>>
        0
    }
    for (; i < n; i++) {
      const idx = (lo ^ (data[i] as number)) & 0xff
      lo = (((lo >>> 8) | (hi << 24)) ^ (t0l[idx] as number)) >>> 0
      hi = ((hi >>> 8) ^ (t0h[idx] as number)) >>> 0
    }
    this.#hi = hi
    this.#lo = lo
    return this
  }

  /** The final 8 bytes, big-endian (the order S3 base64-encodes). */
  digest(): Buffer {
    const out = Buffer.alloc(8)
    out.writeUInt32BE((this.#hi ^ 0xffffffff) >>> 0, 0)
    out.writeUInt32BE((this.#lo ^ 0xffffffff) >>> 0, 4)
    return out
  }
}

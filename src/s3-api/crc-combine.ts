/**
 * CRC combination: the CRC of `A || B` from `crc(A)`, `crc(B)` and the length of `B`, without the
 * bytes. This is how a FULL_OBJECT multipart checksum is made from its parts' CRCs. It is zlib's
 * `crc32_combine` generalised to any reflected CRC whose init and xorout are both all ones
 * (CRC-32, CRC-32C and CRC-64/NVME): `crc(A || B) = crc(A) · x^(8·|B|) mod P  ⊕  crc(B)`, the
 * pre- and post-conditioning cancelling out. Powers `x^(2^k) mod P` are tabled once per
 * polynomial; a part length costs at most 64 multiplications, and equal lengths are computed once.
 */

/** The CRCs that combine (the algorithms S3 allows for FULL_OBJECT multipart checksums). */
export type CombinableCrc = 'CRC32' | 'CRC32C' | 'CRC64NVME'

interface Polynomial {
  /** Width in bits (32 or 64). */
  readonly width: number
  /** The reflected polynomial. */
  readonly poly: bigint
  /** `x^(2^k) mod P` for k = 0 … 63. */
  readonly powers: readonly bigint[]
}

const REFLECTED: Record<CombinableCrc, { width: number; poly: bigint }> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
}

/** Whether an algorithm's checksums can be combined into a full-object checksum. */
export function isCombinableCrc(algorithm: string): algorithm is CombinableCrc {
  return Object.hasOwn(REFLECTED, algorithm)
}

/** `a · b mod P`, both in reflected form (the top bit is x^0). */
function multiply(a: bigint, b: bigint, p: Polynomial): bigint {
  let m = 1n << BigInt(p.width - 1)
  let product = 0n
  let x = a
  let y = b
  while (m !== 0n) {
    if ((x & m) !== 0n) {
      product ^= y
      x ^= m
      if (x === 0n) break
    }
    m >>= 1n
    y = (y & 1n) !== 0n ? (y >> 1n) ^ p.poly : y >> 1n
  }
  return product
}

const POLYNOMIALS = new Map<CombinableCrc, Polynomial>()

function polynomialOf(algorithm: CombinableCrc): Polynomial {
  let p = POLYNOMIALS.get(algorithm)
  if (p === undefined) {
    const { width, poly } = REFLECTED[algorithm]
    const powers: bigint[] = []
    const draft: Polynomial = { width, poly, powers }
    // x^1 in reflected form is the second-highest bit.
    let power = 1n << BigInt(width - 2)
    for (let k = 0; k < 64; k++) {
      powers.push(power)
      power = multiply(power, power, draft)
    }
    p = draft
    POLYNOMIALS.set(algorithm, p)
  }
  return p
}

/** `x^(8·bytes) mod P`. */
function shiftFor(bytes: number, p: Polynomial): bigint {
  let result = 1n << BigInt(p.width - 1) // x^0
  let n = BigInt(bytes)
  let k = 3 // one byte is x^(2^3)
  while (n !== 0n) {
    if ((n & 1n) !== 0n) result = multiply(p.powers[k] as bigint, result, p)
    n >>= 1n
    k++
  }
  return result
}

function toBigInt(digest: Buffer): bigint {
  return BigInt(`0x${digest.toString('hex')}`)
}

function toDigest(value: bigint, width: number): Buffer {
  return Buffer.from(value.toString(16).padStart(width / 4, '0'), 'hex')
}

/**
 * The CRC of the concatenation of parts, from each part's CRC (big-endian digest bytes, as S3
 * base64-encodes them) and length. An empty list gives the CRC of no bytes (zero).
 */
export function combineCrcs(
  algorithm: CombinableCrc,
  parts: readonly { readonly crc: Buffer; readonly size: number }[],
): Buffer {
  const p = polynomialOf(algorithm)
  const shifts = new Map<number, bigint>()
  let crc = 0n
  for (const part of parts) {
    if (part.crc.length !== p.width / 8) {
      throw new Error(`A ${algorithm} digest has ${p.width / 8} bytes, not ${part.crc.length}`)
    }
    let shift = shifts.get(part.size)
    if (shift === undefined) {
      shift = shiftFor(part.size, p)
      shifts.set(part.size, shift)
    }
    crc = multiply(shift, crc, p) ^ toBigInt(part.crc)
  }
  return toDigest(crc, p.width)
}

import { pipeline } from 'node:stream/promises'
import type { AuthenticateOptions, PayloadDecoder } from './sigv4-types.js'

/** The access key id of the AWS documentation examples. */
export const AKID = 'AKIAIOSFODNN7EXAMPLE'
/** The secret of the AWS documentation examples. */
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
/** 2013-05-24T00:00:00Z, the time of the AWS documentation examples. */
export const DOC_NOW = Date.UTC(2013, 4, 24)

/** Authenticate options that know only the documentation key. */
export function docOptions(overrides: Partial<AuthenticateOptions> = {}): AuthenticateOptions {
  return {
    lookup: async (id) => (id === AKID ? { secretAccessKey: SECRET } : null),
    regions: ['us-east-1'],
    now: DOC_NOW,
    maxSkewMs: 15 * 60_000,
    ...overrides,
  }
}

/** Feed `pieces` through `decoder` one write each and collect what comes out. */
export async function decodeAll(
  decoder: PayloadDecoder,
  pieces: readonly Buffer[],
): Promise<Buffer> {
  const out: Buffer[] = []
  await pipeline(
    async function* () {
      yield* pieces
    },
    decoder,
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk)
    },
  )
  return Buffer.concat(out)
}

/** Split `buf` at random points (seeded, so failures reproduce). */
export function randomSplits(buf: Buffer, seed: number, maxPiece = 97): Buffer[] {
  let state = seed >>> 0 || 1
  const next = (): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
  const pieces: Buffer[] = []
  let i = 0
  while (i < buf.length) {
    const n = 1 + Math.floor(next() * maxPiece)
    pieces.push(buf.subarray(i, i + n))
    i += n
  }
  return pieces
}

/** Every byte as its own piece. */
export function byteByByte(buf: Buffer): Buffer[] {
  return Array.from(buf, (_b, i) => buf.subarray(i, i + 1))
}

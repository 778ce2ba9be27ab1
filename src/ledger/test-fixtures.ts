import { readFileSync } from 'node:fs'

/** `<repo>/../shared/testdata/tlog/`: the public vectors sit beside the repository. */
const VECTORS = new URL('../../../shared/testdata/tlog/', import.meta.url)

/** Parses one vector file of shared/testdata/tlog (tests only). */
export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8')) as T
}

/** Hex to bytes for vectors; tolerates the odd-length junk some negative probes carry. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}

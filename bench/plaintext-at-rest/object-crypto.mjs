// Bench only (see ./register.mjs): the cell's storage seam without the envelope. Writes go to the
// blob store (or the metadata row, inline) exactly as received, with no wrapped key, which is how
// objects stored before encryption at rest look; reads of such objects come straight from the
// blob store. Anything else (an object that does carry a wrapped key) goes to the real module.
import { Readable } from 'node:stream'

const real = await import(new URL(import.meta.url).searchParams.get('real'))

process.stderr.write('bench: plaintext at rest (cell/object-crypto.js replaced, bench only)\n')

/** Same signature as the real encryptingWrite; the data is stored as it came. */
export async function encryptingWrite(cell, source, options) {
  if (options.inline) {
    const chunks = []
    for await (const chunk of source) chunks.push(chunk)
    return { kind: 'inline', bytes: Buffer.concat(chunks), wrappedKey: undefined }
  }
  const pending = await cell.blob.write(
    source,
    options.signal === undefined ? {} : { signal: options.signal },
  )
  return { kind: 'pending', pending, wrappedKey: undefined }
}

/** Same signature as the real decryptingRead; plaintext objects are served as stored. */
export async function decryptingRead(cell, record, options) {
  const { data } = record
  const range = options.range ?? undefined
  if (record.size === 0) return Readable.from([])
  if (data.kind === 'inline' && data.wrappedKey === undefined) {
    const { start, end } = range ?? { start: 0, end: record.size - 1 }
    return Readable.from([data.bytes.subarray(start, end + 1)])
  }
  if (data.kind === 'blobs' && data.parts.length === 1 && data.parts[0].wrappedKey === undefined) {
    return cell.blob.read(data.parts[0].ref, range)
  }
  return real.decryptingRead(cell, record, options)
}

/** The real one: an inline object without a wrapped key is already served as stored. */
export const decryptingReadInline = real.decryptingReadInline

/** The real one: a plaintext object (no wrapped key) is digested as decryptingRead serves it. */
export const digestingRead = real.digestingRead

/** The real one: null for a plaintext object (no wrapped key), so it is copied as plaintext. */
export const sealedRead = real.sealedRead

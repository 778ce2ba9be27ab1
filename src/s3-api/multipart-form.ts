import { Readable } from 'node:stream'
import { S3Error } from './s3-error.js'

/**
 * A streaming reader of `multipart/form-data` (RFC 7578) for browser uploads (POST Object). The
 * fields before the file are read whole, bounded by `maxPreData` bytes; the file part (the field
 * named `file`, which AWS requires to be the last one that counts) is handed out as a stream that
 * ends at its closing boundary, so an object is never held in memory. Whatever follows the file
 * is ignored, as AWS ignores it.
 */

/** AWS's limit on the bytes of a POST body that precede the file. */
export const MAX_POST_PRE_DATA = 20 * 1024

/** The fields of a form, by lower-case name, and its file part. */
export interface PostForm {
  /** Field values by lower-case name (form field names are case-insensitive in S3). */
  readonly fields: ReadonlyMap<string, string>
  readonly file: {
    /** The `filename` parameter of the file part ('' when absent). */
    readonly filename: string
    /** The file's bytes, ending at its boundary; a truncated body errors with `MalformedPOSTRequest`. */
    readonly stream: Readable
  }
}

/** The malformed-body error AWS answers for anything that is not multipart/form-data. */
export function malformedPost(reason?: string): S3Error {
  return new S3Error(
    'MalformedPOSTRequest',
    'The body of your POST request is not well-formed multipart/form-data.',
    reason === undefined ? undefined : { Reason: reason },
  )
}

function preDataTooLarge(): S3Error {
  return new S3Error(
    'MaxPostPreDataLengthExceeded',
    'Your POST request fields preceding the upload file were too large.',
  )
}

/**
 * The boundary of a `multipart/form-data` Content-Type, or null when the type is another one.
 * A form type without a usable boundary is malformed.
 */
export function boundaryOf(contentType: string | undefined): string | null {
  if (contentType === undefined) return null
  const [type = '', ...params] = splitParams(contentType)
  if (type.trim().toLowerCase() !== 'multipart/form-data') return null
  const boundary = paramValue(params, 'boundary')
  // RFC 2046: 1 to 70 characters.
  if (boundary === undefined || boundary.length < 1 || boundary.length > 70) {
    throw malformedPost('missing or invalid boundary')
  }
  return boundary
}

/** Splits a header value on `;` outside quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string
    if (quoted && c === '\\' && i + 1 < value.length) {
      current += c + (value[i + 1] as string)
      i++
    } else if (c === '"') {
      quoted = !quoted
      current += c
    } else if (c === ';' && !quoted) {
      out.push(current)
      current = ''
    } else current += c
  }
  out.push(current)
  return out
}

/** A parameter's value (quotes and backslash escapes removed); names compare case-insensitively. */
function paramValue(params: readonly string[], name: string): string | undefined {
  for (const p of params) {
    const eq = p.indexOf('=')
    if (eq === -1 || p.slice(0, eq).trim().toLowerCase() !== name) continue
    const raw = p.slice(eq + 1).trim()
    if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
      return raw.slice(1, -1).replace(/\\(.)/g, '$1')
    }
    return raw
  }
  return undefined
}

const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')

/** Pulls chunks from a source into one growing buffer. */
class Puller {
  buf: Buffer = Buffer.alloc(0)
  readonly #it: AsyncIterator<unknown>
  done = false

  constructor(source: AsyncIterable<unknown>) {
    this.#it = source[Symbol.asyncIterator]()
  }

  /** Appends the next chunk; false at the end of the source. */
  async more(): Promise<boolean> {
    if (this.done) return false
    const next = await this.#it.next()
    if (next.done === true) {
      this.done = true
      return false
    }
    const chunk = next.value as Buffer
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    return true
  }
}

/**
 * Reads a form from `source` up to and including the start of its `file` part. `maxPreData`
 * bounds everything before the file bytes (`MaxPostPreDataLengthExceeded`); a body without a
 * `file` part gets `IncorrectNumberOfFilesInPostRequest`, a field sent twice or a broken body
 * `MalformedPOSTRequest`.
 */
export async function readPostForm(
  source: AsyncIterable<unknown>,
  boundary: string,
  maxPreData = MAX_POST_PRE_DATA,
): Promise<PostForm> {
  const puller = new Puller(source)
  // The delimiter is CRLF "--" boundary; the first one may start the body without the CRLF.
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  let consumed = 0
  const take = (n: number): Buffer => {
    const out = puller.buf.subarray(0, n)
    puller.buf = puller.buf.subarray(n)
    consumed += n
    if (consumed > maxPreData) throw preDataTooLarge()
    return out
  }
  /** Waits until `needle` is in the buffer; returns its index, or -1 at the end of the body. */
  const find = async (needle: Buffer, from = 0): Promise<number> => {
    for (;;) {
      const i = puller.buf.indexOf(needle, from)
      if (i !== -1) return i
      if (consumed + puller.buf.length > maxPreData + needle.length) throw preDataTooLarge()
      if (!(await puller.more())) return -1
    }
  }
  // Preamble: treat the body as if it began with CRLF so a leading delimiter is found too.
  puller.buf = Buffer.concat([CRLF, puller.buf])
  consumed = -2
  const first = await find(delimiter)
  if (first === -1) throw malformedPost('no boundary')
  take(first + delimiter.length)
  const fields = new Map<string, string>()
  for (;;) {
    // After a delimiter: "--" closes the body, else optional padding then CRLF.
    const eol = await find(CRLF)
    if (eol === -1) throw malformedPost('truncated')
    const after = take(eol + 2).toString('latin1')
    if (after.startsWith('--')) break
    if (after.trim() !== '') throw malformedPost('junk after boundary')
    while (puller.buf.length < 2 && (await puller.more()));
    // A part must name itself: an empty header block cannot.
    if (puller.buf.subarray(0, 2).equals(CRLF)) throw malformedPost('part without headers')
    const headerEnd = await find(HEADER_END)
    if (headerEnd === -1) throw malformedPost('truncated part headers')
    const headerText = take(headerEnd + 4)
      .subarray(0, headerEnd)
      .toString('utf8')
    const part = parsePartHeaders(headerText)
    if (part.name === 'file') {
      return {
        fields,
        file: { filename: part.filename ?? '', stream: fileStream(puller, delimiter) },
      }
    }
    const end = await find(delimiter)
    if (end === -1) throw malformedPost('truncated field')
    const value = take(end).toString('utf8')
    take(delimiter.length)
    if (fields.has(part.name)) throw malformedPost(`field "${part.name}" sent twice`)
    fields.set(part.name, value)
  }
  throw new S3Error(
    'IncorrectNumberOfFilesInPostRequest',
    'POST requires exactly one file upload per request.',
  )
}

/** The lower-case field name and the filename of a part's headers. */
function parsePartHeaders(text: string): { name: string; filename: string | undefined } {
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue
    const [kind = '', ...params] = splitParams(line.slice(colon + 1))
    if (kind.trim().toLowerCase() !== 'form-data') throw malformedPost('not form-data')
    const name = paramValue(params, 'name')
    if (name === undefined) throw malformedPost('part without a name')
    return { name: name.toLowerCase(), filename: paramValue(params, 'filename') }
  }
  throw malformedPost('part without Content-Disposition')
}

/** The file's bytes up to the next delimiter; the rest of the body is read and dropped. */
function fileStream(puller: Puller, delimiter: Buffer): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    for (;;) {
      const i = puller.buf.indexOf(delimiter)
      if (i !== -1) {
        if (i > 0) yield puller.buf.subarray(0, i)
        puller.buf = Buffer.alloc(0)
        // Fields after the file are ignored (as AWS does); the body is drained, not parsed.
        while (await puller.more()) puller.buf = Buffer.alloc(0)
        return
      }
      // Keep a tail that could be the start of a delimiter split across chunks.
      const keep = Math.min(puller.buf.length, delimiter.length - 1)
      const ready = puller.buf.length - keep
      if (ready > 0) {
        const out = puller.buf.subarray(0, ready)
        puller.buf = puller.buf.subarray(ready)
        yield out
      }
      if (!(await puller.more())) throw malformedPost('the file part has no closing boundary')
    }
  }
  return Readable.from(bytes(), { objectMode: false })
}

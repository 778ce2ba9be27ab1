import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { boundaryOf, readPostForm } from './multipart-form.js'

const B = '----sovraBoundary7MA4YWxk'

/** A form body: fields, then the file, then (ignored) fields after it. */
function form(
  fields: Array<[string, string]>,
  file: Buffer | null,
  after: Array<[string, string]> = [],
): Buffer {
  const parts: Buffer[] = []
  const field = ([name, value]: [string, string]) =>
    parts.push(
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    )
  fields.forEach(field)
  if (file !== null) {
    parts.push(
      Buffer.from(
        `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".txt"\r\nContent-Type: text/plain\r\n\r\n`,
      ),
      file,
      Buffer.from('\r\n'),
    )
  }
  after.forEach(field)
  parts.push(Buffer.from(`--${B}--\r\n`))
  return Buffer.concat(parts)
}

/** Feeds `body` in chunks of `size` bytes (1 splits every boundary in every possible place). */
async function* chunks(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size)
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of stream) out.push(c as Buffer)
  return Buffer.concat(out)
}

describe('boundaryOf()', () => {
  it('reads quoted and bare boundaries of multipart/form-data, null for other types', () => {
    expect(boundaryOf(`multipart/form-data; boundary=${B}`)).toBe(B)
    expect(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a;b c"')).toBe('a;b c')
    expect(boundaryOf('application/x-www-form-urlencoded')).toBeNull()
    expect(boundaryOf(undefined)).toBeNull()
    expect(() => boundaryOf('multipart/form-data')).toThrow(
      expect.objectContaining({ code: 'MalformedPOSTRequest' }),
    )
  })
})

describe('readPostForm()', () => {
  const file = Buffer.concat([
    randomBytes(5000),
    // Bytes that look like the start of a delimiter must stay in the file.
    Buffer.from(`\r\n--${B.slice(0, 10)}\r\n--`),
    randomBytes(3000),
  ])
  const body = form(
    [
      ['key', 'uploads/$name'],
      ['X-Amz-Meta-Note', 'héllo\r\nsecond line'],
      ['empty', ''],
    ],
    file,
    [['after', 'ignored']],
  )

  for (const size of [1, 2, 7, 64, 4096, body.length]) {
    it(`parses fields and streams the file byte-identical in ${size}-byte chunks`, async () => {
      const got = await readPostForm(chunks(body, size), B)
      expect(Object.fromEntries(got.fields)).toEqual({
        key: 'uploads/$name',
        'x-amz-meta-note': 'héllo\r\nsecond line',
        empty: '',
      })
      expect(got.file.filename).toBe('a "b".txt')
      expect((await readAll(got.file.stream)).equals(file)).toBe(true)
    })
  }

  it('accepts a preamble before the first boundary and an empty file', async () => {
    const got = await readPostForm(
      chunks(
        Buffer.concat([Buffer.from('preamble text\r\n'), form([['k', 'v']], Buffer.alloc(0))]),
        3,
      ),
      B,
    )
    expect(got.fields.get('k')).toBe('v')
    expect((await readAll(got.file.stream)).length).toBe(0)
  })

  it('refuses a body without a file part: IncorrectNumberOfFilesInPostRequest', async () => {
    await expect(readPostForm(chunks(form([['key', 'k']], null), 5), B)).rejects.toMatchObject({
      code: 'IncorrectNumberOfFilesInPostRequest',
    })
  })

  it('refuses fields before the file over the pre-data limit: MaxPostPreDataLengthExceeded', async () => {
    const big = form([['x-amz-meta-big', 'a'.repeat(30_000)]], Buffer.from('x'))
    await expect(readPostForm(chunks(big, 1000), B)).rejects.toMatchObject({
      code: 'MaxPostPreDataLengthExceeded',
    })
    // A small limit is honoured too, whatever the chunking.
    await expect(readPostForm(chunks(body, 1), B, 40)).rejects.toMatchObject({
      code: 'MaxPostPreDataLengthExceeded',
    })
  })

  it('refuses malformed bodies with MalformedPOSTRequest', async () => {
    const cases = [
      'no boundary at all',
      `--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nvalue-without-end`,
      `--${B}\r\nContent-Type: text/plain\r\n\r\nv\r\n--${B}--\r\n`,
      `--${B}\r\nContent-Disposition: attachment; name="key"\r\n\r\nv\r\n--${B}--\r\n`,
      `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${B}\r\nContent-Disposition: form-data; name="A"\r\n\r\n2\r\n--${B}--\r\n`,
      `--${B}junk\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${B}--\r\n`,
    ]
    for (const text of cases) {
      await expect(readPostForm(chunks(Buffer.from(text), 4), B)).rejects.toMatchObject({
        code: 'MalformedPOSTRequest',
      })
    }
  })

  it('fails the file stream when the body ends before the closing boundary', async () => {
    const cut = body.subarray(0, body.length - 100)
    const got = await readPostForm(chunks(cut, 512), B)
    await expect(readAll(got.file.stream)).rejects.toMatchObject({ code: 'MalformedPOSTRequest' })
  })
})

// STYLE.md habit 14: every public error code is documented, and this test keeps docs/errors.md in
// sync with the code lists and with THE mapping in src/s3-api/errors.ts.
import { describe, expect, it } from 'vitest'
import { SIGV4_ERROR_CODES } from '../../src/access/index.js'
import { BLOB_ERROR_CODES } from '../../src/blob/index.js'
import { CONFIG_ERROR_CODES } from '../../src/config/index.js'
import { SovraError } from '../../src/core/index.js'
import { DIRECTORY_ERROR_CODES } from '../../src/directory/index.js'
import { KEY_ERROR_CODES } from '../../src/keys/index.js'
import { LEDGER_ERROR_CODES } from '../../src/ledger/index.js'
import { META_ERROR_CODES } from '../../src/meta/index.js'
import { RESIDENCY_ERROR_CODES } from '../../src/residency/index.js'
import { allS3ErrorCodes, toS3Error } from '../../src/s3-api/index.js'
import { codesIn, readDoc, sections, tableRows } from './sources.js'

const doc = readDoc('errors.md')

/** The table rows of the section whose heading contains `marker`; fails if there is none. */
function rowsOf(marker: string): string[][] {
  const section = sections(doc).find((s) => s.heading.includes(marker))
  if (section === undefined) throw new Error(`docs/errors.md has no section headed "…${marker}…"`)
  return tableRows(section.body)
}

/** Documented rows by the code in their first cell. */
function byCode(rows: string[][]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const row of rows) for (const code of codesIn(row[0] ?? '')) out.set(code, row)
  return out
}

/** The wire code and status the S3 face sends for a domain error, as `toS3Error` maps it. */
function wireOf(domain: string, code: string): { code: string; status: number } {
  const wire = toS3Error(new SovraError(domain, code, 'probe'))
  return { code: wire.code, status: wire.status }
}

describe('docs/errors.md', () => {
  it('lists every S3 error code the server can send, with its HTTP status', () => {
    const documented = byCode(rowsOf('S3 error codes'))
    const missing = allS3ErrorCodes().filter((code) => !documented.has(code))
    expect(missing, 'S3 codes missing from the "S3 error codes" table').toEqual([])

    // The status column must match what the face really sends for that code.
    const statuses = new Map<string, Set<number>>([['PermanentRedirect', new Set([301])]])
    const record = (w: { code: string; status: number }) => {
      const set = statuses.get(w.code) ?? new Set<number>()
      set.add(w.status)
      statuses.set(w.code, set)
    }
    for (const code of allS3ErrorCodes()) {
      const w = wireOf('s3', code)
      if (w.code === code) record(w)
    }
    const domains: Array<[string, readonly string[]]> = [
      ['meta', META_ERROR_CODES],
      ['sigv4', SIGV4_ERROR_CODES],
      ['directory', DIRECTORY_ERROR_CODES],
      ['blob', BLOB_ERROR_CODES],
      ['ledger', LEDGER_ERROR_CODES],
      ['keys', KEY_ERROR_CODES],
      ['residency', RESIDENCY_ERROR_CODES],
    ]
    for (const [domain, codes] of domains) for (const code of codes) record(wireOf(domain, code))
    const wrong: string[] = []
    for (const code of allS3ErrorCodes()) {
      const row = documented.get(code)
      const expected = statuses.get(code)
      if (row === undefined || expected === undefined) continue
      const shown = (row[1] ?? '').match(/\d{3}/g)?.map(Number) ?? []
      const want = [...expected].sort()
      if (shown.sort().join() !== want.join())
        wrong.push(`${code}: docs say ${shown} but Sovra sends ${want}`)
    }
    expect(wrong, 'HTTP status column out of date').toEqual([])
  })

  it('documents no S3 code the server cannot send', () => {
    const sent = new Set(allS3ErrorCodes())
    const extra = [...byCode(rowsOf('S3 error codes')).keys()].filter((code) => !sent.has(code))
    expect(
      extra,
      'codes documented in "S3 error codes" that allS3ErrorCodes() does not list',
    ).toEqual([])
  })

  const mapped: Array<[string, string, readonly string[]]> = [
    ['meta', '(`meta`)', META_ERROR_CODES],
    ['sigv4', '(`sigv4`)', SIGV4_ERROR_CODES],
    ['directory', '(`directory`)', DIRECTORY_ERROR_CODES],
    ['blob', '(`blob`)', BLOB_ERROR_CODES],
    ['ledger', '(`ledger`)', LEDGER_ERROR_CODES],
    ['keys', '(`keys`)', KEY_ERROR_CODES],
    ['residency', '(`residency`)', RESIDENCY_ERROR_CODES],
  ]

  it.each(mapped)('lists every %s code with the S3 error it maps to', (domain, marker, codes) => {
    const documented = byCode(rowsOf(marker))
    const missing = codes.filter((code) => !documented.has(code))
    expect(missing, `${domain} codes missing from docs/errors.md`).toEqual([])
    const stale = [...documented.keys()].filter((code) => !codes.includes(code))
    expect(stale, `${domain} codes documented but no longer in the code list`).toEqual([])
    const wrong: string[] = []
    for (const code of codes) {
      const row = documented.get(code) as string[]
      const s3Cell = row[row.length - 1] ?? ''
      const w = wireOf(domain, code)
      if (!codesIn(s3Cell).includes(w.code) || !s3Cell.includes(String(w.status))) {
        wrong.push(`${code}: docs say "${s3Cell}" but it maps to ${w.code} ${w.status}`)
      }
    }
    expect(wrong, `${domain}: the S3 column must match src/s3-api/errors.ts`).toEqual([])
  })

  it('lists every config code', () => {
    const documented = byCode(rowsOf('(`config`)'))
    const missing = CONFIG_ERROR_CODES.filter((code) => !documented.has(code))
    expect(missing, 'config codes missing from docs/errors.md').toEqual([])
    const stale = [...documented.keys()].filter(
      (code) => !(CONFIG_ERROR_CODES as readonly string[]).includes(code),
    )
    expect(stale, 'config codes documented but no longer in CONFIG_ERROR_CODES').toEqual([])
  })
})

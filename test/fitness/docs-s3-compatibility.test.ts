// STYLE.md habit 14: docs/s3-compatibility.md is an honest operation-by-operation matrix. Every
// operation the router turns into an S3Request must be documented as Supported or Partial, and
// the page may claim no operation the router does not handle.
import { describe, expect, it } from 'vitest'
import { PERMISSIONS } from '../../src/s3-api/index.js'
import { codesIn, readDoc, sections, tableRows } from './sources.js'

const STATUSES = ['Supported', 'Partial', 'Not supported'] as const

/** The rows of the "Operations" section: operation name → status. */
function documentedOperations(): Map<string, string[]> {
  const operations = sections(readDoc('s3-compatibility.md')).find(
    (s) => s.heading === 'Operations',
  )
  if (operations === undefined) throw new Error('docs/s3-compatibility.md has no "## Operations"')
  const out = new Map<string, string[]>()
  for (const row of tableRows(operations.body)) {
    const [name] = codesIn(row[0] ?? '')
    if (name === undefined) continue
    out.set(name, [...(out.get(name) ?? []), row[1] ?? ''])
  }
  return out
}

describe('docs/s3-compatibility.md', () => {
  const documented = documentedOperations()
  const recognised = Object.keys(PERMISSIONS)

  it('marks every operation the router handles as Supported or Partial', () => {
    const wrong = recognised.filter((op) => {
      const status = documented.get(op)
      return status?.length !== 1 || !['Supported', 'Partial'].includes(status[0] as string)
    })
    expect(wrong, 'operations missing, repeated, or not marked Supported/Partial').toEqual([])
  })

  it('claims no operation the router does not handle', () => {
    const claimed = [...documented]
      .filter(([, status]) => status.some((s) => s === 'Supported' || s === 'Partial'))
      .map(([op]) => op)
    expect(claimed.filter((op) => !recognised.includes(op))).toEqual([])
  })

  it('gives every operation exactly one row and a known status', () => {
    const bad = [...documented].filter(
      ([, status]) =>
        status.length !== 1 || !(STATUSES as readonly string[]).includes(status[0] as string),
    )
    expect(bad).toEqual([])
    // The matrix covers the whole S3 API (about 110 operations), not only what works.
    expect(documented.size).toBeGreaterThan(100)
  })
})

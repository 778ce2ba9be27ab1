import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ResidencyError } from '../transfer/residency-error.js'
import { checkExport, createExportRules, loadExportRules } from './export-rules.js'

/** The jurisdictions of the embedded default topology (DESIGN.md). */
const DEFAULT_CATALOG_JURISDICTIONS = ['AE', 'CN', 'IN', 'JP', 'SG', 'US']

const rules = loadExportRules()

/** A minimal valid rule to vary in tests. */
function rule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    jurisdiction: 'XX',
    name: 'Test',
    requiresLegalBasis: true,
    acceptedBasisKinds: [{ kind: 'XX-contract', description: 'A contract', sources: ['S1'] }],
    restrictedDestinations: [],
    notes: [],
    sources: [
      { id: 'S1', urls: ['https://example.org/law'], cites: 'Art. 1', confidence: 'verified' },
    ],
    ...overrides,
  }
}

function invalid(documents: Array<{ file: string; content: unknown }>): string {
  try {
    createExportRules(documents)
  } catch (err) {
    expect(err).toBeInstanceOf(ResidencyError)
    expect((err as ResidencyError).code).toBe('ExportRulesInvalid')
    return (err as ResidencyError).message
  }
  throw new Error('createExportRules() accepted the documents')
}

describe('the shipped export rules', () => {
  it('load, validate, and cover every jurisdiction of the default catalog', () => {
    expect(rules.jurisdictions()).toEqual(DEFAULT_CATALOG_JURISDICTIONS)
  })

  it('cite at least one source in every rule that restricts anything', () => {
    for (const j of rules.jurisdictions()) {
      const r = rules.ruleFor(j)
      expect(r?.sources.length, j).toBeGreaterThan(0)
    }
  })

  it.each([
    ['CN', 'SG', 'basis'],
    ['CN', 'US', 'basis'],
    ['SG', 'JP', 'basis'],
    ['JP', 'US', 'basis'],
    ['AE', 'SG', 'basis'],
    ['US', 'CN', 'free'],
    ['IN', 'US', 'free'],
    ['US', 'US', 'domestic'],
    ['DE', 'US', 'no-rule'],
  ])('exportRequirement("%s", "%s") is "%s"', (from, to, kind) => {
    expect(rules.exportRequirement(from, to).kind).toBe(kind)
  })

  it('accept the three PIPL Art. 38 mechanisms for an export out of CN', () => {
    expect(rules.exportRequirement('CN', 'SG')).toEqual({
      kind: 'basis',
      from: 'CN',
      to: 'SG',
      acceptedKinds: [
        'CN-PIPL-security-assessment',
        'CN-PIPL-certification',
        'CN-PIPL-standard-contract',
      ],
    })
  })
})

describe('checkExport()', () => {
  it('refuses a missing basis, an unaccepted kind, a restricted destination and a missing rule', () => {
    const basis = rules.exportRequirement('CN', 'US')
    expect(checkExport(basis, undefined)?.code).toBe('ExportBasisRequired')
    expect(checkExport(basis, { kind: 'CN-PIPL-other', reference: 'x' })?.code).toBe(
      'ExportBasisNotAccepted',
    )
    expect(checkExport(basis, { kind: 'CN-PIPL-certification', reference: 'x' })).toBeNull()
    expect(checkExport({ kind: 'restricted', from: 'IN', to: 'XX' }, undefined)?.code).toBe(
      'ExportDestinationRestricted',
    )
    expect(checkExport({ kind: 'no-rule', from: 'DE', to: 'US' }, undefined)?.code).toBe(
      'ExportRuleMissing',
    )
  })

  it('accepts a basis stated where none is required', () => {
    expect(
      checkExport(rules.exportRequirement('US', 'SG'), { kind: 'US-anything', reference: 'x' }),
    ).toBeNull()
  })
})

describe('createExportRules()', () => {
  it('restricts a listed destination whatever the basis', () => {
    const book = createExportRules([
      {
        file: 'xx.json',
        content: rule({ restrictedDestinations: [{ jurisdiction: 'YY', sources: ['S1'] }] }),
      },
    ])
    expect(book.exportRequirement('XX', 'YY').kind).toBe('restricted')
    expect(book.exportRequirement('XX', 'ZZ').kind).toBe('basis')
  })

  it.each<[string, Array<{ file: string; content: unknown }>, string]>([
    [
      'an unknown field',
      [{ file: 'xx.json', content: rule({ extra: 1 }) }],
      'Invalid export rule "xx.json": "(root)" unrecognized key: "extra"',
    ],
    [
      'a wrong version',
      [{ file: 'xx.json', content: rule({ version: 2 }) }],
      'Invalid export rule "xx.json": "version" ',
    ],
    [
      'a file named for another jurisdiction',
      [{ file: 'yy.json', content: rule() }],
      'Invalid export rule "yy.json": a rule for "XX" must be named "xx.json"',
    ],
    [
      'a duplicate jurisdiction',
      [
        { file: 'xx.json', content: rule() },
        { file: 'dir/xx.json', content: rule() },
      ],
      'Invalid export rule "dir/xx.json": "XX" has more than one rule',
    ],
    [
      'an uncited source',
      [{ file: 'xx.json', content: rule({ sources: [] }) }],
      'Invalid export rule "xx.json": source "S1" is cited but not listed in "sources"',
    ],
    [
      'a required basis with no kinds',
      [{ file: 'xx.json', content: rule({ acceptedBasisKinds: [] }) }],
      '"acceptedBasisKinds" is empty but "requiresLegalBasis" is true: no export could pass',
    ],
    [
      'a kind of another jurisdiction',
      [
        {
          file: 'xx.json',
          content: rule({
            acceptedBasisKinds: [{ kind: 'CN-x', description: 'd', sources: ['S1'] }],
          }),
        },
      ],
      'basis kind "CN-x" must start with "XX-"',
    ],
    [
      'a basis kind without sources',
      [
        {
          file: 'xx.json',
          content: rule({ acceptedBasisKinds: [{ kind: 'XX-a', description: 'd', sources: [] }] }),
        },
      ],
      '"acceptedBasisKinds.0.sources" must cite at least one source',
    ],
    [
      'a source without a URL',
      [
        {
          file: 'xx.json',
          content: rule({
            sources: [{ id: 'S1', urls: ['not a url'], cites: 'x', confidence: 'verified' }],
          }),
        },
      ],
      '"sources.0.urls.0" ',
    ],
  ])('refuses %s with ExportRulesInvalid', (_name, documents, message) => {
    expect(invalid(documents)).toContain(message)
  })
})

describe('loadExportRules()', () => {
  let dir: string | undefined
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('reads every *.json file of a folder and names the file that is not JSON', () => {
    const folder = mkdtempSync(join(tmpdir(), 'sovra-export-rules-'))
    dir = folder
    writeFileSync(join(folder, 'xx.json'), JSON.stringify(rule()))
    writeFileSync(join(folder, 'README.md'), '# not a rule')
    expect(loadExportRules({ dir: folder }).jurisdictions()).toEqual(['XX'])
    writeFileSync(join(folder, 'yy.json'), '{')
    expect(() => loadExportRules({ dir: folder })).toThrow(
      `Invalid export rule "${join(folder, 'yy.json')}": cannot read it as JSON`,
    )
  })
})

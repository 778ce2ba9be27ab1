// docs/ledger.md documents every ledger event type and every field it carries: the log is public
// and permanent, so what each entry says must be written down. The types come from
// LEDGER_EVENT_TYPES; the fields from the event interfaces in src/ledger/events.ts (read from
// the syntax tree, inherited fields included).
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { LEDGER_EVENT_TYPES } from '../../src/ledger/index.js'
import { codesIn, readDoc, sections, sourcesUnder, tableRows } from './sources.js'

const doc = readDoc('ledger.md')
const BASE_FIELDS = ['schema', 'type', 'at', 'dc', 'actor']

/** The `### \`type\`` sections under "Event types", by type. */
function documentedTypes(): Map<string, string> {
  const out = new Map<string, string>()
  for (const s of sections(doc)) {
    const m = /^`([a-z]+\.[a-z-]+)`$/.exec(s.heading.trim())
    if (m !== null) out.set(m[1] as string, s.body)
  }
  return out
}

/** Field names (optional ones with their `?`) listed in the first cell of a section's table. */
function fieldsIn(body: string): Set<string> {
  return new Set(tableRows(body).flatMap((row) => codesIn(row[0] ?? '')))
}

/** Every event interface of events.ts: its `type` literal and all its fields, inherited too. */
function eventInterfaces(): Map<string, string[]> {
  const source = sourcesUnder('src/ledger').find((s) => s.path === 'src/ledger/events.ts')
  if (source === undefined) throw new Error('src/ledger/events.ts not found')
  const interfaces = new Map<string, ts.InterfaceDeclaration>()
  for (const statement of source.ast.statements) {
    if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement)
  }
  const fieldsOf = (decl: ts.InterfaceDeclaration): string[] => {
    const inherited = (decl.heritageClauses ?? []).flatMap((clause) =>
      clause.types.flatMap((t) => {
        const parent = interfaces.get(t.expression.getText(source.ast))
        return parent === undefined ? [] : fieldsOf(parent)
      }),
    )
    const own = decl.members.flatMap((m) =>
      ts.isPropertySignature(m)
        ? [`${m.name.getText(source.ast)}${m.questionToken ? '?' : ''}`]
        : [],
    )
    return [...inherited, ...own]
  }
  const out = new Map<string, string[]>()
  for (const decl of interfaces.values()) {
    const typeMember = decl.members.find(
      (m) => ts.isPropertySignature(m) && m.name.getText(source.ast) === 'type',
    ) as ts.PropertySignature | undefined
    const literal = typeMember?.type
    if (
      literal !== undefined &&
      ts.isLiteralTypeNode(literal) &&
      ts.isStringLiteral(literal.literal)
    ) {
      out.set(literal.literal.text, fieldsOf(decl))
    }
  }
  return out
}

describe('docs/ledger.md', () => {
  const documented = documentedTypes()

  it('has a section for every event type in LEDGER_EVENT_TYPES, and none for unknown types', () => {
    const missing = LEDGER_EVENT_TYPES.filter((t) => !documented.has(t))
    expect(missing, 'event types without a "### `type`" section in docs/ledger.md').toEqual([])
    const stale = [...documented.keys()].filter(
      (t) => !(LEDGER_EVENT_TYPES as readonly string[]).includes(t),
    )
    expect(stale, 'docs/ledger.md documents event types the code does not have').toEqual([])
  })

  it('lists every field of every event type (optional ones marked `?`)', () => {
    const interfaces = eventInterfaces()
    expect([...interfaces.keys()].sort()).toEqual([...LEDGER_EVENT_TYPES].sort())
    const common = fieldsIn(
      sections(doc)
        .find((s) => s.heading.trim() === 'Event types')
        ?.body.split('\n### ')[0] ?? '',
    )
    const undocumented: string[] = []
    for (const [type, fields] of interfaces) {
      const listed = fieldsIn(documented.get(type) ?? '')
      for (const field of fields) {
        const documentedHere = BASE_FIELDS.includes(field) ? common.has(field) : listed.has(field)
        if (!documentedHere) undocumented.push(`${type}: ${field}`)
      }
    }
    expect(undocumented, 'fields missing from docs/ledger.md (with `?` when optional)').toEqual([])
  })

  it('documents the public endpoints and both read modes', () => {
    for (const text of [
      '/admin/v1/ledger/keys',
      '/ledger/<dc>/checkpoint',
      '/ledger/<dc>/tile/<L>/<N>',
      '/ledger/<dc>/tile/entries/<N>',
      'ledger.reads: sync',
      'SOVRA_LEDGER_READS=sync',
      'sovra ledger verify',
    ]) {
      expect(doc).toContain(text)
    }
  })
})

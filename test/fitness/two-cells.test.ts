// DESIGN.md: "Only residency/transfer/ may hold two cells at once." Two checks keep it so:
// 1. dependency-cruiser's `cells-only-in-transfer-gate` rule: in the promises layer, only
//    residency/transfer/ imports cell/ (faces get exactly one cell from main.ts);
// 2. this syntax-tree check: outside the composition root (main.ts and data-centers.ts, which
//    build and serve every cell) and residency/transfer/, no
//    production type can hold more than one cell: no collection of `Cell`, no function returning
//    a `Cell` (a `cellOf` lookup), no interface, object type or parameter list with two `Cell`s.
// Both are shown to fail on a deliberate violation.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { eachNode, isTestFile, ROOT, type Source, sourcesUnder, where } from './sources.js'

const COLLECTIONS = new Set([
  'Map',
  'ReadonlyMap',
  'Set',
  'ReadonlySet',
  'Array',
  'ReadonlyArray',
  'Record',
  'Iterable',
])

const isCell = (node: ts.Node): boolean =>
  ts.isTypeReferenceNode(node) && node.typeName.getText() === 'Cell'

/** Places in `source` where a type could hold more than one cell. */
function holdersOfManyCells(source: Source): string[] {
  const found: string[] = []
  eachNode(source.ast, (node) => {
    if (isCell(node)) {
      // Climb through unions and parentheses (`Cell | undefined`) to the type that uses it.
      let user: ts.Node = node.parent
      while (ts.isUnionTypeNode(user) || ts.isParenthesizedTypeNode(user)) user = user.parent
      if (ts.isArrayTypeNode(user)) found.push(where(source, node))
      if (ts.isTypeReferenceNode(user) && COLLECTIONS.has(user.typeName.getText())) {
        found.push(where(source, node))
      }
      if (ts.isFunctionTypeNode(user) || ts.isMethodSignature(user)) {
        if (user.type !== undefined && user.type.pos <= node.pos && node.end <= user.type.end) {
          found.push(where(source, node))
        }
      }
    }
    const members =
      ts.isInterfaceDeclaration(node) || ts.isTypeLiteralNode(node)
        ? node.members.map((m) => (ts.isPropertySignature(m) ? m.type : undefined))
        : ts.isFunctionLike(node)
          ? node.parameters.map((p) => p.type)
          : null
    if (members !== null) {
      const cells = members.filter((t) => t !== undefined && isCell(t))
      if (cells.length >= 2) found.push(where(source, node))
    }
  })
  return found
}

describe('only the transfer gate holds two cells', () => {
  const allowed = (path: string) =>
    path === 'src/main.ts' ||
    path === 'src/data-centers.ts' ||
    path.startsWith('src/residency/transfer/')

  it('no production type outside main.ts and residency/transfer/ can hold more than one cell', () => {
    const production = sourcesUnder('src').filter((s) => !isTestFile(s.path) && !allowed(s.path))
    expect(production.flatMap(holdersOfManyCells)).toEqual([])
  })

  it('the check catches deliberate violations (and accepts one cell)', () => {
    const parse = (text: string): Source => ({
      path: 'src/s3-api/bad.ts',
      ast: ts.createSourceFile('bad.ts', text, ts.ScriptTarget.Latest, true),
    })
    const violations = [
      'interface A { cells: Map<string, Cell> }',
      'interface B { all: readonly Cell[] }',
      'interface C { cellOf: (id: string) => Cell | undefined }',
      'interface D { source: Cell; destination: Cell }',
      'function copy(from: Cell, to: Cell) {}',
      'type E = { lookup(id: string): Cell }',
    ]
    for (const text of violations) expect(holdersOfManyCells(parse(text)), text).not.toEqual([])
    expect(holdersOfManyCells(parse('interface Ok { cell: Cell; other: string }'))).toEqual([])
  })

  it('dependency-cruiser refuses a residency module outside transfer/ that imports cell/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sovra-depcruise-'))
    try {
      const file = (path: string, text: string) => {
        mkdirSync(join(dir, path, '..'), { recursive: true })
        writeFileSync(join(dir, path), text)
      }
      copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
      copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'))
      file('src/cell/index.ts', 'export interface Cell { id: string }\n')
      file(
        'src/residency/transfer/index.ts',
        "import type { Cell } from '../../cell/index.js'\nexport type Two = [Cell, Cell]\n",
      )
      file(
        'src/residency/index.ts',
        "export * from './transfer/index.js'\nexport * from './placement.js'\n",
      )
      // The deliberate violation: a residency module that is not the transfer gate reaches cells.
      file(
        'src/residency/placement.ts',
        "import type { Cell } from '../cell/index.js'\nexport type Sneaky = Cell\n",
      )
      const run = () =>
        execFileSync(
          process.execPath,
          [
            join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
            'src',
            '--config',
            '.dependency-cruiser.cjs',
          ],
          {
            cwd: dir,
            encoding: 'utf8',
            stdio: 'pipe',
          },
        )
      let output = ''
      try {
        run()
      } catch (err) {
        output = String((err as { stdout?: string }).stdout)
      }
      expect(output).toContain('cells-only-in-transfer-gate')
      expect(output).toContain('src/residency/placement.ts')
      // Without the violation the same tree passes.
      file('src/residency/placement.ts', 'export type Fine = string\n')
      expect(run()).toContain('no dependency violations')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

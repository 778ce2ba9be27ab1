// Architectural promises too narrow for dependency-cruiser (STYLE.md habits 2, 4 and 24, and the
// Tests section's skip policy). Each test reads the syntax tree, so comments and strings that
// merely mention a name never count.
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { eachNode, isTestFile, type Source, sourcesUnder, where } from './sources.js'

const all = sourcesUnder('src', 'test', 'bench')
/** Production code: what ships in dist/. Tests, contract suites and fixtures are exempt. */
const production = all.filter((s) => s.path.startsWith('src/') && !isTestFile(s.path))
const tests = all.filter((s) => isTestFile(s.path))

/** `a.b.c` → `['a', 'b', 'c']` for a chain of property accesses on an identifier; else null. */
function accessChain(node: ts.Expression): string[] | null {
  if (ts.isIdentifier(node)) return [node.text]
  if (ts.isPropertyAccessExpression(node)) {
    const left = accessChain(node.expression)
    return left === null ? null : [...left, node.name.text]
  }
  if (ts.isCallExpression(node)) return accessChain(node.expression)
  return null
}

describe('only the composition root and the transfer gate build cells', () => {
  // "No module outside residency/transfer opens two cells" (habit 24): a cell is built only by
  // the composition root (src/data-centers.ts, one per data center, started and stopped at run
  // time) and by the transfer gate, which alone may hold two.
  const allowed = (path: string) =>
    path === 'src/data-centers.ts' || path.startsWith('src/residency/transfer/')

  it('calls createCell() only from src/data-centers.ts and src/residency/transfer/', () => {
    const offenders: string[] = []
    for (const source of production) {
      if (allowed(source.path)) continue
      eachNode(source.ast, (node) => {
        if (ts.isCallExpression(node)) {
          const chain = accessChain(node.expression)
          if (chain?.[chain.length - 1] === 'createCell') offenders.push(where(source, node))
        }
        // An aliased import (`import { createCell as open }`) is the same door.
        if (ts.isImportSpecifier(node) && (node.propertyName ?? node.name).text === 'createCell') {
          offenders.push(where(source, node))
        }
      })
    }
    // The definition itself lives in src/cell/ and calls nothing.
    expect(offenders).toEqual([])
  })
})

describe('tests', () => {
  const TEST_ROOTS = new Set(['it', 'test', 'describe', 'suite', 'bench'])

  it('leave no .only() behind', () => {
    const offenders: string[] = []
    for (const source of tests) {
      eachNode(source.ast, (node) => {
        if (!ts.isPropertyAccessExpression(node) || node.name.text !== 'only') return
        const chain = accessChain(node.expression)
        if (chain !== null && TEST_ROOTS.has(chain[0] as string))
          offenders.push(where(source, node))
      })
    }
    expect(offenders).toEqual([])
  })

  it('skip only with a reason: a comment on the line above, or "(skipped: <reason>)" in the title', () => {
    const offenders: string[] = []
    for (const source of tests) {
      const lines = source.ast.text.split('\n')
      eachNode(source.ast, (node) => {
        if (!ts.isPropertyAccessExpression(node)) return
        if (node.name.text !== 'skip' && node.name.text !== 'skipIf') return
        const chain = accessChain(node.expression)
        if (chain === null || !TEST_ROOTS.has(chain[0] as string)) return
        // The contract suites pass each skip's required reason into the title.
        const call = node.parent
        const title =
          ts.isCallExpression(call) && call.expression === node ? call.arguments[0] : undefined
        if (title !== undefined && /\(skipped: /.test(title.getText(source.ast))) return
        const line = source.ast.getLineAndCharacterOfPosition(node.getStart(source.ast)).line
        let above = line - 1
        while (above >= 0 && (lines[above] as string).trim() === '') above--
        const previous = above >= 0 ? (lines[above] as string).trim() : ''
        if (previous.startsWith('//') || previous.endsWith('*/')) return
        offenders.push(where(source, node))
      })
    }
    expect(offenders).toEqual([])
  })
})

/** Every place a source reads `process.env` (`process.env`, `process['env']`, `{ env } = process`). */
function envReads(source: Source): string[] {
  const found: string[] = []
  const isProcess = (e: ts.Expression) =>
    (ts.isIdentifier(e) && e.text === 'process') ||
    // globalThis.process.env
    (ts.isPropertyAccessExpression(e) && e.name.text === 'process')
  eachNode(source.ast, (node) => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'env' &&
      isProcess(node.expression)
    ) {
      found.push(where(source, node))
    }
    if (
      ts.isElementAccessExpression(node) &&
      ts.isStringLiteral(node.argumentExpression) &&
      node.argumentExpression.text === 'env' &&
      isProcess(node.expression)
    ) {
      found.push(where(source, node))
    }
    if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer !== undefined &&
      isProcess(node.initializer) &&
      node.name.elements.some((el) => (el.propertyName ?? el.name).getText(source.ast) === 'env')
    ) {
      found.push(where(source, node))
    }
  })
  return found
}

describe('configuration is passed in, never read from the environment', () => {
  // Habit 4: only the process entry points read process.env; every module gets config passed in.
  const allowed = (path: string) => path === 'src/main.ts' || path.startsWith('src/cli/')

  it('reads process.env only in src/cli/ and src/main.ts', () => {
    const offenders = production.filter((s) => !allowed(s.path)).flatMap(envReads)
    expect(offenders).toEqual([])
  })
})

describe('the scanners see the code', () => {
  // Guards against a fitness test that passes because it scanned nothing.
  it('finds the known createCell() call and process.env read', () => {
    const calls = (source: Source | undefined, name: string) => {
      let found = 0
      if (source !== undefined) {
        eachNode(source.ast, (node) => {
          if (ts.isCallExpression(node) && accessChain(node.expression)?.at(-1) === name) found++
        })
      }
      return found
    }
    expect(
      calls(
        production.find((s) => s.path === 'src/data-centers.ts'),
        'createCell',
      ),
    ).toBeGreaterThan(0)
    expect(production.filter((s) => s.path.startsWith('src/cli/')).flatMap(envReads)).not.toEqual(
      [],
    )
    expect(production.length).toBeGreaterThan(20)
    expect(tests.length).toBeGreaterThan(5)
  })
})

// "Every object is encrypted at rest" has no off switch. The encryption benchmark needs a
// plaintext baseline, and builds it outside the product (bench/plaintext-at-rest/, a module hook
// loaded with `node --import` by bench/s3-bench.ts only). These checks keep it there: the only
// blob write of the product is the envelope's, the product never reaches into bench/, and no
// configuration key or SOVRA_* variable can ask for anything else. That a server started from
// configuration stores envelopes only (inline, blob and multipart; blob files and meta.sqlite)
// is shown end to end by test/integration/encryption.test.ts ("bytes at rest").
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { CONFIG_ENV_VARS, ConfigError, loadConfig } from '../../src/config/index.js'
import { eachNode, isTestFile, type Source, sourcesUnder, where } from './sources.js'

const production = sourcesUnder('src').filter((s) => !isTestFile(s.path))
/** The cell's storage seam: the one module that writes object bytes to a blob. */
const SEAM = 'src/cell/object-crypto.ts'

/** `a.b.c(...)` → `['a', 'b', 'c']`; null for anything that is not a plain access chain. */
function chainOf(node: ts.Expression): string[] | null {
  if (ts.isIdentifier(node)) return [node.text]
  if (node.kind === ts.SyntaxKind.ThisKeyword) return ['this']
  if (ts.isPropertyAccessExpression(node)) {
    const left = chainOf(node.expression)
    return left === null ? null : [...left, node.name.text]
  }
  return null
}

/** Every `….blob.write(…)` call of a source (a cell's blob store, however it is reached). */
function blobWrites(source: Source): ts.CallExpression[] {
  const calls: ts.CallExpression[] = []
  eachNode(source.ast, (node) => {
    if (!ts.isCallExpression(node)) return
    const chain = chainOf(node.expression)
    if (chain !== null && chain.length >= 2 && chain.slice(-2).join('.') === 'blob.write') {
      calls.push(node)
    }
  })
  return calls
}

describe('encryption at rest cannot be turned off', () => {
  it('writes object bytes to a blob only in the storage seam, and only what sealEnvelope made', () => {
    const offenders = production
      .filter((s) => s.path !== SEAM)
      .flatMap((s) => blobWrites(s).map((call) => where(s, call)))
    expect(offenders).toEqual([])

    const seam = production.find((s) => s.path === SEAM) as Source
    const calls = blobWrites(seam)
    expect(calls).toHaveLength(1)
    // Its source is a variable that is only ever assigned a sealEnvelope(...) generator.
    const arg = calls[0]?.arguments[0] as ts.Expression
    expect(ts.isIdentifier(arg)).toBe(true)
    const name = (arg as ts.Identifier).text
    const assigned: string[] = []
    eachNode(seam.ast, (node) => {
      if (
        ts.isBinaryExpression(node) &&
        node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isIdentifier(node.left) &&
        node.left.text === name
      ) {
        assigned.push(node.right.getText(seam.ast).split('(')[0] as string)
      }
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
        if (node.initializer !== undefined) {
          assigned.push(node.initializer.getText(seam.ast).split('(')[0] as string)
        }
      }
    })
    expect(assigned).toEqual(['sealEnvelope'])
  })

  it('never imports from bench/ (where the plaintext baseline lives)', () => {
    const offenders: string[] = []
    for (const source of production) {
      eachNode(source.ast, (node) => {
        const spec =
          (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
          node.moduleSpecifier !== undefined &&
          ts.isStringLiteral(node.moduleSpecifier)
            ? node.moduleSpecifier.text
            : ts.isCallExpression(node) &&
                node.expression.kind === ts.SyntaxKind.ImportKeyword &&
                node.arguments[0] !== undefined &&
                ts.isStringLiteral(node.arguments[0])
              ? node.arguments[0].text
              : null
        if (spec !== null && /(^|\/)bench\/|plaintext-at-rest/.test(spec)) {
          offenders.push(`${where(source, node)} imports "${spec}"`)
        }
      })
    }
    expect(offenders).toEqual([])
  })

  it('has no configuration key or SOVRA_* variable for it, and refuses any that looks like one', () => {
    expect(
      CONFIG_ENV_VARS.filter((name) => /ENCRYPT|PLAINTEXT|CIPHER|ENVELOPE/.test(name)),
    ).toEqual([])
    const keys: string[] = []
    const walk = (value: unknown, path: string): void => {
      if (value === null || typeof value !== 'object') return
      for (const [k, v] of Object.entries(value)) {
        keys.push(`${path}${k}`)
        walk(v, `${path}${k}.`)
      }
    }
    walk(loadConfig({ env: {} }), '')
    expect(keys.filter((k) => /encrypt|plaintext|cipher|envelope/i.test(k))).toEqual([])
    for (const name of [
      'SOVRA_ENCRYPTION',
      'SOVRA_ENCRYPTION_ENABLED',
      'SOVRA_PLAINTEXT',
      'SOVRA_AT_REST',
    ]) {
      let err: unknown
      try {
        loadConfig({ env: { [name]: 'off' } })
      } catch (e) {
        err = e
      }
      expect(err, name).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).code, name).toBe('UnknownEnvironmentVariable')
    }
  })
})

describe("the benchmark's plaintext seam", () => {
  it('exports every value the real seam exports, so a server started with the hook can link', () => {
    const seam = production.find((s) => s.path === SEAM) as Source
    const real = seam.ast.statements
      .filter(
        (s): s is ts.FunctionDeclaration | ts.VariableStatement =>
          (ts.isFunctionDeclaration(s) || ts.isVariableStatement(s)) &&
          (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword),
      )
      .flatMap((s) =>
        ts.isFunctionDeclaration(s)
          ? [s.name?.text ?? '']
          : s.declarationList.declarations.map((d) => d.name.getText(seam.ast)),
      )
    const bench = readFileSync('bench/plaintext-at-rest/object-crypto.mjs', 'utf8')
    const offered = [...bench.matchAll(/^export (?:async function|function|const) (\w+)/gm)].map(
      (m) => m[1],
    )
    expect(real.length).toBeGreaterThan(0)
    expect(real.filter((name) => !offered.includes(name))).toEqual([])
  })
})

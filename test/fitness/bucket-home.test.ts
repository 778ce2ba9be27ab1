// docs/residency.md: a bucket's home changes only by a `migrate` the customer signed. The
// directory has one statement that changes a bucket's data center (in `moveBucketHome`), and
// only the transfer gate's job calls it; no admin route, CLI command or S3 endpoint can. This
// syntax-tree check keeps it so, and is shown to fail on a deliberate violation.
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { eachNode, isTestFile, type Source, sourcesUnder, where } from './sources.js'

/** Where `source` calls `moveBucketHome(…)` (as a method of anything). */
function callsOfMoveBucketHome(source: Source): string[] {
  const found: string[] = []
  eachNode(source.ast, (node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'moveBucketHome'
    ) {
      found.push(where(source, node))
    }
  })
  return found
}

/** Where `source` holds SQL that rewrites a bucket's data center. */
function homeRewrites(source: Source): string[] {
  const found: string[] = []
  eachNode(source.ast, (node) => {
    if (
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) &&
      /UPDATE\s+buckets\s+SET[^;]*\bdc_id\b/i.test(node.text)
    ) {
      found.push(where(source, node))
    }
  })
  return found
}

describe("a bucket's home moves only through the transfer gate", () => {
  const production = sourcesUnder('src').filter((s) => !isTestFile(s.path))

  it('only the transfer runner calls moveBucketHome, and the directory rewrites dc_id in one place', () => {
    const callers = production.flatMap(callsOfMoveBucketHome).map((w) => w.split(':')[0])
    expect([...new Set(callers)]).toEqual([
      'src/directory/sqlite-directory.ts', // delegates to its transfer store
      'src/residency/transfer/transfer-runner.ts',
    ])
    const rewrites = production.flatMap(homeRewrites).map((w) => w.split(':')[0])
    expect(rewrites).toEqual(['src/directory/sqlite-transfer-store.ts'])
  })

  it('the check catches a deliberate violation', () => {
    const bad: Source = {
      path: 'src/admin-api/routes/bad.ts',
      ast: ts.createSourceFile(
        'bad.ts',
        "await deps.directory.moveBucketHome('b', 'us-west-1', 'us-east-1')\nconst sql = 'UPDATE buckets SET dc_id = ? WHERE name = ?'",
        ts.ScriptTarget.Latest,
        true,
      ),
    }
    expect(callsOfMoveBucketHome(bad)).toHaveLength(1)
    expect(homeRewrites(bad)).toHaveLength(1)
  })
})

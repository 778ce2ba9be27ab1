// Runs the type checker and every Vitest project, then prints the one line CI reads:
// "N passed, N failed". Vitest's own summary is not a format CI understands.
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'

const results = '.test-results.json'
rmSync(results, { force: true })

const tsc = spawnSync('npx', ['tsc', '--noEmit'], { stdio: 'inherit' })
// Lint and layer rules (Biome, dependency-cruiser) count as one check each.
const lint = spawnSync('npm', ['run', 'lint', '--silent'], { stdio: 'inherit' })
const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' })
const vitest = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${results}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
)

let passed = 0
let failed = 0
try {
  const report = JSON.parse(readFileSync(results, 'utf8'))
  passed = report.numPassedTests
  failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0)
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && suite.assertionResults.length === 0) failed += 1
  }
} catch {
  failed += 1
}
if (tsc.status !== 0) failed += 1
if (lint.status !== 0) failed += 1
if (build.status !== 0) failed += 1
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && vitest.status === 0 ? 0 : 1)

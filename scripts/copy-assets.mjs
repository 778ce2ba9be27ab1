// Copies non-TypeScript files the server reads at run time (SQL migrations, export rules) into
// dist/, first removing copies whose source is gone: a renamed migration must not linger in
// dist/ and be applied under its old number.
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

const isAsset = (path) =>
  path.endsWith('.sql') || (path.endsWith('.json') && path.includes('export-rules'))

function prune(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) prune(path)
    else if (isAsset(path) && !existsSync(path.replace(/^dist/, 'src'))) rmSync(path)
  }
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (isAsset(path)) cpSync(path, path.replace(/^src/, 'dist'))
  }
}
if (existsSync('dist')) prune('dist')
if (existsSync('src')) walk('src')

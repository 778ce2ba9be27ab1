// Copies non-TypeScript files the server reads at run time (SQL migrations) into dist/.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.sql') || (name.endsWith('.json') && path.includes('export-rules')))
      cpSync(path, path.replace(/^src/, 'dist'))
  }
}
if (existsSync('src')) walk('src')

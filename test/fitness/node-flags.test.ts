import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverNodeFlags } from '../../bench/server-node-flags.js'

// Sovra's server runs with V8 flags that only the command line can set (src/cli/bin.ts says
// why). They live on the bin's shebang line; `npm start` and the benchmarks must pass the same.
const ROOT = join(import.meta.dirname, '..', '..')

describe('node flags of the server', () => {
  const flags = serverNodeFlags(join(ROOT, 'src', 'cli', 'bin.ts'))
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }

  it('are on the bin shebang line, through env -S', () => {
    // V8's old-generation floor keeps the transfer gate out of back-to-back full GCs and bounds
    // the garbage the server holds (docs/benchmarks.md, S3 section, RSS).
    expect(flags.some((f) => /^--initial-old-space-size=\d+$/.test(f))).toBe(true)
  })

  it('are passed by npm start', () => {
    expect(pkg.scripts.start).toBe(`node ${flags.join(' ')} dist/cli/bin.js serve`)
  })

  it('are passed to the benchmarks that run the server in their own process', () => {
    for (const name of ['bench:transfer', 'bench:keys']) {
      expect(pkg.scripts[name]).toMatch(new RegExp(`^node ${flags.join(' ')} --import tsx bench/`))
    }
  })
})

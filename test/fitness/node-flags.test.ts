import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverNodeFlags } from '../../bench/server-node-flags.js'

// Sovra's server runs with a V8 flag that only the command line can set (src/cli/bin.ts says
// why). It lives on the bin's shebang line; `npm start` and the benchmarks must pass the same.
const ROOT = join(import.meta.dirname, '..', '..')

describe('node flags of the server', () => {
  const flags = serverNodeFlags(join(ROOT, 'src', 'cli', 'bin.ts'))

  it('are on the bin shebang line, through env -S', () => {
    expect(flags).toContain('--initial-old-space-size=256')
  })

  it('are passed by npm start', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts.start).toBe(`node ${flags.join(' ')} dist/cli/bin.js serve`)
  })

  it('are passed to the benchmarks that run the server in their own process', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    for (const name of ['bench:transfer', 'bench:keys']) {
      expect(pkg.scripts[name]).toMatch(new RegExp(`^node ${flags.join(' ')} --import tsx bench/`))
    }
  })
})

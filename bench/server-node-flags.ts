import { readFileSync } from 'node:fs'

/**
 * The node flags Sovra's server runs with, read from the bin's shebang line
 * (`#!/usr/bin/env -S node FLAGS`), so that a benchmark starting `node … dist/cli/bin.js serve`
 * runs the server exactly as `sovra serve` and `npm start` do.
 */
export function serverNodeFlags(binPath: string): string[] {
  const first = readFileSync(binPath, 'utf8').split('\n', 1)[0] ?? ''
  const m = /^#!\/usr\/bin\/env -S node((?: --[^\s]+)*)$/.exec(first)
  if (m === null) throw new Error(`${binPath}: no "#!/usr/bin/env -S node [flags]" line`)
  return (m[1] ?? '').trim().split(/\s+/).filter(Boolean)
}

import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A `sovra keyd serve` child process, its URL and everything it printed so far. */
export interface KeydProcess {
  readonly url: string
  readonly child: ChildProcess
  output(): string
}

/** Spawns `sovra keyd serve --config <configFile>` from the sources; resolves once it listens. */
export async function spawnKeyd(configFile: string): Promise<KeydProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'keyd', 'serve', '--config', configFile],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`keyd printed no URL in 30 s: ${out}`)), 30_000)
    child.stdout?.on('data', () => {
      const m = /keyd listening on (http:\/\/\S+) /.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        ok(m[1] as string)
      }
    })
    child.on('exit', (code) => fail(new Error(`keyd exited ${code}: ${out}`)))
  })
  return { url, child, output: () => out }
}

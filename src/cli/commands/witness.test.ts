import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ed25519Signer,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatSignerKey,
  openNote,
  parseSignerKey,
  rootFromLeafHashes,
  signNote,
  verifierFromKey,
} from '../../ledger/index.js'
import type { CliIo, CliProcess } from '../cli-io.js'
import { runCli } from '../index.js'

const ORIGIN = 'sovra.test/ledger/dc1'
const SEED = new Uint8Array(32).fill(5)
const LOG_VKEY = parseSignerKey(formatSignerKey(ORIGIN, SEED)).vkey

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sovra-witness-cli-'))
  dirs.push(dir)
  return dir
}

async function run(args: string[], extra: Partial<CliIo> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
    ...extra,
  })
  return { code, stdout, stderr }
}

describe('sovra witness', () => {
  it('serve prints its URL and verifier key, cosigns, and stops on SIGTERM; key prints the same key', async () => {
    const state = temp()
    const keysFile = join(temp(), 'logs.txt')
    writeFileSync(keysFile, `# the logs this witness watches\n${LOG_VKEY}\n`)
    const handlers = new Map<string, () => void>()
    const exits: number[] = []
    const proc: CliProcess = {
      on: (signal, handler) => handlers.set(signal, handler),
      exit: (code) => {
        exits.push(code)
      },
    }
    const served = await run(
      ['witness', 'serve', '--state', state, '--log', keysFile, '--port', '0', '--name', 'w.test'],
      { process: proc },
    )
    expect(served.code).toBe(0)
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(served.stdout)?.[1] as string
    const vkey = /Verifier key \(created now\): (\S+)\n/.exec(served.stdout)?.[1] as string
    expect(served.stdout).toContain(`Witnessing: ${ORIGIN}\n`)
    expect(vkey).toMatch(/^w\.test\+[0-9a-f]{8}\+/)

    const note = signNote(
      formatCheckpoint({
        origin: ORIGIN,
        size: 1n,
        root: rootFromLeafHashes([new Uint8Array(32)]),
        extensions: [],
      }),
      [ed25519Signer({ name: ORIGIN, seed: SEED })],
    )
    const res = await fetch(`${url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: note }),
    })
    expect(res.status).toBe(200)
    const cosigned = openNote(note + (await res.text()), [
      verifierFromKey(LOG_VKEY),
      verifierFromKey(vkey),
    ])
    expect(cosigned.verified.map((s) => s.name)).toEqual([ORIGIN, 'w.test'])

    handlers.get('SIGTERM')?.()
    await expect.poll(() => exits).toEqual([0])
    await expect(fetch(`${url}/add-checkpoint`)).rejects.toThrow()

    const key = await run(['witness', 'key', '--state', state])
    expect(key.stdout).toBe(`${vkey}\n`)
    const json = await run(['witness', 'key', '--state', state, '--json'])
    expect(JSON.parse(json.stdout)).toEqual({ name: 'w.test', verifierKey: vkey })
  })

  it('key fails before the first serve; serve needs --state and --log', async () => {
    const none = await run(['witness', 'key', '--state', temp()])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^sovra: Cannot read the witness key in ".*": none yet/)
    expect((await run(['witness', 'serve', '--state', temp()])).code).toBe(2)
    expect((await run(['witness', 'serve', '--log', LOG_VKEY])).code).toBe(2)
    const badPort = await run([
      'witness',
      'serve',
      '--state',
      temp(),
      '--log',
      LOG_VKEY,
      '--port',
      'x',
    ])
    expect(badPort.code).toBe(2)
  })
})

// `sovra witness serve` as an operator runs it: a child process running the CLI entry point
// (through tsx, so no build is needed), killed with SIGTERM and with SIGKILL. What it cosigned
// before a kill -9 is remembered after the restart.
import { type ChildProcess, spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ed25519Signer,
  formatAddCheckpointRequest,
  formatCheckpoint,
  formatSignerKey,
  leafHash,
  parseSignerKey,
  rootFromLeafHashes,
  signNote,
} from '../../src/ledger/index.js'
import { tempDir } from '../support/tmp.js'

const ROOT = resolve(import.meta.dirname, '../..')
const ORIGIN = 'sovra.test/ledger/spawned'
const SEED = new Uint8Array(32).fill(8)
const LOG_VKEY = parseSignerKey(formatSignerKey(ORIGIN, SEED)).vkey
const state = tempDir('sovra-witness-cli-')
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  state.remove()
})

/** Spawns `sovra witness serve` and resolves once it printed its URL. */
async function spawnWitness(): Promise<{ child: ChildProcess; url: string; stdout: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/bin.ts'),
      'witness',
      'serve',
      '--state',
      join(state.path, 'w'),
      '--log',
      LOG_VKEY,
      '--port',
      '0',
      '--name',
      'spawned.test/w',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  children.push(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no URL after 30 s: ${out}${err}`)), 30_000)
    const check = () => {
      const m = /listening on (http:\/\/\S+) /.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        ok(m[1] as string)
      }
    }
    child.stdout?.on('data', check)
    child.on('exit', (code) => fail(new Error(`exited ${code}: ${out}${err}`)))
  })
  return { child, url, stdout: () => out }
}

function checkpoint(size: number): string {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`e${i}`)))
  return signNote(
    formatCheckpoint({
      origin: ORIGIN,
      size: BigInt(size),
      root: rootFromLeafHashes(leaves),
      extensions: [],
    }),
    [ed25519Signer({ name: ORIGIN, seed: SEED })],
  )
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) ok(child.exitCode)
    else child.on('exit', (code) => ok(code))
  })

describe('sovra witness serve (child process)', () => {
  it('cosigns, survives kill -9 with its state, and exits 0 on SIGTERM', async () => {
    const first = await spawnWitness()
    expect(first.stdout()).toMatch(/Verifier key \(created now\): spawned\.test\/w\+/)
    const res = await fetch(`${first.url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: checkpoint(3) }),
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toMatch(/^— spawned\.test\/w \S+\n$/)
    first.child.kill('SIGKILL')
    await exited(first.child)

    const second = await spawnWitness()
    expect(second.stdout()).toMatch(/Verifier key: spawned\.test\/w\+/)
    // It still knows size 3: a log that thinks it is new gets a 409 with that size.
    const stale = await fetch(`${second.url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: checkpoint(3) }),
    })
    expect(stale.status).toBe(409)
    expect(await stale.text()).toBe('3\n')
    second.child.kill('SIGTERM')
    expect(await exited(second.child)).toBe(0)
  })
})

import { readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { atomicWrite, createFileOnce } from '../core/index.js'

/** Lock file of a witness state folder: the id of the process that owns it. */
export const WITNESS_LOCK_FILE = 'witness.lock'

/** State folders this process holds. */
const held = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the state folder for this process: one witness per folder, because the state file's
 * old-size check is atomic only within one process (two would let a checkpoint roll back). A
 * lock left by a process that is gone (`kill -9`) is taken over. Resolves with the release.
 */
export async function lockStateDir(stateDir: string): Promise<() => Promise<void>> {
  const dir = resolve(stateDir)
  const path = join(dir, WITNESS_LOCK_FILE)
  const busy = (owner: string) =>
    new Error(`Cannot use witness state "${dir}": ${owner} is already using it`)
  if (held.has(dir)) throw busy('this process')
  const mine = `${process.pid}\n`
  const owner = await createFileOnce(path, mine, { dirMode: 0o700 })
  if (owner !== mine) {
    const pid = Number(owner.trim())
    if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) throw busy(`process ${pid}`)
    await atomicWrite(path, mine)
    if ((await readFile(path, 'utf8')) !== mine) throw busy('another process')
  }
  held.add(dir)
  return async () => {
    held.delete(dir)
    await rm(path, { force: true })
  }
}

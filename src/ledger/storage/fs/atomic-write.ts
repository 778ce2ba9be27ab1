import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Writes `bytes` to `path` so that after a crash the path holds either the old or the new bytes,
 * never a torn mix: temp file in the same folder → write → fsync → rename over `path` → fsync the
 * folder (so the rename itself is durable). Creates missing folders, fsyncing each new one into
 * its parent.
 */
export async function atomicWrite(
  path: string,
  bytes: Uint8Array,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  options.signal?.throwIfAborted()
  const dir = dirname(path)
  await ensureDir(dir)
  const tmp = join(dir, `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`)
  const handle = await open(tmp, 'wx', 0o600).catch(async (error: NodeJS.ErrnoException) => {
    // The folder was removed behind the per-process cache: make it again, once.
    if (error.code !== 'ENOENT') throw error
    made.delete(dir)
    await ensureDir(dir)
    return open(tmp, 'wx', 0o600)
  })
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(tmp, { force: true })
    throw error
  }
  await handle.close()
  try {
    options.signal?.throwIfAborted()
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
  await fsyncDir(dir)
}

/** fsyncs a folder so the names created, renamed or removed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const made = new Set<string>()
/** `mkdir -p` that fsyncs each folder it creates into its parent (cached per process). */
export async function ensureDir(dir: string): Promise<void> {
  if (made.has(dir)) return
  const first = await mkdir(dir, { recursive: true })
  if (first !== undefined) {
    // Every folder from `first` down to `dir` is new: fsync each into its parent.
    let at = dir
    const chain: string[] = []
    while (at.length >= first.length) {
      chain.push(at)
      at = dirname(at)
    }
    for (const d of chain) await fsyncDir(dirname(d))
  }
  made.add(dir)
}

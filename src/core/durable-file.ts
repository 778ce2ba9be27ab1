import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Options of the durable writes: an abort signal, and the mode of folders they create. */
export interface DurableWriteOptions {
  readonly signal?: AbortSignal | undefined
  /** Mode of missing folders created on the way (default 0o777 minus umask; keys use 0o700). */
  readonly dirMode?: number
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
export async function ensureDir(
  dir: string,
  options: { readonly mode?: number } = {},
): Promise<void> {
  if (made.has(dir)) return
  const first = await mkdir(dir, {
    recursive: true,
    ...(options.mode === undefined ? {} : { mode: options.mode }),
  })
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

/** Writes a 0600 temp file beside `path` and fsyncs it; returns its name. */
async function writeTemp(
  path: string,
  data: Uint8Array | string,
  options: DurableWriteOptions,
): Promise<string> {
  const dir = dirname(path)
  const dirOptions = options.dirMode === undefined ? {} : { mode: options.dirMode }
  await ensureDir(dir, dirOptions)
  const tmp = join(dir, `.tmp-${basename(path)}-${randomBytes(6).toString('hex')}`)
  const handle = await open(tmp, 'wx', 0o600).catch(async (error: NodeJS.ErrnoException) => {
    // The folder was removed behind the per-process cache: make it again, once.
    if (error.code !== 'ENOENT') throw error
    made.delete(dir)
    await ensureDir(dir, dirOptions)
    return open(tmp, 'wx', 0o600)
  })
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(tmp, { force: true })
    throw error
  }
  await handle.close()
  return tmp
}

/**
 * Writes `data` to `path` so that after a crash the path holds either the old or the new bytes,
 * never a torn mix: temp file (0600) in the same folder → fsync → rename over `path` → fsync the
 * folder (so the rename itself is durable). Creates missing folders, fsyncing each into its parent.
 */
export async function atomicWrite(
  path: string,
  data: Uint8Array | string,
  options: DurableWriteOptions = {},
): Promise<void> {
  options.signal?.throwIfAborted()
  const tmp = await writeTemp(path, data, options)
  try {
    options.signal?.throwIfAborted()
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
  await fsyncDir(dirname(path))
}

/**
 * Creates `path` only if it does not exist (temp → fsync → link → fsync folder), so two
 * processes racing to create it agree on one content. Returns the content that won.
 */
export async function createFileOnce(
  path: string,
  data: string,
  options: DurableWriteOptions = {},
): Promise<string> {
  const tmp = await writeTemp(path, data, options)
  try {
    await link(tmp, path)
    await fsyncDir(dirname(path))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    await unlink(tmp)
  }
  return readFile(path, 'utf8')
}

/** Reads a file as UTF-8, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Removes a file durably (unlink → fsync folder); false when it did not exist. */
export async function removeDurably(path: string): Promise<boolean> {
  try {
    await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  await fsyncDir(dirname(path))
  return true
}

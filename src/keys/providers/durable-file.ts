import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

/** fsyncs a folder so a rename, link or unlink in it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function writeTemp(path: string, data: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(data, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  return tmp
}

/** Replaces `path` atomically: temp file (0600) → fsync → rename → fsync folder. */
export async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = await writeTemp(path, data)
  try {
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => undefined)
    throw err
  }
  await fsyncDir(dirname(path))
}

/**
 * Creates `path` only if it does not exist (temp → fsync → link → fsync folder), so two
 * processes racing to create it agree on one content. Returns the content that won.
 */
export async function createFileOnce(path: string, data: string): Promise<string> {
  const tmp = await writeTemp(path, data)
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

/** Reads a file, or undefined when it does not exist. */
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

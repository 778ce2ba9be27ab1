import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Checkpoint, parseCheckpoint, parseNote } from '../../ledger/index.js'

/**
 * What a monitor remembers between runs: the last checkpoint it accepted for each log origin,
 * as the signed note, in `<state>/<url-encoded origin>.checkpoint`. The next run must see a tree
 * consistent with it, which is what catches a log that shows different histories over time.
 */
export interface SavedCheckpoint {
  readonly file: string
  readonly note: string
  readonly checkpoint: Checkpoint
}

function fileOf(stateDir: string, origin: string): string {
  return join(stateDir, `${encodeURIComponent(origin)}.checkpoint`)
}

/** The last accepted checkpoint of `origin`, or undefined on a monitor's first run. */
export async function loadSeen(
  stateDir: string,
  origin: string,
): Promise<SavedCheckpoint | undefined> {
  const file = fileOf(stateDir, origin)
  let note: string
  try {
    note = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let checkpoint: Checkpoint
  try {
    checkpoint = parseCheckpoint(parseNote(note).text)
  } catch (err) {
    throw new Error(
      `Cannot read the saved checkpoint "${file}": ${(err as Error).message}; remove it to start monitoring afresh`,
    )
  }
  if (checkpoint.origin !== origin) {
    throw new Error(`Cannot use the saved checkpoint "${file}": it is for "${checkpoint.origin}"`)
  }
  return { file, note, checkpoint }
}

/** Records `note` as the last accepted checkpoint of `origin` (temp file, then rename). */
export async function saveSeen(stateDir: string, origin: string, note: string): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  const file = fileOf(stateDir, origin)
  const temp = `${file}.tmp-${process.pid}`
  await writeFile(temp, note, { mode: 0o600 })
  await rename(temp, file)
  return file
}
